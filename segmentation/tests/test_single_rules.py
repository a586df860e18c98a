"""Rules written once and read by several jobs: the renewal window, the volume-tier cut."""

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from clients.models import Client, Contract, FollowUp
from clients.tests.factories import ClientFactory, ContractFactory
from segmentation.alerts import recompute_alerts
from segmentation.automation import automatic_followups_create
from segmentation.engine import preview_tiers
from segmentation.rules import Thresholds

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 12, 12, 0, tzinfo=ZoneInfo("Europe/Madrid"))
TODAY = NOW.date()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_the_renewal_window_is_pending_contracts_ending_from_the_day_to_the_day_plus_the_days(owner):
    client = ClientFactory(owner=owner)
    ends = {
        "yesterday": (TODAY - days(1), "pending"), "today": (TODAY, "pending"), "last day": (TODAY + days(30), "pending"),
        "a day late": (TODAY + days(31), "pending"), "negotiating": (TODAY + days(5), "negotiating"),
    }
    for title, (end, renewal) in ends.items():
        ContractFactory(client=client, title=title, start_date=end - days(365), end_date=end, renewal_status=renewal)
    assert set(Contract.objects.renewal_due(TODAY, 30).values_list("title", flat=True)) == {"today", "last day"}


def test_the_renewal_alert_and_the_renewal_call_see_the_same_contracts(owner):
    """With the same day count, every client the alert turns red for a renewal gets the call."""
    thresholds = dataclasses.replace(Thresholds(), renewal_notice_days=20, renewal_call_days=20)
    for offset in (-1, 0, 10, 20, 21):
        client = ClientFactory(owner=owner, status="active", created_at=NOW - days(10))
        ContractFactory(client=client, start_date=TODAY - days(300), end_date=TODAY + days(offset))
    recompute_alerts(NOW, thresholds)
    red = set(Client.objects.filter(alert_reason="contract_renewal").values_list("pk", flat=True))
    automatic_followups_create(as_of=TODAY, thresholds=thresholds)
    called = set(FollowUp.objects.filter(origin=FollowUp.Origin.RENEWAL).values_list("client_id", flat=True))
    assert len(red) == 3 and red == called


def test_the_tier_preview_without_spenders_leaves_everyone_without_a_tier(owner):
    ClientFactory.create_batch(3, owner=owner)
    assert preview_tiers(Thresholds()) == {"": 3, "very_high": 0, "high": 0, "medium": 0, "low": 0}


def test_the_tier_preview_cuts_at_the_ratios_to_the_mean_spend(owner):
    # The spenders' mean is 500 / 5 = 100: the cuts 2.0, 1.2 and 0.6 fall at 200, 120 and 60, each reached.
    for spend in ("200.00", "120.00", "119.99", "60.00", "0.01", "0", "0"):
        ClientFactory(owner=owner, spend_12m=Decimal(spend))
    assert preview_tiers(Thresholds()) == {"": 2, "very_high": 1, "high": 1, "medium": 2, "low": 1}
