import pytest
from playwright.sync_api import expect

from clients.models import Client
from clients.tests.factories import ClientFactory
from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_people_edit_one_client_the_second_is_told_and_the_gerente_reads_the_history(
    live_server, login, owner, manager, browser,
):
    record = ClientFactory(owner=owner, first_name="Marta", last_name="Vidal", city="Vigo", notes="")
    edit_url = f"{live_server.url}/clients/{record.pk}/edit/"
    page = login(owner)
    page.goto(edit_url)  # the comercial opens the form…

    other = browser.new_context(locale="es-ES").new_page()
    other.goto(f"{live_server.url}/accounts/login/")
    other.fill("input[name=username]", manager.username)
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    other.goto(edit_url)  # …the gerente too, and saves first
    other.fill("input[name=city]", "Ourense")
    other.get_by_role("button", name="Guardar").click()
    expect(other.locator("main")).to_contain_text("Ourense")

    page.fill("textarea[name=notes]", "Prefiere que la llamen por la tarde")
    page.get_by_role("button", name="Guardar").click()
    conflict = page.get_by_test_id("edit-conflict")
    expect(conflict).to_contain_text("Ourense")
    expect(conflict).to_contain_text(str(manager))
    expect(page.locator("textarea[name=notes]")).to_have_value("Prefiere que la llamen por la tarde")
    assert Client.objects.get(pk=record.pk).notes == ""  # nothing of the second save was written

    page.fill("input[name=city]", "Ourense")  # takes the other's change on board, saves knowingly
    page.get_by_role("button", name="Guardar").click()
    expect(page.locator("main")).to_contain_text("Prefiere que la llamen por la tarde")
    record.refresh_from_db()
    assert (record.city, record.notes) == ("Ourense", "Prefiere que la llamen por la tarde")

    other.goto(f"{live_server.url}{record.get_absolute_url()}")
    other.get_by_test_id("audit-history").locator("summary").click()
    history = other.get_by_test_id("history")
    expect(history).to_contain_text("Vigo")
    expect(history).to_contain_text("Prefiere que la llamen por la tarde")
