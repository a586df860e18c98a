"""Automatic follow-ups (segmentation/automation.py): each rule at its boundaries, switches, never twice."""

import dataclasses
import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import FollowUp, Status
from clients.tests.factories import ClientFactory, ContractFactory, FollowUpFactory, PurchaseFactory
from segmentation.automation import DUE_TIME, automatic_followups_create
from segmentation.models import StatusChange
from segmentation.rules import Thresholds
from segmentation.services import lifecycle_recompute, lifecycle_refresh_client

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 12)
RULES = Thresholds()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def at_ten(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, DUE_TIME))


def run(thresholds: Thresholds = RULES, as_of: dt.date = TODAY, **kwargs) -> dict[str, int]:
    return automatic_followups_create(as_of=as_of, thresholds=thresholds, **kwargs)


def automatic(origin: str):
    return list(FollowUp.objects.filter(origin=origin))


def turned_dormant(changed_on: dt.date, *, status: str = Status.DORMANT, from_status: str = Status.ACTIVE, **fields):
    client = ClientFactory(status=status, **fields)
    StatusChange.objects.create(client=client, from_status=from_status, to_status=Status.DORMANT, date=changed_on)
    return client


# --- reactivation -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("case", "changed_on", "still", "expected_due"),
    [
        ("turned dormant tonight", TODAY, Status.DORMANT, TODAY + days(2)),
        ("6 days ago: a missed night is caught up", TODAY - days(6), Status.DORMANT, TODAY - days(4)),
        ("7 days ago: too old", TODAY - days(7), Status.DORMANT, None),
        ("bought again since", TODAY, Status.ACTIVE, None),
        ("a change dated after as_of", TODAY + days(1), Status.DORMANT, None),
    ],
)
def test_reactivation_call_when_a_client_turns_dormant(case, changed_on, still, expected_due, owner):
    client = turned_dormant(changed_on, status=still, owner=owner)
    run()
    calls = automatic(FollowUp.Origin.REACTIVATION)
    if expected_due is None:
        assert calls == [], case
        return
    [call] = calls
    assert (call.client, call.assigned_to, call.kind, call.due_at) == (client, owner, "call", at_ten(expected_due)), case
    assert call.origin_key == changed_on.isoformat()
    assert call.created_by is None


def test_reactivation_day_count_is_the_administradors(owner):
    turned_dormant(TODAY, owner=owner)
    run(dataclasses.replace(RULES, reactivation_due_days=5))
    assert automatic(FollowUp.Origin.REACTIVATION)[0].due_at == at_ten(TODAY + days(5))


def test_dormant_to_dormant_is_not_a_turn(owner):
    turned_dormant(TODAY, from_status=Status.DORMANT, owner=owner)
    run()
    assert automatic(FollowUp.Origin.REACTIVATION) == []


def test_a_client_who_turns_dormant_again_later_gets_a_new_call(owner):
    client = turned_dormant(TODAY - days(200), owner=owner)
    FollowUpFactory(client=client, origin=FollowUp.Origin.REACTIVATION, origin_key=(TODAY - days(200)).isoformat())
    StatusChange.objects.create(client=client, from_status=Status.ACTIVE, to_status=Status.DORMANT, date=TODAY)
    assert run()[FollowUp.Origin.REACTIVATION] == 1


# --- renewal ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("case", "end", "renewal", "client_status", "created"),
    [
        ("ends today", TODAY, "pending", Status.ACTIVE, True),
        ("ends in 30 days", TODAY + days(30), "pending", Status.ACTIVE, True),
        ("ends in 31 days", TODAY + days(31), "pending", Status.ACTIVE, False),
        ("ended yesterday", TODAY - days(1), "pending", Status.ACTIVE, False),
        ("already renewed", TODAY + days(10), "renewed", Status.ACTIVE, False),
        ("in negotiation", TODAY + days(10), "negotiating", Status.ACTIVE, False),
        ("lost client", TODAY + days(10), "pending", Status.LOST, False),
    ],
)
def test_renewal_call_before_a_contract_ends(case, end, renewal, client_status, created, owner):
    client = ClientFactory(owner=owner, status=client_status)
    contract = ContractFactory(client=client, start_date=end - days(365), end_date=end, renewal_status=renewal)
    run()
    calls = automatic(FollowUp.Origin.RENEWAL)
    assert bool(calls) is created, case
    if created:
        assert (calls[0].assigned_to, calls[0].due_at, calls[0].origin_key) == (owner, at_ten(TODAY), str(contract.pk))


def test_each_contract_gets_its_own_renewal_call(owner):
    client = ClientFactory(owner=owner, status=Status.ACTIVE)
    for end in (TODAY + days(5), TODAY + days(20)):
        ContractFactory(client=client, start_date=end - days(365), end_date=end, renewal_status="pending")
    assert run()[FollowUp.Origin.RENEWAL] == 2
    assert run()[FollowUp.Origin.RENEWAL] == 0


