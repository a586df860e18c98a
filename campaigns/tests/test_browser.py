import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import Campaign
from clients.models import FollowUp
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.segments import segment_create
from segmentation.services import lifecycle_recompute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def buyer(owner, name: str, days_ago: int):
    first, last = name.split()
    record = ClientFactory(owner=owner, first_name=first, last_name=last)
    PurchaseFactory(client=record, date=timezone.localdate() - dt.timedelta(days=days_ago), amount=Decimal("300"))
    return record


def test_gerente_launches_a_reactivation_call_campaign_and_the_calls_reach_the_agendas(
    live_server, login, manager, owner, teammate, outsider, browser,
):
    buyer(owner, "Ana Dormida", 150)
    buyer(teammate, "Bruno Dormido", 200)
    buyer(owner, "Carla Activa", 15)
    buyer(outsider, "Diego Ajeno", 180)  # dormant, but another team's
    lifecycle_recompute()
    segment_create(owner=manager, name="Dormidos del equipo", shared=False, query=QueryDict("status=dormant"))
    due = timezone.localdate() + dt.timedelta(days=2)
    page = login(manager)

    page.goto(f"{live_server.url}/campaigns/")
    page.get_by_role("link", name="Nueva campaña").click()
    page.fill("input[name=name]", "Recuperar dormidos")
    page.select_option("select[name=goal]", "reactivation")
    page.select_option("select[name=channel]", "phone")
    page.select_option("select[name=segment]", label="Dormidos del equipo")
    page.fill("input[name=followup_due]", due.isoformat())
    page.get_by_role("button", name="Guardar borrador").click()

    expect(page.get_by_test_id("campaign-name")).to_have_text("Recuperar dormidos")
    expect(page.get_by_test_id("audience-reachable")).to_have_text("2")
    page.get_by_test_id("launch").click()
    expect(page.get_by_test_id("result-scheduled")).to_have_text("2")
    assert Campaign.objects.get().state == Campaign.State.DONE
    calls = FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN)
    assert sorted(calls.values_list("client__first_name", "assigned_to__username")) == [
        ("Ana", owner.username), ("Bruno", teammate.username),
    ]

    # Each comercial finds their own call in the agenda's next days.
    for person, name, other in ((owner, "Ana Dormida", "Bruno Dormido"), (teammate, "Bruno Dormido", "Ana Dormida")):
        context = browser.new_context(locale="es-ES")
        own = context.new_page()
        own.goto(f"{live_server.url}/accounts/login/")
        own.fill("input[name=username]", person.username)
        own.fill("input[name=password]", "s3cret-pass-123")
        own.click("button[type=submit]")
        own.goto(f"{live_server.url}/agenda/")
        upcoming = own.get_by_test_id("agenda-upcoming")
        expect(upcoming).to_contain_text(name)
        expect(upcoming).not_to_contain_text(other)
        expect(upcoming).not_to_contain_text("Diego Ajeno")
        context.close()


def test_comercial_records_consent_sends_an_nps_survey_and_a_detractor_turns_red(live_server, login, owner, page):
    from django.core import mail

    from campaigns.models import Consent

    lucia = ClientFactory(owner=owner, first_name="Lucía", last_name="Pena", email="lucia@example.com", country="ES")
    ClientFactory(owner=owner, first_name="Sin", last_name="Permiso", email="no@example.com")
    segment_create(owner=owner, name="Mi cartera", shared=False, query=QueryDict(""))
    login(owner)

    # The client agreed to surveys at the counter: the comercial records it on her page.
    page.goto(f"{live_server.url}{lucia.get_absolute_url()}")
    page.get_by_test_id("consents").locator("xpath=..").locator("summary").click()
    form = page.get_by_test_id("consent-form")
    form.locator("select[name=purpose]").select_option("surveys")
    form.locator("select[name=granted]").select_option("yes")
    form.locator("select[name=source]").select_option("in_person")
    form.locator("input[name=evidence]").fill("Hoja firmada n.º 12")
    form.get_by_role("button", name="Registrar").click()
    expect(page.get_by_test_id("consent-surveys")).to_contain_text("Hoja firmada n.º 12")

    page.goto(f"{live_server.url}/campaigns/new/")
    page.fill("input[name=name]", "¿Qué tal lo hacemos?")
    page.select_option("select[name=goal]", "survey")
    page.select_option("select[name=channel]", "email")
    page.select_option("select[name=segment]", label="Mi cartera")
    page.fill("input[name=subject]", "{{ first_name }}, ¿nos recomendarías?")
    page.fill("textarea[name=body]", "Hola {{ first_name }}, soy {{ salesperson }}. {{ survey_link }}")
    page.get_by_role("button", name="Guardar borrador").click()

    expect(page.get_by_test_id("audience-reachable")).to_have_text("1")  # the other one never agreed
    expect(page.get_by_test_id("preview-subject")).to_have_text("Lucía, ¿nos recomendarías?")
    expect(page.get_by_test_id("preview-body")).to_contain_text("Hola Lucía, soy Comercial Test.")
    page.get_by_test_id("launch").click()
    expect(page.get_by_test_id("result-sent")).to_have_text("1")

    [message] = mail.outbox
    survey_url = next(word for word in message.body.split() if "/campaigns/survey/" in word)
    unsubscribe_url = message.extra_headers["List-Unsubscribe"].strip("<>")
    # The client answers from her mail, without a session: 3 out of 10.
    client_page = page.context.browser.new_context(locale="es-ES").new_page()
    client_page.goto(survey_url.replace("http://127.0.0.1:8000", live_server.url))
    client_page.locator("label[for=id_score_3]").click()
    client_page.fill("textarea[name=comment]", "Tardaron en entregar")
    client_page.get_by_role("button", name="Enviar").click()
    expect(client_page.get_by_test_id("survey-thanks")).to_be_visible()
    client_page.goto(unsubscribe_url.replace("http://127.0.0.1:8000", live_server.url))
    client_page.get_by_test_id("unsubscribe-one").click()  # opening the link alone changes nothing
    expect(client_page.get_by_test_id("unsubscribed")).to_contain_text("Encuestas")
    assert Consent.objects.get(client=lucia, purpose="surveys").granted is False

    page.goto(f"{live_server.url}{lucia.get_absolute_url()}")
    expect(page.locator("main")).to_contain_text("Tardaron en entregar")
    expect(page.locator("main")).to_contain_text("Respuesta descontenta")
    page.goto(f"{live_server.url}/agenda/")
    expect(page.locator("main")).to_contain_text("Lucía Pena")  # the call, today (or overdue just before midnight)
