"""A comercial types a wrong NIF in the client form, reads why, corrects it, and the client page shows
the phone as Spain writes it with a working tel: link (in English; then in Spanish, driven by the
fields' names so that it holds before and after the catalogues are compiled)."""

import pytest
from playwright.sync_api import expect

from clients.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comercial_corrects_a_wrong_nif_and_sees_the_phone_in_the_national_format(live_server, login, owner):
    owner.language = "en"
    owner.save(update_fields=["language"])
    page = login(owner)
    page.goto(f"{live_server.url}/clients/new/")
    page.fill("input[name=first_name]", "Lucía")
    page.fill("input[name=last_name]", "Gómez")
    page.get_by_label("Country").select_option("ES")
    page.fill("input[name=tax_id]", "54362315-Z")  # the DNI's letter is K
    page.fill("input[name=phone]", "0034 612-34-56-78")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#id_tax_id ~ .invalid-feedback")).to_have_text(
        "This is not a valid Spanish NIF, NIE or CIF: check its letters and digits."
    )
    assert not Client.objects.exists()
    expect(page.locator("input[name=phone]")).to_have_value("0034 612-34-56-78")  # what was typed is kept
    page.fill("input[name=tax_id]", "54362315-k")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("client-name")).to_contain_text("Lucía Gómez")
    created = Client.objects.get()
    assert (created.tax_id, created.phone) == ("54362315K", "+34612345678")
    tel = page.get_by_test_id("client-phone").get_by_test_id("tel-link")
    expect(tel).to_have_text("612 34 56 78")
    expect(tel).to_have_attribute("href", "tel:+34612345678")
    expect(page.get_by_test_id("client-tax-id")).to_have_text("54362315K")
    expect(page.get_by_test_id("client-country")).to_contain_text("Spain")


def test_a_spanish_comercial_sees_the_error_next_to_the_tax_id_and_a_brazilian_client_in_its_own_format(
    live_server, login, owner,
):
    page = login(owner)  # Spanish, the default language
    page.goto(f"{live_server.url}/clients/new/")
    page.fill("input[name=company_name]", "Padaria Estrela")
    page.locator("select[name=country]").select_option("BR")
    page.fill("input[name=tax_id]", "16.727.230/0001-98")  # wrong check digits
    page.fill("input[name=phone]", "(11) 98765-4321")
    page.locator("form.card button[type=submit]").first.click()  # Save, in whatever language

    # "CNPJ" is in the Spanish message and in the English msgid shown until it is translated.
    expect(page.locator("#id_tax_id ~ .invalid-feedback")).to_contain_text("CNPJ")
    page.fill("input[name=tax_id]", "16727230000197")
    page.locator("form.card button[type=submit]").first.click()  # Save, in whatever language

    expect(page.get_by_test_id("client-name")).to_contain_text("Padaria Estrela")
    expect(page.get_by_test_id("client-tax-id")).to_have_text("16.727.230/0001-97")
    expect(page.get_by_test_id("client-country")).to_contain_text("Brasil")
    tel = page.get_by_test_id("client-phone").get_by_test_id("tel-link")
    expect(tel).to_have_text("(11) 98765-4321")
    expect(tel).to_have_attribute("href", "tel:+5511987654321")
