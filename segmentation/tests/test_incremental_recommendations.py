"""The incremental recommendations equal a recompute of every client on the same rules, night after night.

Forty-five simulated days of a small shop: purchases with lines recorded, corrected (their date)
and deleted through the write services, a merge, a client in the trash for three weeks, sector
edits, a product switched off and on again, two missed nights, and two years of history so that
purchases leave the 730-day window during the run. Each
night runs the lifecycle and then the recommendations as the nightly run does; after each, the
stored rows are compared with what `everyone=True` (every client's picks on the stored rules and
peer medians) gives, rolled back. The thresholds are short so that clients become and stop
being lost (lost clients get no recommendations).
"""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import transaction

from clients.models import Client, Product, Purchase, Recommendation, RecommendationStale, RecommendationState, Status
from clients.recommendations import RULES_DAYS, WINDOW_DAYS, recommendations_recompute
from clients.tests.factories import ClientFactory, ProductFactory
from segmentation import records
from segmentation.merge import client_merge, merge_defaults
from segmentation.services import lifecycle_recompute
from segmentation.tests.test_incremental_night import at, short_thresholds

START = dt.date(2026, 3, 2)
DAYS = 45
MISSED_NIGHTS = {9, 10, 30}

pytestmark = pytest.mark.django_db


def stored() -> list[tuple]:
    return sorted(
        Recommendation.objects.values_list("client_id", "kind", "product_id", "score", "value", "rank"),
        key=lambda row: (row[0], row[1], row[5]),
    )


def everyone_gives(day: dt.date) -> list[tuple]:
    with transaction.atomic():
        recommendations_recompute(as_of=day, everyone=True)
        rows = stored()
        transaction.set_rollback(True)
    return rows


def night(day: dt.date) -> dict:
    with at(day, 2):
        lifecycle_recompute(as_of=day)
        result = recommendations_recompute(as_of=day)
    assert stored() == everyone_gives(day), f"night of {day}"
    return result


def buy(client: Client, by, day: dt.date, rng: random.Random, products: list[Product]) -> Purchase:
    # Two families of products bought together, so that the rules have support.
    family = products[:4] if client.pk % 2 else products[3:]
    chosen = rng.sample(family, rng.randint(1, 3))
    small = 10 if client.pk % 3 == 0 else 1  # a third spend far less than their peers: room to grow
    return records.purchase_record(
        client=client, by=by, date=day,
        lines=[
            records.line_for(product=product, quantity=Decimal(1), unit_price=Decimal(rng.randint(5, 90)) / small)
            for product in chosen
        ],
    )


def test_forty_five_nights_equal_a_recompute_on_the_same_rules(owner):
    short_thresholds()
    rng = random.Random(20261203)
    products = [ProductFactory(name=f"P{index}") for index in range(8)]
    clients = [ClientFactory(owner=owner, sector=rng.choice(["Salud", "Hostelería"])) for _ in range(40)]
    with at(START - dt.timedelta(days=1), 12):
        for client in clients:
            for _ in range(rng.randint(1, 4)):
                # Some of the history sits at the far end of the 12-month or the 730-day window: it leaves during the run.
                back = rng.choice([rng.randint(1, 60), rng.randint(330, 380), rng.randint(WINDOW_DAYS - 40, WINDOW_DAYS + 5)])
                buy(client, owner, START - dt.timedelta(days=back), rng, products)
            if rng.random() < 0.3:
                records.purchase_record(client=client, by=owner, date=START - dt.timedelta(days=WINDOW_DAYS - 10), amount=Decimal(40))

    first = night(START)
    assert first["rebuilt"] and first["cross_sell"] > 20
    rebuilt, incremental = [], []
    for offset in range(1, DAYS + 1):
        day = START + dt.timedelta(days=offset)
        with at(day, 11):
            for _ in range(rng.randint(0, 3)):
                buy(rng.choice(clients), owner, day - dt.timedelta(days=rng.choice([0, 0, 1, 40])), rng, products)
            if rng.random() < 0.3:  # a purchase without lines: the spend moves, no basket
                records.purchase_record(client=rng.choice(clients), by=owner, date=day, amount=Decimal(rng.randint(5, 300)))
            purchases = list(Purchase.objects.order_by("id"))
            if rng.random() < 0.4:
                purchase = rng.choice(purchases)
                records.purchase_correct(purchase=purchase, by=owner, date=purchase.date - dt.timedelta(days=rng.randint(1, 30)))
            if rng.random() < 0.3:
                records.purchase_delete(purchase=rng.choice(purchases), by=owner)
            if offset == 20:
                survivor, absorbed = clients[1], clients[2]
                client_merge(by=owner, survivor=survivor, absorbed=absorbed, values=merge_defaults(survivor, absorbed))
                clients.remove(absorbed)
            if rng.random() < 0.3:  # a client changes sector: its peer group, and its room to grow
                client = rng.choice(clients)
                records.client_update(by=owner, client=client, data={"sector": rng.choice(["Salud", "Hostelería", "Retail"])})
            if offset == 12:  # a client with recommendations to the trash, and back three weeks later
                with_rows = Recommendation.objects.exclude(client__in=clients[1:3]).order_by("client_id").values("client_id")
                trashed = Client.objects.get(pk=with_rows[:1])  # not one of the two merged on day 20
                records.client_trash(by=owner, client=trashed)
            if offset == 33:
                records.client_restore(by=owner, client=trashed)
            if offset in (24, 26):  # a product switched off, then on again: the rules are rebuilt
                Product.objects.filter(pk=products[0].pk).update(is_active=offset == 26)
        if offset not in MISSED_NIGHTS:
            result = night(day)
            (rebuilt if result["rebuilt"] else incremental).append(offset)

    assert {24, 26} <= set(rebuilt)
    assert len(incremental) > 30
    assert not RecommendationStale.objects.exists()
    assert Recommendation.objects.filter(kind=Recommendation.Kind.ROOM_TO_GROW).count() >= 3
    assert Client.objects.filter(status=Status.LOST).exists()  # the simulation moved statuses
    assert RecommendationState.objects.get().as_of == START + dt.timedelta(days=DAYS)


