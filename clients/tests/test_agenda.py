"""The agenda: week and month calendars, and completing a follow-up in place (htmx)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from clients.agenda import calendar_bounds
from clients.models import FollowUp, Interaction
from clients.tests.factories import ClientFactory, FollowUpFactory
from segmentation.services import alert_refresh_client

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.mark.parametrize(
    ("view", "anchor", "expected"),
    [
        # (first day shown, day after the last, previous anchor, next anchor)
        ("week", dt.date(2026, 11, 12), (dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 2), dt.date(2026, 11, 16))),
        ("week", dt.date(2026, 11, 9), (dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 2), dt.date(2026, 11, 16))),
        ("week", dt.date(2026, 11, 15), (dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 2), dt.date(2026, 11, 16))),
        # November 2026 starts on a Sunday and ends on a Monday: six weeks.
        ("month", dt.date(2026, 11, 20), (dt.date(2026, 10, 26), dt.date(2026, 12, 7), dt.date(2026, 10, 1), dt.date(2026, 12, 1))),
        ("month", dt.date(2026, 12, 31), (dt.date(2026, 11, 30), dt.date(2027, 1, 4), dt.date(2026, 11, 1), dt.date(2027, 1, 1))),
        # February 2027 starts on a Monday and ends on a Sunday: exactly four weeks.
        ("month", dt.date(2027, 2, 1), (dt.date(2027, 2, 1), dt.date(2027, 3, 1), dt.date(2027, 1, 1), dt.date(2027, 3, 1))),
    ],
)
def test_calendar_bounds(view, anchor, expected):
    assert calendar_bounds(view, anchor) == expected


def test_week_view_puts_each_follow_up_on_its_day(client, owner):
    monday = dt.date(2026, 11, 9)
    record = ClientFactory(owner=owner, last_name="Semanal")
    FollowUpFactory(client=record, due_at=at(monday + dt.timedelta(days=2), 16), kind="visit")
    FollowUpFactory(client=record, due_at=at(monday), status=FollowUp.State.DONE)
    FollowUpFactory(client=record, due_at=at(monday + dt.timedelta(days=3)), status=FollowUp.State.CANCELLED)
    FollowUpFactory(client=record, due_at=at(monday + dt.timedelta(days=7)))  # next week
    client.force_login(owner)
    response = client.get(reverse("clients:agenda"), {"view": "week", "date": "2026-11-12"})
    calendar = response.context["calendar"]
    assert [day.date for day in calendar.weeks[0]] == [monday + dt.timedelta(days=n) for n in range(7)]
    by_day = {day.date: [(f.kind, f.status) for f in day.followups] for day in calendar.weeks[0]}
    assert by_day[monday] == [("call", "done")]
    assert by_day[monday + dt.timedelta(days=2)] == [("visit", "pending")]
    assert sum(len(v) for v in by_day.values()) == 2
    content = response.content.decode()
    assert 'data-date="2026-11-11"' in content and "Semanal" in content
    assert "date=2026-11-16" in content and "date=2026-11-02" in content  # next and previous weeks


def test_month_view_marks_days_outside_the_month_and_folds_busy_days(client, owner):
    record = ClientFactory(owner=owner)
    busy = dt.date(2026, 11, 20)
    for hour in range(8, 14):
        FollowUpFactory(client=record, due_at=at(busy, hour))
    client.force_login(owner)
    response = client.get(reverse("clients:agenda"), {"view": "month", "date": "2026-11-03"})
    calendar = response.context["calendar"]
    days = [day for week in calendar.weeks for day in week]
    assert len(days) == 42
    assert [d.date for d in days if not d.in_period][:6] == [dt.date(2026, 10, 26) + dt.timedelta(days=n) for n in range(6)]
    [busy_day] = [d for d in days if d.date == busy]
    assert (len(busy_day.followups), busy_day.total, busy_day.more) == (4, 6, 2)  # only the shown ones are fetched
    assert [timezone.localtime(f.due_at).hour for f in busy_day.followups] == [8, 9, 10, 11]
    content = response.content.decode()
    assert content.count('data-testid="calendar-item"') == 4
    assert "+2" in content and "view=week&amp;date=2026-11-20" in content


def test_bad_view_or_date_falls_back_to_the_list_and_to_today(client, owner):
    client.force_login(owner)
    assert client.get(reverse("clients:agenda"), {"view": "year"}).context["view"] == "list"
    response = client.get(reverse("clients:agenda"), {"view": "month", "date": "2026-13-45"})
    assert response.status_code == 200
    assert response.context["calendar"].anchor == timezone.localdate()


def test_a_gerente_sees_a_team_members_calendar(client, manager, owner, outsider):
    FollowUpFactory(client=ClientFactory(owner=owner, last_name="DelEquipo"))
    client.force_login(manager)
    response = client.get(reverse("clients:agenda"), {"view": "week", "user": owner.pk})
    assert "DelEquipo" in response.content.decode()
    assert client.get(reverse("clients:agenda"), {"view": "week", "user": outsider.pk}).status_code == 404


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("view", ["week", "month"])
def test_calendar_queries_do_not_grow(client, django_assert_num_queries, owner, size, view):
    for record in ClientFactory.create_batch(size, owner=owner):
        FollowUpFactory(client=record)
    client.force_login(owner)
    # session, user, groups; the follow-ups with their clients (a month: their count per day first)
    with django_assert_num_queries(3 + (2 if view == "month" else 1)):
        assert client.get(reverse("clients:agenda"), {"view": view}).status_code == 200


# --- completing in place ---------------------------------------------------------------------

def overdue_call(owner, **client_fields):
    record = ClientFactory(owner=owner, **client_fields)
    return FollowUpFactory(client=record, due_at=timezone.now() - dt.timedelta(days=2), kind="call")


def complete_url(followup) -> str:
    return reverse("clients:followup_complete", args=[followup.pk])


def form_data(followup, **fields) -> dict:
    return {f"followup-{followup.pk}-{name}": value for name, value in fields.items()}


def test_complete_offers_the_outcome_and_the_next_step(client, owner):
    followup = overdue_call(owner)
    client.force_login(owner)
    content = client.get(complete_url(followup), headers=HTMX).content.decode()
    assert f'name="followup-{followup.pk}-outcome"' in content
    assert f'name="followup-{followup.pk}-next_kind"' in content and f'name="followup-{followup.pk}-next_date"' in content


def test_without_htmx_complete_opens_the_full_form(client, owner):
    followup = overdue_call(owner)
    client.force_login(owner)
    response = client.get(complete_url(followup))
    assert response.status_code == 302
    assert response.url.endswith(f"?followup={followup.pk}")


def test_completing_records_the_outcome_closes_the_follow_up_books_the_next_and_recolours(client, owner):
    followup = overdue_call(owner)
    client.force_login(owner)
    alert_refresh_client(followup.client_id)
    followup.client.refresh_from_db()
    assert followup.client.alert == "red"
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        complete_url(followup),
        form_data(followup, outcome="interested", summary="Quiere ver muestras", next_kind="visit",
                  next_date=tomorrow.isoformat(), next_time="11:30"),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'data-testid="done"' in response.content.decode()
    followup.refresh_from_db()
    interaction = Interaction.objects.get(client=followup.client)
    assert (followup.status, followup.closed_by) == ("done", interaction)
    assert (interaction.kind, interaction.outcome, interaction.summary, interaction.user) == (
        "call", "interested", "Quiere ver muestras", owner,
    )
    visit = FollowUp.objects.get(client=followup.client, status="pending")
    assert (visit.kind, timezone.localtime(visit.due_at).date(), visit.assigned_to) == ("visit", tomorrow, owner)
    followup.client.refresh_from_db()
    assert (followup.client.alert, followup.client.alert_reason) == ("yellow", "followup_due_soon")
    assert 'data-alert="yellow"' in response.content.decode()


def test_completing_updates_the_section_counts_in_the_header(client, owner):
    followup, other = overdue_call(owner), overdue_call(owner)
    client.force_login(owner)
    page = client.get(reverse("clients:agenda")).content.decode()
    assert 'id="agenda-overdue-count" data-testid="count">2<' in page
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = client.post(
        complete_url(followup),
        form_data(followup, outcome="interested", next_kind="visit", next_date=tomorrow.isoformat(), next_time="11:30"),
        headers=HTMX,
    )

    content = response.content.decode()
    assert '<span hx-swap-oob="innerHTML:#agenda-overdue-count">1</span>' in content  # the other one is left
    assert '<span hx-swap-oob="innerHTML:#agenda-upcoming-count">1</span>' in content  # tomorrow's visit
    assert other.status == "pending"


def test_the_awaiting_answer_outcome_sets_the_wait(client, owner):
    followup = overdue_call(owner)
    client.force_login(owner)
    client.post(complete_url(followup), form_data(followup, outcome="awaiting_answer"), headers=HTMX)
    interaction = Interaction.objects.get(client=followup.client)
    assert interaction.awaiting_reply is True
    assert interaction.summary  # the outcome says it when no summary is written
    followup.client.refresh_from_db()
    assert (followup.client.alert, followup.client.alert_reason) == ("green", "awaiting_reply")


def test_without_an_outcome_nothing_is_written(client, owner):
    followup = overdue_call(owner)
    client.force_login(owner)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(
        complete_url(followup), form_data(followup, next_kind="visit", next_date=yesterday.isoformat()), headers=HTMX,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="complete-form"' in content and "invalid-feedback" in content
    followup.refresh_from_db()
    assert followup.status == "pending"
    assert not Interaction.objects.exists()
    assert FollowUp.objects.count() == 1


def test_another_portfolios_follow_up_is_a_404(client, owner, outsider):
    followup = overdue_call(owner)
    client.force_login(outsider)
    assert client.get(complete_url(followup), headers=HTMX).status_code == 404
    assert client.post(complete_url(followup), form_data(followup, outcome="interested"), headers=HTMX).status_code == 404
    followup.refresh_from_db()
    assert followup.status == "pending"


def test_completing_a_follow_up_already_done_says_so_and_writes_nothing(client, owner):
    followup = overdue_call(owner)
    FollowUp.objects.filter(pk=followup.pk).update(status=FollowUp.State.DONE)
    client.force_login(owner)
    response = client.get(complete_url(followup), headers=HTMX)
    assert response.status_code == 200 and b'data-testid="followup-error"' in response.content
    assert b"complete-form" not in response.content
    response = client.post(complete_url(followup), form_data(followup, outcome="interested"), headers=HTMX)
    assert b'data-testid="followup-error"' in response.content
    assert not Interaction.objects.exists()


def test_the_agenda_shows_the_reason_of_each_colour_and_the_origin_of_automatic_calls(client, owner):
    followup = overdue_call(owner, last_name="Rojo")
    FollowUp.objects.filter(pk=followup.pk).update(origin=FollowUp.Origin.REACTIVATION, origin_key="2026-11-01")
    alert_refresh_client(followup.client_id)
    client.force_login(owner)
    content = client.get(reverse("clients:agenda")).content.decode()
    assert "Seguimiento vencido hace 2 días" in content
    assert 'data-alert="red"' in content
    assert "Reactivación de un cliente dormido" in content


def test_each_section_lists_a_hundred_and_counts_them_all(client, owner, monkeypatch):
    monkeypatch.setattr("clients.agenda.SECTION_LIMIT", 3)
    calm, urgent = ClientFactory(owner=owner, last_name="Tranquilo"), ClientFactory(owner=owner, last_name="Urgente", alert="red")
    for days in range(1, 6):
        FollowUpFactory(client=calm, due_at=timezone.now() - dt.timedelta(days=days + 10))
    FollowUpFactory(client=urgent, due_at=timezone.now() - dt.timedelta(days=20))
    FollowUpFactory(client=calm, due_at=timezone.now() + dt.timedelta(minutes=30))
    client.force_login(owner)
    response = client.get(reverse("clients:agenda"))
    overdue, today = response.context["overdue"], response.context["today"]
    # Overdue ones do not push today's off the page; the red client, due first, is listed first.
    assert (overdue.total, len(overdue.followups), overdue.more) == (6, 3, 3)
    assert overdue.followups[0].client == urgent
    assert (today.total, len(today.followups)) == (1, 1)
    assert 'data-testid="more"' in response.content.decode()


def test_a_month_cell_counts_a_very_busy_day_up_to_a_cap(client, owner, monkeypatch):
    """Issue 16: a day's follow-ups are counted up to MONTH_COUNT_CAP (reading a bench
    salesperson's 96,000 a month took 300 ms); beyond, the cell says "or more"."""
    from clients import agenda

    monkeypatch.setattr(agenda, "MONTH_COUNT_CAP", 5)
    record = ClientFactory(owner=owner)
    busy, calm = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
    for minute in range(8):
        FollowUpFactory(client=record, due_at=at(busy, 9) + dt.timedelta(minutes=minute))
    for hour in (9, 10):
        FollowUpFactory(client=record, due_at=at(calm, hour))
    client.force_login(owner)
    with translation.override("en"):
        response = client.get(reverse("clients:agenda"), {"view": "month", "date": "2026-11-03"}, HTTP_ACCEPT_LANGUAGE="en")
    days = {day.date: day for week in response.context["calendar"].weeks for day in week}
    assert len(days[busy].followups) == 4 and days[calm].total == 2 and days[calm].more == 0
    if days[busy].capped:  # PostgreSQL: counted up to the cap
        assert (days[busy].total, days[busy].more) == (6, 2) and "+2 or more" in response.content.decode()
    else:  # SQLite counts the month in one grouped query
        assert days[busy].total == 8


@pytest.mark.parametrize("view", ["list", "week"])
def test_each_entry_carries_the_actions_of_its_own_follow_up(client, owner, view):
    """The actions are rendered once per page with placeholder ids (clients/templatetags/agenda.py):
    every entry's addresses name its own follow-up and client, and no placeholder is left."""
    from clients.templatetags.agenda import CLIENT_MARK, PK_MARK

    now = timezone.now()
    followups = [FollowUpFactory(client=ClientFactory(owner=owner), assigned_to=owner, due_at=now + dt.timedelta(hours=1 + n))
                 for n in range(3)]
    client.force_login(owner)
    page = client.get(reverse("clients:agenda"), {"view": view}).content.decode()
    for followup in followups:
        assert reverse("clients:followup_reschedule", args=[followup.pk]) in page
        assert reverse("clients:followup_cancel", args=[followup.pk]) in page
        assert f"{reverse('clients:interaction_create', args=[followup.client_id])}?followup={followup.pk}" in page
    assert PK_MARK not in page and CLIENT_MARK not in page
