"""The rates page (administradores): list, add, delete; a new rate converts the waiting purchases,
audited, and their clients' figures follow; a deleted one sends its purchases back to the table."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from clients.models import ExchangeRate, Purchase
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.exchange_rates import exchange_rate_add, exchange_rate_delete, waiting_by_currency
from segmentation.services import lifecycle_recompute

URL = "/settings/rates/"
MARCH_3 = dt.date(2026, 3, 3)


def _waiting(client, paid: str, day=MARCH_3, currency="BRL") -> Purchase:
    return PurchaseFactory(client=client, date=day, amount=0, currency=currency, original_amount=Decimal(paid), exchange_rate=None)


@pytest.fixture
def record(owner):
    return ClientFactory(owner=owner)


@pytest.mark.parametrize(("persona", "status"), [
    ("owner", 403), ("manager", 403), ("other_manager", 403), ("admin_user", 200),
])
def test_only_an_administrador_keeps_the_rates(client, request, persona, status, record):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(URL).status_code == status
    response = client.post(URL, {"currency": "BRL", "valid_from": "2026-03-01", "rate": "0.17"})
    assert response.status_code == (302 if status == 200 else 403)
    assert ExchangeRate.objects.exists() == (status == 200)


def test_the_page_lists_rates_by_currency_and_the_waiting_purchases(client, admin_user, record):
    ExchangeRate.objects.create(currency="MXN", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.05"))
    _waiting(record, "100")
    _waiting(record, "200")
    client.force_login(admin_user)
    client.post(reverse("set_language"), {"language": "en"})
    page = client.get(URL).content.decode()
    assert 'data-testid="rates-MXN"' in page and "0.05" in page
    assert "2 purchases in BRL wait for a rate" in page
    assert 'data-testid="waiting-MXN"' not in page


def test_a_new_rate_converts_the_waiting_purchases_it_covers(client, admin_user, record):
    converted = _waiting(record, "1000")
    earlier = _waiting(record, "50", day=dt.date(2026, 2, 1))
    lifecycle_recompute()
    client.force_login(admin_user)
    response = client.post(URL, {"currency": "BRL", "valid_from": "2026-03-01", "rate": "0.1725"})
    assert response.status_code == 302

    converted.refresh_from_db()
    earlier.refresh_from_db()
    assert (converted.amount, converted.exchange_rate) == (Decimal("172.50"), Decimal("0.1725"))
    assert (earlier.amount, earlier.exchange_rate) == (0, None)
    record.refresh_from_db()
    assert record.total_spent == Decimal("172.50")
    entry = AuditEntry.objects.get(subject="purchase", object_id=converted.pk, action="update")
    assert entry.changes == {"amount": ["0.00", "172.50"], "exchange_rate": ["", "0.17250000"]} and entry.user == admin_user
    assert waiting_by_currency() == {"BRL": 1}


def test_a_rate_for_a_day_that_has_one_is_a_clear_error(client, admin_user):
    ExchangeRate.objects.create(currency="BRL", valid_from=dt.date(2026, 3, 1), rate=Decimal("0.17"))
    client.force_login(admin_user)
    client.post(reverse("set_language"), {"language": "en"})
    response = client.post(URL, {"currency": "BRL", "valid_from": "2026-03-01", "rate": "0.18"})
    assert response.status_code == 200
    assert "There is already a rate for BRL from March 1, 2026: delete it first." in response.content.decode()
    response = client.post(URL, {"currency": "BRL", "valid_from": "2026-03-02", "rate": "-1"})
    assert response.status_code == 200 and ExchangeRate.objects.count() == 1


def test_deleting_a_mistaken_rate_sends_its_purchases_back_to_the_table(admin_user, record):
    exchange_rate_add(by=admin_user, currency="BRL", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.17"))
    mistaken, _ = exchange_rate_add(by=admin_user, currency="BRL", valid_from=dt.date(2026, 3, 1), rate=Decimal("1.7"))
    purchase = _waiting(record, "100")
    Purchase.objects.filter(pk=purchase.pk).update(exchange_rate=Decimal("1.7"), amount=Decimal("170"))
    typed = PurchaseFactory(client=record, date=MARCH_3, amount=Decimal("20"), currency="BRL", original_amount=100, exchange_rate=Decimal("0.2"))

    assert exchange_rate_delete(by=admin_user, rate=mistaken) == 1
    purchase.refresh_from_db()
    typed.refresh_from_db()
    assert (purchase.amount, purchase.exchange_rate) == (Decimal("17.00"), Decimal("0.17"))  # the earlier rate now
    assert typed.amount == Decimal("20.00")  # a typed rate is the purchase's own
    assert exchange_rate_delete(by=admin_user, rate=mistaken) == 0  # a second click


def test_deleting_through_the_page(client, admin_user):
    rate = ExchangeRate.objects.create(currency="BRL", valid_from=dt.date(2026, 3, 1), rate=Decimal("0.17"))
    client.force_login(admin_user)
    assert client.get(reverse("segmentation:exchange_rate_delete", args=[rate.pk])).status_code == 405
    assert client.post(reverse("segmentation:exchange_rate_delete", args=[rate.pk])).status_code == 302
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize("size", [1, 8])
def test_the_page_runs_a_constant_number_of_queries(client, admin_user, record, size, django_assert_num_queries):
    for n in range(size):
        for code in ("BRL", "MXN", "CLP"):
            ExchangeRate.objects.create(currency=code, valid_from=dt.date(2026, 1, 1) + dt.timedelta(days=n), rate=Decimal("0.1"))
        _waiting(record, "10", currency="USD")
    client.force_login(admin_user)
    # The session, the user, the user's role (the navbar); then the waiting purchases counted per
    # currency and the rates with who added them: 5, whatever the number of rates and purchases.
    with django_assert_num_queries(5):
        assert client.get(URL).status_code == 200
