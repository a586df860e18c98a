"""Quick contact as a salesperson uses it: a call logged from the list and from the client page,
WhatsApp at hand, the grouped client form, the list on a phone."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Client, FollowUp, Interaction
from clients.tests.factories import CategoryFactory, ClientFactory
from segmentation.services import alert_refresh_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comercial_logs_a_call_from_the_list_in_one_step_and_the_row_changes_colour(live_server, login, owner):
    owner.language = "en"  # the login speaks the user's stored language
    owner.save(update_fields=["language"])
    record = ClientFactory(owner=owner, first_name="Lara", last_name="Mendes", phone="(21) 99876-5432", country="BR")
    overdue = FollowUp.objects.create(client=record, assigned_to=owner, kind="call", due_at=timezone.now() - dt.timedelta(days=2))
    alert_refresh_client(record.pk)
    page = login(owner)
    page.goto(f"{live_server.url}/clients/")

    row = page.locator(f'tr[data-client="{record.pk}"]')
    expect(row.get_by_test_id("alert-dot")).to_have_attribute("data-alert", "red")
    whatsapp = row.get_by_test_id("whatsapp-link")
    expect(whatsapp).to_have_attribute("href", "https://wa.me/5521998765432")
    expect(whatsapp).to_have_attribute("target", "_blank")
    expect(whatsapp).to_have_attribute("rel", "noopener")
    expect(row.get_by_test_id("tel-link")).to_have_attribute("href", "tel:+5521998765432")

    row.get_by_test_id("quick-call").click()
    dialog = page.get_by_test_id("quick-call-modal")
    form = dialog.get_by_test_id("quick-call-form")
    expect(form).to_be_visible()
    assert page.url == f"{live_server.url}/clients/"  # in place: the list stays
    expect(form.get_by_test_id("due-followup")).to_be_visible()
    expect(form.get_by_label("Complete it with this call")).to_be_checked()
    form.get_by_label("Outcome").select_option("interested")
    form.get_by_label("Summary").fill("Wants the new range; call back Thursday.")
    call_back = timezone.localdate() + dt.timedelta(days=2)
    form.get_by_label("Call back on").fill(call_back.isoformat())
    form.get_by_label("At", exact=True).fill("10:15")
    form.get_by_role("button", name="Save the call").click()

    done = dialog.get_by_test_id("quick-call-done")
    expect(done).to_contain_text("Interested")
    expect(done.get_by_test_id("followup-completed")).to_be_visible()
    expect(done.get_by_test_id("call-back-scheduled")).to_be_visible()
    expect(row.get_by_test_id("alert-dot")).to_have_attribute("data-alert", "yellow")  # no reload
    done.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    call = Interaction.objects.get(client=record)
    assert (call.kind, call.outcome, call.user) == ("call", "interested", owner)
    overdue.refresh_from_db()
    assert overdue.status == "done" and overdue.closed_by == call
    booked = FollowUp.objects.get(client=record, status="pending")
    assert timezone.localtime(booked.due_at) == timezone.make_aware(dt.datetime.combine(call_back, dt.time(10, 15)))


def test_comercial_logs_a_call_from_the_client_page_and_sees_it_in_the_timeline(live_server, login, owner):
    record = ClientFactory(owner=owner, first_name="Tomás", last_name="Herrero", phone="612 34 56 78", country="ES")
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}")
    whatsapp = page.get_by_test_id("client-phone").get_by_test_id("whatsapp-link")
    expect(whatsapp).to_have_attribute("href", "https://wa.me/34612345678")
    expect(whatsapp).to_have_attribute("rel", "noopener")

    page.get_by_test_id("quick-actions").get_by_test_id("quick-call").click()
    form = page.get_by_test_id("quick-call-modal").get_by_test_id("quick-call-form")
    expect(form).to_be_visible()
    form.locator("select[name=outcome]").select_option("call_back")
    form.locator("input[name=summary]").fill("Está de viaje; llamar a la vuelta.")
    form.locator("input[name=call_back_on]").fill((timezone.localdate() + dt.timedelta(days=7)).isoformat())
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("timeline")).to_contain_text("llamar a la vuelta")  # the page reloaded
    expect(page.get_by_test_id("pending-followups")).to_contain_text("Llamada")
    assert Interaction.objects.get(client=record).outcome == "call_back"
    assert FollowUp.objects.filter(client=record, status="pending", kind="call").count() == 1


def test_the_grouped_client_form_saves_with_interests_ticked(live_server, login, owner):
    CategoryFactory(name="Vinos"), CategoryFactory(name="Quesos"), CategoryFactory(name="Aceites")
    page = login(owner)
    page.goto(f"{live_server.url}/clients/new/")
    expect(page.get_by_test_id("client-fieldset")).to_have_count(4)
    page.fill("input[name=first_name]", "Nuria")
    page.fill("input[name=last_name]", "Sastre")
    page.fill("input[name=phone]", "+351 912 345 678")
    interests = page.get_by_test_id("interests")
    interests.get_by_label("Vinos").check()  # checkboxes: no Ctrl-click
    interests.get_by_label("Aceites").check()
    page.get_by_role("button", name="Guardar").click()

    expect(page.get_by_test_id("client-name")).to_contain_text("Nuria Sastre")
    nuria = Client.objects.get(last_name="Sastre")
    assert sorted(nuria.interests.values_list("name", flat=True)) == ["Aceites", "Vinos"]
    expect(page.get_by_test_id("client-phone").get_by_test_id("whatsapp-link")).to_have_attribute(
        "href", "https://wa.me/351912345678",
    )


def test_the_list_on_a_phone_shows_name_status_and_colour_first(live_server, login, owner):
    record = ClientFactory(owner=owner, first_name="Beatriz", last_name="Queiroz", city="Oporto", status="active")
    FollowUp.objects.create(client=record, assigned_to=owner, kind="call", due_at=timezone.now() - dt.timedelta(days=1))
    alert_refresh_client(record.pk)
    page = login(owner)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/clients/")

    row = page.locator(f'tr[data-client="{record.pk}"]')
    dot, name = row.get_by_test_id("alert-dot"), row.get_by_role("link", name="Beatriz Queiroz")
    status = row.locator("td").filter(has_text="Activo")
    for element in (dot, name, status):
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # on screen, no sideways scrolling
    expect(status).to_have_text("Activo")
    expect(row.get_by_text("Oporto")).to_be_hidden()  # the other columns wait for a wider screen
    expect(row.get_by_test_id("quick-call")).to_be_visible()
