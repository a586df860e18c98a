"""Completing a follow-up is exactly-once: a double click, two tabs or two requests at the same
moment record one interaction and one next step, through every path that closes it (the agenda's
in-place form, the interaction form with ?followup=, the service itself)."""

import datetime as dt
import threading
import time

import pytest
from django import test as django_test
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clients.models import FollowUp, Interaction
from clients.tests.factories import ClientFactory, FollowUpFactory
from segmentation import records

HTMX = {"HX-Request": "true"}


def overdue_call(owner) -> FollowUp:
    return FollowUpFactory(client=ClientFactory(owner=owner), due_at=timezone.now() - dt.timedelta(days=1))


def complete_data(followup: FollowUp) -> dict:
    prefix = f"followup-{followup.pk}"
    day = timezone.localdate() + dt.timedelta(days=3)
    return {
        f"{prefix}-outcome": "interested", f"{prefix}-summary": "Quiere una visita", f"{prefix}-next_kind": "visit",
        f"{prefix}-next_date": day.isoformat(), f"{prefix}-next_time": "11:00",
    }


def interaction_data(followup: FollowUp) -> dict:
    day = timezone.localdate() + dt.timedelta(days=3)
    return {
        "followup": followup.pk, "kind": "call", "direction": "outbound",
        "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "summary": "Quiere una visita",
        "outcome": "interested", "next_kind": "visit", "next_date": day.isoformat(), "next_time": "11:00",
    }


def assert_one_outcome(followup: FollowUp) -> None:
    followup.refresh_from_db()
    assert followup.status == FollowUp.State.DONE
    assert Interaction.objects.filter(client=followup.client).count() == 1
    # the follow-up itself and one next step
    assert FollowUp.objects.filter(client=followup.client).count() == 2
    assert followup.closed_by == Interaction.objects.get(client=followup.client)


# --- One after the other (a double submit) --------------------------------------------------

@pytest.mark.django_db
def test_a_double_submit_of_the_agenda_form_records_one_outcome_and_says_so(client, owner):
    followup = overdue_call(owner)
    client.force_login(owner)
    url = reverse("clients:followup_complete", args=[followup.pk])
    first = client.post(url, complete_data(followup), headers=HTMX)
    second = client.post(url, complete_data(followup), headers=HTMX)
    assert b'data-testid="done"' in first.content
    assert second.status_code == 200 and b'data-testid="followup-error"' in second.content
    assert_one_outcome(followup)


@pytest.mark.django_db
def test_a_double_submit_of_the_interaction_form_records_one_outcome_and_says_so(client, owner):
    followup = overdue_call(owner)
    client.force_login(owner)
    url = reverse("clients:interaction_create", args=[followup.client_id]) + f"?followup={followup.pk}"
    assert client.post(url, interaction_data(followup)).status_code == 302
    second = client.post(url, interaction_data(followup))
    assert second.status_code == 200 and b'role="alert"' in second.content  # the form says it is no longer pending
    assert_one_outcome(followup)
    # Opening the form again for it sends back to the client page with a message.
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_the_service_refuses_a_second_closing_without_writing_anything(owner):
    followup = overdue_call(owner)
    due = timezone.now() + dt.timedelta(days=2)
    for attempt in range(2):
        interaction = Interaction(kind="call", happened_at=timezone.now(), summary="Hablado", outcome="interested")
        if attempt == 0:
            records.interaction_record(
                client=followup.client, by=owner, interaction=interaction, closes=followup, next_due_at=due
            )
        else:
            stale = FollowUp.objects.get(pk=followup.pk)
            stale.status = FollowUp.State.PENDING  # as the second tab still saw it
            with pytest.raises(ValidationError):
                records.interaction_record(
                    client=followup.client, by=owner, interaction=interaction, closes=stale, next_due_at=due
                )
    assert_one_outcome(followup)


# --- At the same moment (PostgreSQL row locks) ----------------------------------------------

def wait_for_a_blocked_backend(timeout: float = 20) -> None:
    """Returns once another connection waits for a row lock: the second request is inside."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second request never waited for the lock")


def race(monkeypatch, submit) -> list:
    """Runs `submit` in two threads: the first holds the follow-up's lock until the second is
    blocked on it, then both finish. Returns what each returned."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE) need PostgreSQL")
    real = records._followup_pending_locked
    locked, release = threading.Event(), threading.Event()

    def held(followup, **where):
        current = real(followup, **where)
        if not locked.is_set():
            locked.set()
            assert release.wait(timeout=30)
        return current

    monkeypatch.setattr(records, "_followup_pending_locked", held)
    results = []

    def run():
        try:
            results.append(submit())
        finally:
            connection.close()

    first = threading.Thread(target=run)
    first.start()
    assert locked.wait(timeout=30)
    second = threading.Thread(target=run)
    second.start()
    try:
        wait_for_a_blocked_backend()
    finally:
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_completions_from_the_agenda_record_one_outcome(monkeypatch, owner):
    followup = overdue_call(owner)

    def submit():
        browser = django_test.Client()
        browser.force_login(owner)
        response = browser.post(
            reverse("clients:followup_complete", args=[followup.pk]), complete_data(followup), headers=HTMX
        )
        return "done" if b'data-testid="done"' in response.content else "refused"

    assert sorted(race(monkeypatch, submit)) == ["done", "refused"]
    assert_one_outcome(followup)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_interaction_forms_for_one_follow_up_record_one_outcome(monkeypatch, owner):
    followup = overdue_call(owner)
    url = reverse("clients:interaction_create", args=[followup.client_id]) + f"?followup={followup.pk}"

    def submit():
        browser = django_test.Client()
        browser.force_login(owner)
        return browser.post(url, interaction_data(followup)).status_code

    assert sorted(race(monkeypatch, submit)) == [200, 302]  # one recorded, one told it is no longer pending
    assert_one_outcome(followup)


@pytest.mark.django_db(transaction=True)
def test_a_move_and_a_completion_at_once_leave_one_consistent_result(monkeypatch, owner):
    followup = overdue_call(owner)
    calls = iter(["complete", "cancel"])
    lock = threading.Lock()

    def submit():
        with lock:
            which = next(calls)
        fresh = FollowUp.objects.select_related("client").get(pk=followup.pk)
        try:
            if which == "complete":
                records.followup_complete(
                    followup=fresh, by=owner,
                    interaction=Interaction(kind="call", happened_at=timezone.now(), summary="Hablado", outcome="interested"),
                )
            else:
                records.followup_cancel(followup=fresh, by=owner, reason="Ya no")
            return which
        except ValidationError:
            return "refused"

    assert sorted(race(monkeypatch, submit)) == ["complete", "refused"]
    followup.refresh_from_db()
    assert followup.status == FollowUp.State.DONE and followup.sequence == 0
