"""One currency rule, read side: rates by date, many at once, conversion, and the data migration."""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from clients.currency import convert, rate_for, rates_for, waiting_convert, waiting_purchases
from clients.models import ExchangeRate, Purchase
from clients.tests.factories import ClientFactory, PurchaseFactory

MARCH_1, MARCH_3, APRIL_1 = dt.date(2026, 3, 1), dt.date(2026, 3, 3), dt.date(2026, 4, 1)

migration = importlib.import_module("clients.migrations.0016_purchases_in_business_currency")


@pytest.fixture
def brl_rates(db):
    ExchangeRate.objects.create(currency="BRL", valid_from=MARCH_1, rate=Decimal("0.17"))
    ExchangeRate.objects.create(currency="BRL", valid_from=APRIL_1, rate=Decimal("0.18"))


def test_a_rate_holds_from_its_day_until_the_next(brl_rates):
    assert rate_for("BRL", dt.date(2026, 2, 28)) is None
    assert rate_for("BRL", MARCH_1) == Decimal("0.17")
    assert rate_for("BRL", dt.date(2026, 3, 31)) == Decimal("0.17")
    assert rate_for("brl", APRIL_1) == Decimal("0.18")
    assert rate_for("EUR", MARCH_1) == 1
    assert rate_for("CLP", MARCH_1) is None


def test_many_rates_in_one_query(brl_rates, django_assert_num_queries):
    ExchangeRate.objects.create(currency="CLP", valid_from=MARCH_1, rate=Decimal("0.001"))
    pairs = [("BRL", MARCH_1 + dt.timedelta(days=n)) for n in range(60)] + [("CLP", MARCH_3), ("EUR", MARCH_3), ("MXN", MARCH_3)]
    pairs.append(("BRL", dt.date(2026, 1, 1)))
    with django_assert_num_queries(1):  # the rates of the currencies asked for, read once
        found = rates_for(pairs)
    assert found[("BRL", MARCH_3)] == Decimal("0.17") and found[("BRL", dt.date(2026, 4, 29))] == Decimal("0.18")
    assert found[("CLP", MARCH_3)] == Decimal("0.001") and found[("EUR", MARCH_3)] == 1
    assert ("MXN", MARCH_3) not in found and ("BRL", dt.date(2026, 1, 1)) not in found


def test_conversion_rounds_half_up_to_the_cent():
    assert convert(Decimal("1000.00"), Decimal("0.1725")) == Decimal("172.50")
    assert convert(Decimal("0.25"), Decimal("0.5")) == Decimal("0.13")  # 0.125 → 0.13


@pytest.fixture
def record(owner):
    return ClientFactory(owner=owner)


def _held(record, **values) -> Purchase:
    """A purchase as 0015 left it: amount as paid, no original amount, no rate."""
    purchase = PurchaseFactory(client=record, **values)
    Purchase.objects.filter(pk=purchase.pk).update(original_amount=None, exchange_rate=None)
    return purchase


def test_the_migration_converts_what_it_can_and_leaves_the_rest_waiting(brl_rates, record):
    euros = _held(record, amount=Decimal("80.00"), date=MARCH_3)
    reais = _held(record, amount=Decimal("1000.00"), currency="BRL", date=MARCH_3)
    later_reais = _held(record, amount=Decimal("100.25"), currency="BRL", date=APRIL_1)
    pesos = _held(record, amount=Decimal("50000.00"), currency="CLP", date=MARCH_3)
    early_reais = _held(record, amount=Decimal("10.00"), currency="BRL", date=dt.date(2026, 2, 1))

    migration.purchases_in_business_currency(apps, None)
    migration.purchases_in_business_currency(apps, None)  # a second run changes nothing

    values = {p.pk: (p.amount, p.original_amount, p.exchange_rate) for p in Purchase.objects.all()}
    assert values[euros.pk] == (Decimal("80.00"), Decimal("80.00"), 1)
    assert values[reais.pk] == (Decimal("170.00"), Decimal("1000.00"), Decimal("0.17"))
    assert values[later_reais.pk] == (Decimal("18.05"), Decimal("100.25"), Decimal("0.18"))  # 18.045 → 18.05
    assert values[pesos.pk] == (0, Decimal("50000.00"), None)
    assert values[early_reais.pk] == (0, Decimal("10.00"), None)
    assert set(waiting_purchases().values_list("pk", flat=True)) == {pesos.pk, early_reais.pk}

    migration.purchases_as_paid(apps, None)
    assert Purchase.objects.get(pk=pesos.pk).amount == Decimal("50000.00")


def test_a_new_rate_converts_only_the_waiting_purchases_it_covers(brl_rates, record):
    waiting = _held(record, amount=Decimal("0"), currency="CLP", date=MARCH_3)
    Purchase.objects.filter(pk=waiting.pk).update(original_amount=Decimal("20000"))
    before = _held(record, amount=Decimal("0"), currency="CLP", date=dt.date(2026, 2, 1))
    Purchase.objects.filter(pk=before.pk).update(original_amount=Decimal("5000"))
    ExchangeRate.objects.create(currency="CLP", valid_from=MARCH_1, rate=Decimal("0.00098"))

    assert waiting_convert(currency="CLP") == 1
    waiting.refresh_from_db()
    assert (waiting.amount, waiting.exchange_rate) == (Decimal("19.60"), Decimal("0.00098"))
    assert list(waiting_purchases(currency="CLP")) == [Purchase.objects.get(pk=before.pk)]
