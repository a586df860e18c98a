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


def test_comercial_completes_an_overdue_call_books_a_visit_and_the_colour_changes(live_server, login, owner):
    from segmentation.services import alert_refresh_client

    record = ClientFactory(owner=owner, first_name="Lucía", last_name="Ferreira")
    call = FollowUp.objects.create(
        client=record, assigned_to=owner, kind="call", due_at=timezone.now() - dt.timedelta(days=3),
    )
    alert_refresh_client(record.pk)
    page = login(owner)

    page.goto(f"{live_server.url}/agenda/")
    item = page.get_by_test_id("agenda-overdue").get_by_test_id("agenda-item").filter(has_text="Lucía Ferreira")
    expect(item.get_by_test_id("alert-dot")).to_have_attribute("data-alert", "red")
    expect(item).to_contain_text("Seguimiento vencido hace 3 días")
    overdue_count = page.get_by_test_id("agenda-overdue").get_by_test_id("count")
    upcoming_count = page.get_by_test_id("agenda-upcoming").get_by_test_id("count")
    expect(overdue_count).to_have_text("1")
    expect(upcoming_count).to_have_text("0")
    item.get_by_role("link", name="Completar").click()

    form = item.get_by_test_id("complete-form")  # swapped in place: the page did not change
    expect(form).to_be_visible()
    assert page.url == f"{live_server.url}/agenda/"
    form.get_by_label("Resultado").select_option("interested")
    form.get_by_label("Resumen").fill("Quiere ver la colección en su tienda.")
    visit_day = timezone.localdate() + dt.timedelta(days=1)
    form.get_by_label("Próximo paso", exact=True).select_option("visit")
    form.get_by_label("Fecha del próximo paso").fill(visit_day.isoformat())
    form.get_by_label("Hora del próximo paso").fill("11:30")
    form.get_by_role("button", name="Marcar como hecho").click()

    expect(item.get_by_test_id("done")).to_contain_text("Interesado")
    expect(item.get_by_test_id("next-scheduled")).to_contain_text("Visita")
    expect(item.get_by_test_id("alert-dot")).to_have_attribute("data-alert", "yellow")
    expect(overdue_count).to_have_text("0")  # the header counts follow without a reload
    expect(upcoming_count).to_have_text("1")
    call.refresh_from_db()
    assert call.status == "done" and call.closed_by.outcome == "interested"

    page.get_by_role("link", name="Lucía Ferreira").first.click()
    expect(page.get_by_test_id("client-name").get_by_test_id("alert-dot")).to_have_attribute("data-alert", "yellow")
    page.goto(f"{live_server.url}/agenda/?view=week")
    expect(page.locator(f'[data-date="{visit_day.isoformat()}"]')).to_contain_text("Lucía Ferreira")


def test_comercial_creates_a_private_calendar_link_that_works_without_a_session(live_server, login, owner, playwright):
    record = ClientFactory(owner=owner, first_name="Óscar", last_name="Lima")
    FollowUp.objects.create(client=record, assigned_to=owner, kind="visit", due_at=timezone.now() + dt.timedelta(days=2))
    page = login(owner)
    page.goto(f"{live_server.url}/agenda/")
    page.get_by_role("button", name="Crear un enlace privado").click()
    url = page.get_by_test_id("calendar-url").input_value()
    assert url.startswith(live_server.url) and url.endswith(".ics")

    anonymous = playwright.request.new_context()  # no cookies: what a calendar app does
    response = anonymous.get(url)
    assert response.status == 200 and response.headers["content-type"].startswith("text/calendar")
    assert "Óscar Lima" in response.text()

    page.get_by_role("button", name="Revocar").click()
    assert anonymous.get(url).status == 404
    anonymous.dispose()


def test_comercial_searches_the_list_and_downloads_exactly_those_clients(live_server, login, owner):
    ClientFactory(owner=owner, first_name="Irene", last_name="Quintana")
    ClientFactory(owner=owner, first_name="Paulo", last_name="Souza")
    page = login(owner)
    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("searchbox").fill("quintana")
    page.get_by_role("searchbox").press("Enter")
    expect(page.get_by_test_id("client-table")).not_to_contain_text("Souza")  # filtered in place by htmx

    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    body = open(download.path(), encoding="utf-8-sig").read()
    assert download.suggested_filename.endswith(".csv")
    assert "Quintana" in body and "Souza" not in body
    from django.utils import translation
    from django.utils.text import capfirst

    from clients.models import Client

    with translation.override("es"):  # the user's language: headers in Spanish, ';' as separator
        first_header = str(capfirst(Client._meta.get_field("client_ref").verbose_name))
    assert body.splitlines()[0].startswith(f"{first_header};")


def test_comercial_ticks_two_statuses_in_more_filters_and_sees_only_those(live_server, login, owner):
    ClientFactory(owner=owner, first_name="Dora", last_name="Dormida", status="dormant")
    ClientFactory(owner=owner, first_name="Berta", last_name="Baja", status="lost")
    ClientFactory(owner=owner, first_name="Álvaro", last_name="Activo", status="active")
    page = login(owner)
    page.goto(f"{live_server.url}/clients/")

    page.get_by_role("button", name="Más filtros").click()
    statuses = page.get_by_role("group", name="Estado")
    statuses.get_by_label("Dormido").check()  # checkboxes: several at once, no Ctrl-click
    statuses.get_by_label("Baja").check()
    page.get_by_role("button", name="Buscar").click()

    table = page.get_by_test_id("client-table")
    expect(table).to_contain_text("Dora Dormida")
    expect(table).to_contain_text("Berta Baja")
    expect(table).not_to_contain_text("Álvaro Activo")
    assert "status=dormant" in page.url and "status=lost" in page.url
