"""The private iCalendar feed: token as the only credential, RFC 5545 text, the user's language."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clients.calendar import calendar_token_revoke, calendar_token_rotate, escape_text, fold, followups_ics, unfold
from clients.models import FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory
from segmentation.records import client_restore, client_trash


def feed_url(token: str) -> str:
    return reverse("clients:calendar_feed", args=[token])


def physical_lines(text: str) -> list[str]:
    assert text.endswith("\r\n")
    return text[: -len("\r\n")].split("\r\n")


@pytest.fixture
def followup(owner) -> FollowUp:
    record = ClientFactory(owner=owner, first_name="Ana", last_name="Pérez", company_name="Ferretería, Díaz; e Hijos")
    return FollowUpFactory(client=record, kind=FollowUp.Kind.CALL, notes="Llevar catálogo")


# --- The feed ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_anonymous_calendar_app_gets_the_feed_with_a_valid_token(client, owner, followup):
    token = calendar_token_rotate(user=owner)
    response = client.get(feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="cartera.ics"'
    assert response["Cache-Control"] == "private, max-age=300"
    body = unfold(response.content.decode())
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert f"UID:followup-{followup.pk}@cartera\r\n" in body
    assert "SUMMARY:Llamada: Ferretería\\, Díaz\\; e Hijos (Ana Pérez)\r\n" in body
    assert f"http://testserver/clients/{followup.client_id}/" in body
    assert "STATUS:CONFIRMED\r\n" in body


@pytest.mark.django_db
def test_event_times_are_utc_and_thirty_minutes_long(client, owner):
    due = dt.datetime(2030, 1, 15, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    followup = FollowUpFactory(client=ClientFactory(owner=owner), due_at=due)
    text = followups_ics(owner, [followup], now=dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC))
    assert "DTSTART:20300115T083000Z\r\n" in text
    assert "DTEND:20300115T090000Z\r\n" in text
    assert "DTSTAMP:20300101T120000Z\r\n" in text


@pytest.mark.django_db
def test_unknown_token_is_404(client, owner, followup):
    calendar_token_rotate(user=owner)
    assert client.get(feed_url("not-a-token")).status_code == 404


@pytest.mark.django_db
def test_revoked_token_is_404(client, owner, followup):
    token = calendar_token_rotate(user=owner)
    calendar_token_revoke(user=owner)
    owner.refresh_from_db()
    assert owner.calendar_token is None
    assert client.get(feed_url(token)).status_code == 404


@pytest.mark.django_db
def test_rotated_token_replaces_the_old_one(client, owner, followup):
    old = calendar_token_rotate(user=owner)
    new = calendar_token_rotate(user=owner)
    assert new != old
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200


@pytest.mark.django_db
def test_inactive_user_feed_is_404(client, owner, followup):
    token = calendar_token_rotate(user=owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert client.get(feed_url(token)).status_code == 404


@pytest.mark.django_db
def test_feed_holds_only_the_users_own_followups(client, owner, teammate, followup):
    theirs = FollowUpFactory(client=ClientFactory(owner=teammate))
    response = client.get(feed_url(calendar_token_rotate(user=owner)))
    body = response.content.decode()
    assert f"UID:followup-{followup.pk}@cartera" in body
    assert f"UID:followup-{theirs.pk}@cartera" not in body
    assert body.count("BEGIN:VEVENT") == 1


@pytest.mark.django_db
def test_feed_covers_thirty_days_back_to_180_ahead_in_every_status(client, owner):
    record = ClientFactory(owner=owner)
    now = timezone.now()
    done = FollowUpFactory(client=record, due_at=now - dt.timedelta(days=29), status=FollowUp.State.DONE)
    cancelled = FollowUpFactory(client=record, due_at=now + dt.timedelta(days=179), status=FollowUp.State.CANCELLED)
    FollowUpFactory(client=record, due_at=now - dt.timedelta(days=31))  # too old
    FollowUpFactory(client=record, due_at=now + dt.timedelta(days=181))  # too far ahead
    body = unfold(client.get(feed_url(calendar_token_rotate(user=owner))).content.decode())
    events = {chunk.split("\r\n", 1)[0]: chunk for chunk in body.split("UID:")[1:]}
    assert set(events) == {f"followup-{done.pk}@cartera", f"followup-{cancelled.pk}@cartera"}
    assert f"SUMMARY:✓ Llamada: {record.display_name}" in events[f"followup-{done.pk}@cartera"]
    assert "STATUS:CONFIRMED" in events[f"followup-{done.pk}@cartera"]
    assert "STATUS:CANCELLED" in events[f"followup-{cancelled.pk}@cartera"]


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "kind"), [("en", "Call"), ("es", "Llamada")])
def test_feed_speaks_the_users_language_not_the_requests(client, owner, followup, language, kind):
    owner.language = language
    owner.save(update_fields=["language"])
    other = "es" if language == "en" else "en"
    response = client.get(feed_url(calendar_token_rotate(user=owner)), headers={"accept-language": other})
    assert f"SUMMARY:{kind}: " in response.content.decode()
    assert "X-WR-CALNAME:Cartera — Comercial Test\r\n" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 5])
def test_feed_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    FollowUpFactory.create_batch(size, client=ClientFactory(owner=owner))
    token = calendar_token_rotate(user=owner)
    # No session: the user by token, then the follow-ups joined with their clients.
    with django_assert_num_queries(2):
        response = client.get(feed_url(token))
    assert response.content.decode().count("BEGIN:VEVENT") == size


# --- Escaping and folding ----------------------------------------------------------------

def test_text_is_escaped_per_rfc_5545():
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    line = "DESCRIPTION:" + escape_text(("Llamó José, pidió presupuesto; añadir catálogo — ñandú €. " * 5)[:200])
    folded = fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 3
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert unfold(folded) == line


def test_folding_never_cuts_a_two_octet_character():
    line = "é" * 40  # 80 octets: the 75th octet is the first half of the 38th "é"
    first, second = fold(line).split("\r\n")
    assert first == "é" * 37  # 74 octets
    assert second == " " + "é" * 3


@pytest.mark.django_db
def test_a_long_accented_note_survives_the_round_trip(owner):
    notes = ("Llamó José, pidió presupuesto; añadir catálogo — ñandú €.\n" * 5)[:200]
    followup = FollowUpFactory(client=ClientFactory(owner=owner), notes=notes)
    text = followups_ics(owner, [followup], now=timezone.now())
    lines = physical_lines(text)
    assert all(len(line.encode()) <= 75 for line in lines)
    description = next(line for line in physical_lines(unfold(text)) if line.startswith("DESCRIPTION:"))
    assert description == "DESCRIPTION:" + escape_text(notes.strip())


# --- Creating, rotating and revoking the link ---------------------------------------------

@pytest.mark.django_db
def test_rotate_creates_a_link_for_the_logged_in_user(client, owner):
    client.force_login(owner)
    response = client.post(reverse("clients:calendar_feed_manage"), {"action": "rotate"})
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:agenda")
    owner.refresh_from_db()
    assert owner.calendar_token and len(owner.calendar_token) >= 40
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
    assert client.get(feed_url(owner.calendar_token)).status_code == 200


@pytest.mark.django_db
def test_rotate_again_replaces_the_link(client, owner):
    old = calendar_token_rotate(user=owner)
    client.force_login(owner)
    client.post(reverse("clients:calendar_feed_manage"), {"action": "rotate"})
    owner.refresh_from_db()
    assert owner.calendar_token != old
    assert client.get(feed_url(old)).status_code == 404


@pytest.mark.django_db
def test_revoke_removes_the_link(client, owner, teammate):
    token = calendar_token_rotate(user=owner)
    theirs = calendar_token_rotate(user=teammate)
    client.force_login(owner)
    response = client.post(reverse("clients:calendar_feed_manage"), {"action": "revoke"})
    assert response.status_code == 302
    owner.refresh_from_db()
    teammate.refresh_from_db()
    assert owner.calendar_token is None
    assert teammate.calendar_token == theirs  # only one's own link
    assert client.get(feed_url(token)).status_code == 404


@pytest.mark.django_db
def test_unknown_action_changes_nothing_and_says_so(client, owner):
    token = calendar_token_rotate(user=owner)
    client.force_login(owner)
    response = client.post(reverse("clients:calendar_feed_manage"), {"action": "delete-everything"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.calendar_token == token
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]


@pytest.mark.django_db
def test_manage_is_post_only(client, owner):
    client.force_login(owner)
    assert client.get(reverse("clients:calendar_feed_manage")).status_code == 405


@pytest.mark.django_db
def test_anonymous_manage_goes_to_login(client):
    response = client.post(reverse("clients:calendar_feed_manage"), {"action": "rotate"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- The agenda card ----------------------------------------------------------------------

@pytest.mark.django_db
def test_card_shows_the_link_only_when_there_is_one(owner):
    request = RequestFactory().get("/agenda/")
    request.user = owner
    html = render_to_string("clients/partials/calendar_feed.html", {"user": owner}, request=request)
    assert 'data-testid="calendar-url"' not in html
    assert 'data-testid="calendar-create"' in html
    token = calendar_token_rotate(user=owner)
    html = render_to_string("clients/partials/calendar_feed.html", {"user": owner}, request=request)
    assert f'value="http://testserver/calendar/{token}.ics"' in html
    assert f'href="webcal://testserver/calendar/{token}.ics"' in html
    assert 'name="csrfmiddlewaretoken"' in html


# --- Follow-ups that move --------------------------------------------------------------------

def event_of(text: str, followup: FollowUp) -> list[str]:
    lines = unfold(text).split("\r\n")
    start = lines.index(f"UID:followup-{followup.pk}@cartera") - 1
    return lines[start:lines.index("END:VEVENT", start) + 1]


@pytest.mark.django_db
def test_a_moved_follow_up_keeps_its_uid_with_a_higher_sequence(client, owner, followup):
    from segmentation import records

    token = calendar_token_rotate(user=owner)
    before = event_of(client.get(feed_url(token)).content.decode(), followup)
    assert "SEQUENCE:0" in before and "STATUS:CONFIRMED" in before
    records.followup_postpone(followup=followup, by=owner, to=records.Postpone.NEXT_MONDAY)
    records.followup_hand_over(followup=followup, by=owner.team.manager, to=owner.team.manager)
    records.followup_hand_over(followup=followup, by=owner.team.manager, to=owner)

    text = client.get(feed_url(token)).content.decode()
    assert unfold(text).count(f"UID:followup-{followup.pk}@cartera") == 1  # updated, not duplicated
    after = event_of(text, followup)
    followup.refresh_from_db()
    assert "SEQUENCE:3" in after
    assert f"DTSTART:{followup.due_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in after


@pytest.mark.django_db
def test_a_cancelled_follow_up_stays_in_the_feed_as_cancelled(client, owner, followup):
    from segmentation import records

    token = calendar_token_rotate(user=owner)
    records.followup_cancel(followup=followup, by=owner, reason="Cerrado por vacaciones")
    event = event_of(client.get(feed_url(token)).content.decode(), followup)
    assert "STATUS:CANCELLED" in event and "SEQUENCE:1" in event


@pytest.mark.django_db
def test_a_trashed_clients_follow_up_leaves_the_phone_and_comes_back_when_restored(client, owner, followup):
    token = calendar_token_rotate(user=owner)
    client_trash(by=owner, client=followup.client)
    assert "STATUS:CANCELLED\r\n" in unfold(client.get(feed_url(token)).content.decode())
    client_restore(by=owner, client=followup.client)
    assert "STATUS:CONFIRMED\r\n" in unfold(client.get(feed_url(token)).content.decode())
