"""Follow-ups that move, as a comercial does it in the browser: in place, without leaving the page."""

import datetime as dt

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from clients.agenda import day_title
from clients.models import FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def booked(owner, due_at: dt.datetime, first_name: str, last_name: str, **fields) -> FollowUp:
    record = ClientFactory(owner=owner, first_name=first_name, last_name=last_name, company_name="")
    return FollowUpFactory(client=record, due_at=due_at, **fields)


def test_comercial_reschedules_an_overdue_call_from_the_agenda_in_place(live_server, login, owner):
    call = booked(owner, timezone.now() - dt.timedelta(days=2), "Lucía", "Ferreira")
    page = login(owner)
    page.goto(f"{live_server.url}/agenda/")
    item = page.get_by_test_id("agenda-overdue").get_by_test_id("agenda-item").filter(has_text="Lucía Ferreira")
    item.get_by_test_id("reschedule").click()

    form = item.get_by_test_id("followup-action-form")
    expect(form).to_be_visible()
    day = timezone.localdate() + dt.timedelta(days=3)
    form.locator("input[type=date]").fill(day.isoformat())
    form.locator("input[type=time]").fill("16:30")
    form.locator("input[name$=reason]").fill("Está de viaje hasta el jueves")
    form.get_by_test_id("save").click()

    expect(item.get_by_test_id("followup-message")).to_be_visible()
    expect(page.get_by_test_id("agenda-overdue").get_by_test_id("count")).to_have_text("0")
    assert page.url == f"{live_server.url}/agenda/"  # in place
    call.refresh_from_db()
    assert call.due_at == local(day, 16, 30) and call.sequence == 1


def test_comercial_postpones_a_visit_to_tomorrow_from_the_week_view(live_server, login, owner):
    today = timezone.localdate()
    visit = booked(owner, local(today, 9, 15), "Rui", "Costa", kind="visit")
    page = login(owner)
    page.goto(f"{live_server.url}/agenda/?view=week")
    item = page.locator(f'[data-date="{today.isoformat()}"]').get_by_test_id("calendar-item").filter(has_text="Rui Costa")
    item.get_by_test_id("more-actions").click()
    item.get_by_test_id("postpone-tomorrow").click()

    expect(item.get_by_test_id("followup-message")).to_be_visible()
    visit.refresh_from_db()
    assert timezone.localtime(visit.due_at) == local(today + dt.timedelta(days=1), 9, 15)
    page.reload()
    tomorrow = today + dt.timedelta(days=1)
    if tomorrow.weekday() != 0:  # still this week: it now shows on tomorrow
        expect(page.locator(f'[data-date="{tomorrow.isoformat()}"]')).to_contain_text("Rui Costa")


def test_comercial_hands_a_call_over_to_their_gerente_from_the_client_page(live_server, login, owner, manager):
    call = booked(owner, timezone.now() + dt.timedelta(days=1), "Inés", "Carvalho")
    page = login(owner)
    page.goto(f"{live_server.url}{call.client.get_absolute_url()}")
    entry = page.get_by_test_id("pending-followups").get_by_test_id("next-step")
    entry.get_by_test_id("more-actions").click()
    entry.get_by_test_id("hand-over").click()
    form = entry.get_by_test_id("followup-action-form")
    form.locator("select").select_option(str(manager.pk))
    form.get_by_test_id("save").click()

    expect(entry.get_by_test_id("followup-message")).to_contain_text(str(manager))
    expect(entry).to_contain_text(str(manager))  # the entry shows who carries it now
    call.refresh_from_db()
    assert call.assigned_to == manager and call.sequence == 1


def test_comercial_cancels_a_call_with_a_reason_in_english(live_server, login, owner):
    call = booked(owner, timezone.now() + dt.timedelta(days=2), "Ana", "Pérez")
    page = login(owner)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/agenda/")
    item = page.get_by_test_id("agenda-upcoming").get_by_test_id("agenda-item").filter(has_text="Ana Pérez")
    expect(item.get_by_test_id("complete")).to_have_text("Complete")
    item.get_by_test_id("more-actions").click()
    item.get_by_test_id("cancel").click()
    form = item.get_by_test_id("followup-action-form")
    form.get_by_test_id("save").click()  # no reason: refused, nothing written
    expect(form.get_by_role("alert")).to_contain_text("Nothing was saved")
    form.locator("input[name$=reason]").fill("The shop closed for good")
    form.get_by_test_id("save").click()

    expect(item.get_by_test_id("followup-message")).to_have_text("✓ Follow-up cancelled.")
    expect(item).to_contain_text("Cancelled")
    expect(item.get_by_test_id("followup-actions")).to_have_count(0)
    expect(page.get_by_test_id("agenda-upcoming").get_by_test_id("count")).to_have_text("0")
    call.refresh_from_db()
    assert call.status == FollowUp.State.CANCELLED and call.cancel_reason == "The shop closed for good"


def test_on_a_phone_the_week_is_a_list_by_day_in_portuguese(live_server, login, owner):
    today = timezone.localdate()
    booked(owner, local(today, 10), "Joana", "Silva")
    page = login(owner)
    page.context.add_cookies([{"name": "django_language", "value": "pt-br", "url": live_server.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/agenda/?view=week")

    calendar = page.get_by_test_id("calendar")
    expect(calendar.locator("thead")).to_be_hidden()
    days = calendar.get_by_test_id("calendar-day")
    expect(days).to_have_count(7)
    width = calendar.bounding_box()["width"]
    boxes = [days.nth(index).bounding_box() for index in range(7)]
    assert all(box["width"] > width * 0.9 for box in boxes)  # each day takes the whole width…
    assert all(boxes[index]["y"] < boxes[index + 1]["y"] for index in range(6))  # …one under the other
    today_cell = page.locator(f'[data-date="{today.isoformat()}"]')
    with translation.override("pt-br"):
        expect(today_cell.get_by_test_id("day-title")).to_contain_text(day_title(today))
    expect(today_cell).to_contain_text("Joana Silva")
    assert "agenda-today" in today_cell.get_attribute("class")

    page.goto(f"{live_server.url}/agenda/?view=month")
    visible = page.get_by_test_id("calendar-day").filter(has=page.get_by_test_id("calendar-item"))
    expect(visible).to_have_count(1)  # the month lists only its days with follow-ups
    shown = [cell for cell in page.get_by_test_id("calendar-day").all() if cell.is_visible()]
    assert len(shown) == 1