def test_renewal_day_count_is_the_administradors(owner):
    client = ClientFactory(owner=owner, status=Status.ACTIVE)
    ContractFactory(client=client, start_date=TODAY - days(300), end_date=TODAY + days(50), renewal_status="pending")
    assert run()[FollowUp.Origin.RENEWAL] == 0
    assert run(dataclasses.replace(RULES, renewal_call_days=60))[FollowUp.Origin.RENEWAL] == 1


# --- welcome ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("case", "status", "first", "expected_due"),
    [
        ("first purchase today", Status.NEW, TODAY, TODAY + days(7)),
        ("first purchase 7 days ago", Status.NEW, TODAY - days(7), TODAY),
        ("first purchase 20 days ago: due today, not in the past", Status.NEW, TODAY - days(20), TODAY),
        ("active", Status.ACTIVE, TODAY - days(100), None),
        ("prospect", Status.PROSPECT, None, None),
    ],
)
def test_welcome_call_for_a_new_client(case, status, first, expected_due, owner):
    ClientFactory(owner=owner, status=status, first_purchase_date=first, last_purchase_date=first)
    run()
    calls = automatic(FollowUp.Origin.WELCOME)
    if expected_due is None:
        assert calls == [], case
    else:
        assert [(c.assigned_to, c.due_at) for c in calls] == [(owner, at_ten(expected_due))], case


def test_welcome_call_only_once_per_client_even_after_it_is_done(owner):
    ClientFactory(owner=owner, status=Status.NEW, first_purchase_date=TODAY, last_purchase_date=TODAY)
    run()
    FollowUp.objects.update(status=FollowUp.State.DONE)
    assert run()[FollowUp.Origin.WELCOME] == 0
    assert FollowUp.objects.count() == 1


# --- switches, idempotency, scope, the guard ------------------------------------------------

def _one_of_each(owner):
    turned_dormant(TODAY, owner=owner)
    client = ClientFactory(owner=owner, status=Status.ACTIVE)
    ContractFactory(client=client, start_date=TODAY - days(300), end_date=TODAY + days(10), renewal_status="pending")
    ClientFactory(owner=owner, status=Status.NEW, first_purchase_date=TODAY, last_purchase_date=TODAY)


def test_running_again_creates_nothing(owner):
    _one_of_each(owner)
    assert run() == {"reactivation": 1, "renewal": 1, "welcome": 1}
    assert run() == {"reactivation": 0, "renewal": 0, "welcome": 0}
    assert FollowUp.objects.count() == 3


@pytest.mark.parametrize(
    ("switch", "origin"),
    [("auto_reactivation_enabled", "reactivation"), ("auto_renewal_enabled", "renewal"), ("auto_welcome_enabled", "welcome")],
)
def test_each_rule_can_be_switched_off(switch, origin, owner):
    _one_of_each(owner)
    created = run(dataclasses.replace(RULES, **{switch: False}))
    assert created[origin] == 0
    assert sum(created.values()) == 2
    assert not FollowUp.objects.filter(origin=origin).exists()


def test_scoped_to_some_clients(owner):
    _one_of_each(owner)
    new_client = ClientFactory(owner=owner, status=Status.NEW, first_purchase_date=TODAY, last_purchase_date=TODAY)
    assert run(client_ids=[new_client.pk]) == {"reactivation": 0, "renewal": 0, "welcome": 1}


def test_the_database_refuses_a_second_automatic_follow_up_with_the_same_key(owner):
    client = ClientFactory(owner=owner)
    FollowUpFactory(client=client, origin=FollowUp.Origin.WELCOME, origin_key="")
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUpFactory(client=client, origin=FollowUp.Origin.WELCOME, origin_key="")
    # Follow-ups scheduled by hand are never limited.
    FollowUpFactory(client=client)
    FollowUpFactory(client=client)


# --- through the nightly run and a purchase --------------------------------------------------

def test_the_nightly_run_turns_a_client_dormant_and_books_the_reactivation_call(owner):
    today = timezone.localdate()
    client = ClientFactory(owner=owner, status=Status.ACTIVE, status_since=today - days(60))
    PurchaseFactory(client=client, date=today - days(200))
    PurchaseFactory(client=client, date=today - days(91))
    result = lifecycle_recompute(as_of=today)
    assert result["followups_created"]["reactivation"] == 1
    call = FollowUp.objects.get(client=client, origin=FollowUp.Origin.REACTIVATION)
    assert call.due_at == at_ten(today + days(2))
    client.refresh_from_db()
    # The call is due within the "due soon" days, so the colour says so.
    assert (client.status, client.alert, client.alert_reason) == ("dormant", "yellow", "followup_due_soon")
    assert lifecycle_recompute(as_of=today)["followups_created"]["reactivation"] == 0


def test_a_first_purchase_books_the_welcome_call_at_once(owner):
    client = ClientFactory(owner=owner)
    PurchaseFactory(client=client, date=timezone.localdate())
    lifecycle_refresh_client(client.pk)
    call = FollowUp.objects.get(client=client)
    assert (call.origin, call.due_at) == ("welcome", at_ten(timezone.localdate() + days(7)))
