"""The incremental night equals a full recompute, day after day.

Sixty simulated days of a small business: each night runs as beat runs it (the lifecycle, the
automatic follow-ups and the colours), then every client's stored figures, status, classes and
colour are compared with what a full recompute gives (`recompute_lifecycle --verify`'s check and a
full colour pass, both rolled back). During each day purchases are recorded, corrected and deleted
through the write services, interactions, follow-ups and contracts come and go, a client is
closed, and two nights are missed (the next one catches up). The thresholds are short so that
statuses, tiers, quintiles and colours move every few days.
"""

import datetime as dt
import random
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from clients.models import Client, FollowUp, Interaction, Purchase, Status
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation import records
from segmentation.alerts import recompute_alerts
from segmentation.engine import lifecycle_differences
from segmentation.models import LifecycleSettings, LifecycleState
from segmentation.services import current_thresholds, lifecycle_recompute, lifecycle_refresh_client

START = dt.date(2026, 3, 2)
DAYS = 60
MISSED_NIGHTS = {17, 18, 41}


@contextmanager
def at(day: dt.date, hour: int):
    """Cartera's clock on `day` at `hour` local time (every service reads timezone.now)."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def short_thresholds() -> None:
    settings = LifecycleSettings.current()
    for name, value in {
        "alta_window_days": 6, "dormido_after_days": 15, "baja_after_days": 35, "frequent_max_days": 4,
        "habitual_max_days": 12, "valuable_dormant_days": 5, "due_soon_days": 2, "awaiting_limit_days": 3,
        "contact_cadence_days": 9, "renewal_notice_days": 10,
    }.items():
        setattr(settings, name, value)
    settings.save()


def full_colours_would_change(moment: dt.datetime) -> int:
    with transaction.atomic():
        changed = recompute_alerts(moment, current_thresholds())
        transaction.set_rollback(True)
    return changed


def night(day: dt.date) -> dict:
    with at(day, 2) as moment:
        result = lifecycle_recompute(as_of=day)
        differences = lifecycle_differences(day, current_thresholds())
        assert differences == [], f"night of {day}: {differences[:5]}"
        assert full_colours_would_change(moment) == 0, f"colours of the night of {day}"
    return result


def a_day(day: dt.date, rng: random.Random, clients: list[Client], owner) -> None:
    with at(day, 11) as moment:
        for _ in range(rng.randint(0, 4)):
            client = rng.choice(clients)
            records.purchase_record(
                client=client, by=owner, date=day - dt.timedelta(days=rng.choice([0, 0, 1, 3, 380])),
                amount=Decimal(rng.randint(5, 900)),
            )
        purchases = list(Purchase.objects.order_by("id"))
        if rng.random() < 0.5:
            purchase = rng.choice(purchases)
            records.purchase_correct(
                purchase=purchase, by=owner, date=max(purchase.date - dt.timedelta(days=rng.randint(0, 20)), START - dt.timedelta(days=500)),
                amount=Decimal(rng.randint(5, 900)),
            )
        if rng.random() < 0.3:
            records.purchase_delete(purchase=rng.choice(purchases), by=owner)
        if rng.random() < 0.6:
            # Some note a competitor, a price objection or no interest: a lost client's reason for leaving.
            noted = rng.choice([{}, {}, {"competitor_notes": "Compra a Distribuciones Sur"},
                                {"objections": "Dice que es muy caro"}, {"outcome": Interaction.Outcome.NOT_INTERESTED}])
            records.interaction_record(
                client=rng.choice(clients), by=owner,
                interaction=Interaction(
                    kind=Interaction.Kind.CALL, summary="Llamada", happened_at=moment - dt.timedelta(hours=rng.randint(0, 30)),
                    awaiting_reply=rng.random() < 0.5, **noted,
                ),
            )
        if rng.random() < 0.5:
            records.followup_schedule(
                client=rng.choice(clients), by=owner, kind=FollowUp.Kind.CALL,
                due_at=moment + dt.timedelta(days=rng.randint(-2, 5), hours=rng.randint(0, 8)),
            )
        if rng.random() < 0.2:
            client = rng.choice(clients)
            records.contract_create(
                client=client, by=owner, title="Mantenimiento", start_date=day - dt.timedelta(days=200),
                end_date=day + dt.timedelta(days=rng.randint(0, 25)), value=Decimal("1200"),
            )
        if day == START + dt.timedelta(days=30):
            closing = clients[0]
            Client.objects.filter(pk=closing.pk).update(closed_at=day, close_reason=Client.CloseReason.OTHER)
            lifecycle_refresh_client(closing.pk)
        if rng.random() < 0.1:  # a lost client's answer to "why did you leave" (the survey's write)
            lost = [client for client in Client.objects.filter(status=Status.LOST, close_reason="")]
            if lost:
                records.client_update(by=None, client=rng.choice(lost), data={"close_reason": Client.CloseReason.SERVICE})


def test_sixty_nights_equal_a_full_recompute(owner):
    short_thresholds()
    rng = random.Random(20261203)
    clients = []
    for index in range(36):
        created = timezone.make_aware(dt.datetime.combine(START - dt.timedelta(days=rng.randint(0, 300)), dt.time(9)))
        client = ClientFactory(owner=owner, created_at=created)
        for _ in range(index % 6):
            PurchaseFactory(
                client=client, date=START - dt.timedelta(days=rng.randint(1, 420)), amount=Decimal(rng.randint(5, 900)),
            )
        clients.append(client)

    first = night(START)
    assert first["mode"] == "full"
    modes = []
    for offset in range(1, DAYS + 1):
        day = START + dt.timedelta(days=offset)
        if offset not in MISSED_NIGHTS:
            modes.append(night(day)["mode"])
        a_day(day, rng, clients, owner)

    assert set(modes) == {"incremental"}
    state = LifecycleState.objects.get()
    assert state.full_as_of == START and state.as_of == START + dt.timedelta(days=DAYS)
    statuses = set(Client.objects.values_list("status", flat=True))
    assert {Status.ACTIVE, Status.DORMANT, Status.LOST} <= statuses, statuses  # the simulation moved them
    reasons = set(Client.objects.values_list("leave_reason", flat=True))
    assert len(reasons - {""}) >= 2, reasons  # and gave bajas reasons for leaving


def test_new_thresholds_make_the_next_night_full(owner):
    PurchaseFactory(client=ClientFactory(owner=owner), date=START - dt.timedelta(days=3))
    assert night(START)["mode"] == "full"
    assert night(START + dt.timedelta(days=1))["mode"] == "incremental"
    short_thresholds()
    assert night(START + dt.timedelta(days=2))["mode"] == "full"
    assert night(START + dt.timedelta(days=3))["mode"] == "incremental"
    assert night(START + dt.timedelta(days=1))["mode"] == "full"  # a day before the last run's


def test_a_write_between_nights_sets_the_classes_on_the_last_cut_points(owner):
    """A first purchase shows its tier and scores at once, as the next night will confirm."""
    buyers = [ClientFactory(owner=owner) for _ in range(5)]
    for index, client in enumerate(buyers):
        PurchaseFactory(client=client, date=START - dt.timedelta(days=10 + index), amount=Decimal(100 * (index + 1)))
    night(START)
    newcomer = ClientFactory(owner=owner)
    with at(START, 12):
        records.purchase_record(client=newcomer, by=owner, date=START, amount=Decimal("2000"))
    newcomer.refresh_from_db()
    assert newcomer.status == Status.NEW
    assert newcomer.volume_tier == "very_high" and newcomer.r_score is not None and newcomer.rfm_segment
    night(START + dt.timedelta(days=1))


@pytest.mark.parametrize("full", [False, True])
def test_the_command_says_which_run_it_made(owner, full):
    from io import StringIO

    from django.core.management import call_command

    PurchaseFactory(client=ClientFactory(owner=owner), date=START - dt.timedelta(days=3))
    night(START)
    out = StringIO()
    with at(START + dt.timedelta(days=1), 2):
        args = ["recompute_lifecycle", "--as-of", (START + dt.timedelta(days=1)).isoformat()]
        call_command(*args, *(["--full"] if full else []), stdout=out)
    assert ("(full run)" if full else "(incremental run)") in out.getvalue()


def test_shifted_cut_points_are_the_cut_points_of_a_later_day(owner):
    """Nothing bought meanwhile: the last run's cut points moved by d days are the cut points a
    run d days later computes (what a write between two nights, or after a missed one, uses)."""
    from segmentation.engine import global_cuts

    for index in range(12):
        PurchaseFactory(client=ClientFactory(owner=owner), date=START - dt.timedelta(days=5 * index), amount=Decimal(10 + index))
    later = START + dt.timedelta(days=3)
    shifted = global_cuts(START, stored=False).shifted(3)
    assert shifted.r_bounds == global_cuts(later, stored=False).r_bounds
    assert shifted.r_bounds != global_cuts(START, stored=False).r_bounds