def test_the_rules_are_rebuilt_once_a_week(owner):
    product = ProductFactory()
    ClientFactory(owner=owner)
    assert recommendations_recompute(as_of=START)["rebuilt"]
    for offset in range(1, RULES_DAYS):
        assert not recommendations_recompute(as_of=START + dt.timedelta(days=offset))["rebuilt"]
    assert recommendations_recompute(as_of=START + dt.timedelta(days=RULES_DAYS))["rebuilt"]
    assert recommendations_recompute(as_of=START + dt.timedelta(days=RULES_DAYS - 1))["rebuilt"]  # an earlier day
    assert recommendations_recompute(as_of=START + dt.timedelta(days=RULES_DAYS), full=True)["rebuilt"]
    assert product.is_active


def test_a_night_recomputes_only_the_clients_that_moved(owner):
    products = [ProductFactory() for _ in range(8)]
    clients = [ClientFactory(owner=owner) for _ in range(6)]
    rng = random.Random(4)
    with at(START, 10):
        for client in clients:
            buy(client, owner, START - dt.timedelta(days=5), rng, products)
    with at(START, 23):
        recommendations_recompute(as_of=START)
    with at(START + dt.timedelta(days=1), 10):
        buy(clients[0], owner, START + dt.timedelta(days=1), rng, products)
    result = recommendations_recompute(as_of=START + dt.timedelta(days=1))
    assert not result["rebuilt"] and result["clients"] == 1


def test_a_client_in_the_trash_has_no_recommendations_and_gets_them_back_restored(owner):
    products = [ProductFactory() for _ in range(8)]
    clients = [ClientFactory(owner=owner) for _ in range(12)]
    rng = random.Random(7)
    with at(START - dt.timedelta(days=1), 10):
        for client in clients:
            for _ in range(3):
                buy(client, owner, START - dt.timedelta(days=rng.randint(2, 40)), rng, products)
    recommendations_recompute(as_of=START)
    chosen = Client.objects.get(pk=Recommendation.objects.order_by("client_id").values("client_id")[:1])
    before = [row for row in stored() if row[0] == chosen.pk]
    with at(START + dt.timedelta(days=1), 10):
        records.client_trash(by=owner, client=chosen)
    assert recommendations_recompute(as_of=START + dt.timedelta(days=1))["clients"] == 1
    assert not Recommendation.objects.filter(client=chosen).exists()
    with at(START + dt.timedelta(days=2), 10):
        records.client_restore(by=owner, client=chosen)
    recommendations_recompute(as_of=START + dt.timedelta(days=2))
    assert [row for row in stored() if row[0] == chosen.pk] == before
