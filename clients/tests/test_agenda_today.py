"""'Today' lists all of today's follow-ups all day long; 'overdue' is what is from before today;
the agenda's pages keep a constant number of queries with every action on each follow-up; dates
read naturally in each language."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from clients import agenda
from clients.models import FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
DAY = dt.date(2026, 12, 2)  # a Wednesday


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@pytest.fixture
def at_two_pm(monkeypatch):
    """The clock stopped at 14:00 local time on DAY (timezone.now is what the agenda reads)."""
    moment = local(DAY, 14)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def followup(owner, due_at: dt.datetime, status: str = FollowUp.State.PENDING, name: str = "") -> FollowUp:
    record = ClientFactory(owner=owner, company_name=name or f"Cliente {due_at:%d %H%M} {status}")
    return FollowUpFactory(client=record, due_at=due_at, status=status)


def test_at_two_pm_today_still_lists_the_mornings_calls_done_ticked_and_late_marked(client, owner, at_two_pm):
    done = followup(owner, local(DAY, 9), FollowUp.State.DONE, "Llamada hecha")
    late = followup(owner, local(DAY, 10), name="Llamada atrasada")
    later = followup(owner, local(DAY, 17), name="Visita de la tarde")
    yesterday = followup(owner, local(DAY - dt.timedelta(days=1), 18), name="De ayer")
    followup(owner, local(DAY, 11), FollowUp.State.CANCELLED, "Cancelada")
    followup(owner, local(DAY - dt.timedelta(days=1), 9), FollowUp.State.DONE, "Hecha ayer")
    tomorrow = followup(owner, local(DAY + dt.timedelta(days=1), 9), name="De mañana")

    sections = agenda.agenda_lists(owner, at_two_pm)
    assert [f.pk for f in sections["today"].followups] == [done.pk, late.pk, later.pk]
    assert [f.pk for f in sections["overdue"].followups] == [yesterday.pk]
    assert [f.pk for f in sections["upcoming"].followups] == [tomorrow.pk]
    assert agenda.agenda_counts(owner, at_two_pm) == {"overdue": 1, "today": 3, "upcoming": 1}

    client.force_login(owner)
    page = client.get(reverse("clients:agenda")).content.decode()
    today = page[page.index('data-testid="agenda-today"'):page.index('data-testid="agenda-upcoming"')]
    assert "Llamada hecha" in today and "Llamada atrasada" in today and "Visita de la tarde" in today
    assert today.count('data-testid="ticked"') == 1 and today.count('data-testid="late"') == 1
    # Done ones offer no action; the two pending ones do.
    assert today.count('data-testid="followup-actions"') == 2
    overdue = page[page.index('data-testid="agenda-overdue"'):page.index('data-testid="agenda-today"')]
    assert "De ayer" in overdue and "Hecha ayer" not in overdue and 'data-testid="late"' not in overdue


def test_a_call_due_just_before_midnight_is_overdue_only_the_next_day(owner, at_two_pm):
    last_night = followup(owner, local(DAY, 0, 0) - dt.timedelta(minutes=1))
    just_after = followup(owner, local(DAY, 0, 0))
    sections = agenda.agenda_lists(owner, at_two_pm)
    assert [f.pk for f in sections["overdue"].followups] == [last_night.pk]
    assert [f.pk for f in sections["today"].followups] == [just_after.pk]


# --- Queries --------------------------------------------------------------------------------

def fill(owner, size: int, day: dt.date) -> None:
    for index in range(size):
        followup(owner, local(day - dt.timedelta(days=1), 9))  # overdue
        followup(owner, local(day, 8 + index % 8))  # today
        followup(owner, local(day, 7), FollowUp.State.DONE)  # today, done
        followup(owner, local(day + dt.timedelta(days=2), 9))  # upcoming


@pytest.mark.parametrize("size", [2, 12])
def test_agenda_list_with_every_action_runs_constant_queries(client, django_assert_num_queries, owner, size, at_two_pm):
    fill(owner, size, DAY)
    client.force_login(owner)
    # session, user, groups; the counts; the follow-ups with their clients of each of the 3 sections.
    with django_assert_num_queries(3 + 1 + 3):
        response = client.get(reverse("clients:agenda"))
    assert response.content.decode().count('data-testid="followup-actions"') == 3 * size


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("view", ["week", "month"])
def test_calendars_with_every_action_run_constant_queries(client, django_assert_num_queries, owner, size, view, at_two_pm):
    fill(owner, size, DAY)
    client.force_login(owner)
    # session, user, groups; the follow-ups with their clients (a month: their count per day first).
    with django_assert_num_queries(3 + (2 if view == "month" else 1)):
        response = client.get(reverse("clients:agenda"), {"view": view, "date": DAY.isoformat()})
    assert 'data-testid="followup-actions"' in response.content.decode()


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("followup_reschedule", 0), ("followup_cancel", 0), ("followup_note", 0), ("followup_entry", 0),
        ("followup_hand_over", 1),  # + the colleagues it may go to
    ],
)
@pytest.mark.parametrize("size", [1, 10])
def test_action_forms_run_constant_queries(client, django_assert_num_queries, owner, name, extra, size):
    record = ClientFactory(owner=owner)
    FollowUpFactory.create_batch(size, client=record)
    target = FollowUpFactory(client=record)
    client.force_login(owner)
    # session, user, groups, the shares (the access rule); the follow-up with its client and assignee.
    with django_assert_num_queries(3 + 1 + 1 + extra):
        assert client.get(reverse(f"clients:{name}", args=[target.pk]), headers=HTMX).status_code == 200


# --- Dates in words -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("language", "month", "day"),
    [
        ("pt-br", "dezembro de 2026", "Quarta-feira, 2 de dezembro"),
        ("es", "diciembre de 2026", "Miércoles, 2 de diciembre"),
        ("en", "December 2026", "Wednesday, December 2"),
    ],
)
def test_month_and_day_titles_read_naturally(language, month, day):
    with translation.override(language):
        assert agenda.month_title(DAY) == month
        assert agenda.day_title(DAY) == day


def test_the_month_page_is_titled_in_lower_case_in_portuguese(client, owner):
    owner.language = "pt-br"
    owner.save()
    client.force_login(owner)
    with translation.override("es"):  # the request switches the thread's language: put it back after
        response = client.get(reverse("clients:agenda"), {"view": "month", "date": DAY.isoformat()}, HTTP_ACCEPT_LANGUAGE="pt-br")
    assert "dezembro de 2026" in response.content.decode()


def test_a_badge_counts_up_to_the_cap_and_then_says_more(client, owner, at_two_pm):
    """Counting every one of a salesperson's 37,000 overdue follow-ups took 70 ms at a million
    clients: the badges count up to COUNT_CAP and say "999+" beyond, the list says "at least"."""
    from core.sql import COUNT_CAP

    record = ClientFactory(owner=owner)
    FollowUp.objects.bulk_create(
        FollowUp(client=record, assigned_to=owner, kind=FollowUp.Kind.CALL, due_at=local(DAY, 0) - dt.timedelta(hours=index + 1))
        for index in range(COUNT_CAP + 5)
    )
    FollowUpFactory(client=record, due_at=local(DAY, 17))
    assert agenda.agenda_counts(owner, at_two_pm) == {"overdue": COUNT_CAP + 1, "today": 1, "upcoming": 0}
    client.force_login(owner)
    with translation.override("en"):
        page = client.get(reverse("clients:agenda"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    overdue = page[page.index('data-testid="agenda-overdue"'):page.index('data-testid="agenda-today"')]
    assert f'data-testid="count">{COUNT_CAP}+</span>' in overdue
    assert f"at least {COUNT_CAP + 1 - agenda.SECTION_LIMIT} more" in overdue
    today = page[page.index('data-testid="agenda-today"'):page.index('data-testid="agenda-upcoming"')]
    assert 'data-testid="count">1</span>' in today and "at least" not in today


def test_an_agenda_line_says_what_the_follow_up_is_escaped_in_the_readers_language(owner, at_two_pm):
    """clients.templatetags.agenda.agenda_item: the line written from Python (the template took
    60 % of the agenda's time at a million clients)."""
    from clients.templatetags.agenda import agenda_item

    late = followup(owner, local(DAY, 10), name="Ferretería <Sol> & Hijos")
    late.notes = "Llevar <catálogo>"
    late.origin = FollowUp.Origin.REACTIVATION
    late.client.alert, late.client.alert_reason, late.client.alert_value = "red", "followup_overdue", DAY.isoformat()
    with translation.override("en"):
        line = str(agenda_item(late, "today"))
        assert 'data-testid="late">Late</span>' in line and "\nFerretería &lt;Sol&gt; &amp; Hijos" in line
        assert " — Llevar &lt;catálogo&gt;</div>" in line and "Reactivation of a dormant client" in line
        assert 'data-testid="alert-dot" data-alert="red"' in line and 'data-testid="alert-reason"' in line
        assert "Late" not in str(agenda_item(late, "overdue"))  # the overdue section says so already
    done = followup(owner, local(DAY, 9), FollowUp.State.DONE)
    cancelled = followup(owner, local(DAY, 11), FollowUp.State.CANCELLED)
    with translation.override("es"):
        ticked = str(agenda_item(done, "today"))
        assert 'class="link-secondary"><span data-testid="ticked" aria-label="Realizado">✓</span>' in ticked
        assert "text-body-secondary" in ticked and "Late" not in ticked and "Llamada" in ticked
        assert '<span class="badge text-bg-secondary">Cancelado</span>' in str(agenda_item(cancelled, "today"))


# The calendar cell's entry as clients/partials/agenda_entry.html wrote it until the calendar wrote
# its entries from Python (followup_entry): the tag must give the same markup.
CALENDAR_ENTRY_TEMPLATE = """{% load agenda %}<div class="d-flex gap-1 align-items-start">
  <div class="flex-grow-1{% if followup.status == 'done' or followup.status == 'cancelled' %} text-decoration-line-through text-body-secondary{% elif followup.is_overdue %} text-danger{% endif %}">
    <span class="text-nowrap">{{ followup.due_at|time:"H:i" }}</span>
    <a href="{{ followup.client.get_absolute_url }}">{% alert_dot followup.client %}
{{ followup.client.display_name }}</a>
    <span class="text-body-secondary">· {{ followup.get_kind_display }}</span>
  </div>
  {% if followup.status == "pending" %}{% followup_actions followup place compact=True %}{% endif %}
</div>
"""


def test_a_calendar_entry_written_from_python_is_the_templates_markup(owner, at_two_pm):
    from django.template import Context, Template

    from clients.templatetags.agenda import followup_entry

    late = followup(owner, local(DAY, 10, 5), name="Ferretería <Sol> & Hijos")
    late.client.alert, late.client.alert_reason, late.client.alert_value = "red", "followup_overdue", DAY.isoformat()
    entries = [
        late, followup(owner, local(DAY, 17, 30)), followup(owner, local(DAY, 9), FollowUp.State.DONE),
        followup(owner, local(DAY - dt.timedelta(days=3), 8), FollowUp.State.CANCELLED),
    ]
    template = Template(CALENDAR_ENTRY_TEMPLATE)
    for language in ("es", "pt-br", "en"):
        with translation.override(language):
            for entry in entries:
                expected = template.render(Context({"followup": entry, "place": "calendar"}))
                written = str(followup_entry(Context(), entry, "calendar"))
                assert written == expected, (language, entry.status)
    late_entry = str(followup_entry(Context(), late, "calendar"))
    assert 'class="flex-grow-1 text-danger"' in late_entry and 'data-testid="followup-actions"' in late_entry
    assert "Ferretería &lt;Sol&gt; &amp; Hijos" in late_entry and ">10:05<" in late_entry


def test_an_agenda_lines_address_is_the_clients_under_any_script_prefix(owner):
    """client_url reverses once per script prefix, then puts each id in place."""
    from django.urls import get_script_prefix, set_script_prefix

    from clients.templatetags.agenda import client_url

    records = [ClientFactory(owner=owner) for _ in range(2)]
    before = get_script_prefix()
    try:
        for prefix in ("/", "/cartera/", "/"):
            set_script_prefix(prefix)
            for record in records:
                assert client_url(record.pk) == record.get_absolute_url()
                assert client_url(record.pk) == f"{prefix}clients/{record.pk}/"
    finally:
        set_script_prefix(before)


def test_an_agenda_lines_address_is_reversed_again_for_another_urlconf(owner, settings):
    from clients.templatetags import agenda as tags

    record = ClientFactory(owner=owner)
    assert tags.client_url(record.pk) == record.get_absolute_url() and tags._CLIENT_URLS
    settings.ROOT_URLCONF = settings.ROOT_URLCONF  # fires setting_changed, as override_settings does
    assert not tags._CLIENT_URLS
    assert tags.client_url(record.pk) == record.get_absolute_url()
