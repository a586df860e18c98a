import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import FollowUp, Interaction
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comercial_records_a_call_and_schedules_the_next_visit(live_server, login, owner):
    record = ClientFactory(owner=owner, first_name="Inés", last_name="Carvalho")
    page = login(owner)

    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("searchbox").fill("ines carvalho")
    page.get_by_role("searchbox").press("Enter")
    page.get_by_role("link", name="Inés Carvalho").click()
    expect(page.get_by_test_id("client-name")).to_contain_text("Inés Carvalho")

    page.get_by_test_id("quick-actions").get_by_role("link", name="Registrar una interacción").click()
    page.select_option("select[name=kind]", "call")
    page.fill("textarea[name=summary]", "Le interesa la gama nueva; quiere verla en persona.")
    page.select_option("select[name=outcome]", "interested")
    next_day = timezone.localdate() + dt.timedelta(days=2)
    page.select_option("select[name=next_kind]", "visit")
    page.fill("input[name=next_date]", next_day.isoformat())
    page.fill("input[name=next_time]", "11:00")
    page.get_by_role("button", name="Guardar").click()

    expect(page.get_by_text("Interacción registrada.")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("quiere verla en persona")
    expect(page.get_by_test_id("pending-followups")).to_contain_text("Visita")
    interaction = Interaction.objects.get(client=record)
    assert interaction.user == owner and interaction.kind == "call"
    visit = FollowUp.objects.get(client=record)
    assert visit.kind == "visit" and visit.assigned_to == owner
    assert timezone.localtime(visit.due_at) == timezone.make_aware(dt.datetime.combine(next_day, dt.time(11, 0)))


def test_bad_input_in_the_browser_keeps_what_was_typed(live_server, login, owner):
    record = ClientFactory(owner=owner, first_name="Rui", last_name="Costa")
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}purchases/new/")
    page.fill("input[name=amount]", "-10")
    page.fill("input[name=notes]", "pedido urgente")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("alert")).to_contain_text("No se ha guardado nada")
    expect(page.locator("input[name=notes]")).to_have_value("pedido urgente")
    assert not record.purchases.exists()


def test_gerente_reassigns_selected_clients_from_the_list(live_server, login, manager, owner, teammate):
    moving = ClientFactory(owner=owner, first_name="Marta", last_name="Alves")
    staying = ClientFactory(owner=owner, first_name="Nuno", last_name="Braga")
    page = login(manager)
    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("row", name="Marta Alves").get_by_role("checkbox").check()
    page.select_option("#reassign-owner", label=str(teammate))
    page.get_by_role("button", name="Reasignar").click()
    expect(page.get_by_role("alert")).to_contain_text("1 cliente reasignado a")
    moving.refresh_from_db()
    staying.refresh_from_db()
    assert moving.owner == teammate and staying.owner == owner
