"""One currency rule, write side: a purchase in another currency keeps what was paid and the rate
used (typed, or the table's by date), its amount is the converted one, and the figures add that."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from clients.models import AMOUNT_MAX, ExchangeRate, Purchase
from clients.tests.factories import ClientFactory, ProductFactory
from clients.tests.test_orders import lines_payload
from segmentation import records

MARCH_3 = dt.date(2026, 3, 3)


@pytest.fixture
def record(owner):
    return ClientFactory(owner=owner)


@pytest.fixture
def brl(db):
    return ExchangeRate.objects.create(currency="BRL", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.1725"))


def _english(client) -> None:
    client.post(reverse("set_language"), {"language": "en"})


def test_a_purchase_in_reais_is_converted_at_the_tables_rate_and_keeps_what_was_paid(record, owner, brl):
    purchase = records.purchase_record(client=record, by=owner, date=MARCH_3, amount=Decimal("1000"), currency="BRL")

    assert (purchase.amount, purchase.original_amount, purchase.currency, purchase.exchange_rate) == (
        Decimal("172.50"), Decimal("1000.00"), "BRL", Decimal("0.1725"),
    )
    record.refresh_from_db()
    assert record.total_spent == Decimal("172.50")  # the figures add euros only
    entry = AuditEntry.objects.get(subject="purchase", object_id=purchase.pk)
    assert entry.changes["original_amount"] == ["", "1000.00"] and entry.changes["exchange_rate"] == ["", "0.17250000"]


def test_a_typed_rate_wins_over_the_tables(record, owner, brl):
    purchase = records.purchase_record(
        client=record, by=owner, date=MARCH_3, amount=Decimal("1000"), currency="BRL", exchange_rate=Decimal("0.2"),
    )
    assert (purchase.amount, purchase.exchange_rate) == (Decimal("200.00"), Decimal("0.2"))


def test_no_rate_typed_nor_in_the_table_records_nothing(record, owner, settings):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(ValidationError) as error:
        records.purchase_record(client=record, by=owner, date=MARCH_3, amount=Decimal("10"), currency="CLP")
    assert "No exchange rate for CLP on" in str(error.value)
    assert not Purchase.objects.exists()


def test_the_business_currency_is_worth_one(record, owner):
    purchase = records.purchase_record(client=record, by=owner, date=MARCH_3, amount=Decimal("80.5"))
    assert (purchase.amount, purchase.original_amount, purchase.currency, purchase.exchange_rate) == (
        Decimal("80.50"), Decimal("80.50"), "EUR", 1,
    )
    entry = AuditEntry.objects.get(subject="purchase", object_id=purchase.pk)
    assert "original_amount" not in entry.changes  # in euros it would only repeat the amount


def test_the_limits_apply_to_the_converted_amount(record, owner):
    ExchangeRate.objects.create(currency="CLP", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.001"))
    big = AMOUNT_MAX + 1  # in pesos: about 10 million euros, within a purchase's limit
    purchase = records.purchase_record(client=record, by=owner, date=MARCH_3, amount=big, currency="CLP")
    assert purchase.amount == Decimal("10000000.00") and purchase.original_amount == big
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2026, 1, 1), rate=Decimal("2"))
    with pytest.raises(ValidationError):
        records.purchase_record(client=record, by=owner, date=MARCH_3, amount=AMOUNT_MAX / 2 + 1, currency="USD")


def test_lines_are_priced_in_the_purchases_currency(record, owner, brl):
    product = ProductFactory(price=Decimal("50"))
    line = records.line_for(product=product, quantity=Decimal("3"), unit_price=Decimal("100"))
    purchase = records.purchase_record(client=record, by=owner, date=MARCH_3, lines=[line], currency="BRL")
    assert purchase.original_amount == Decimal("300.00") and purchase.amount == Decimal("51.75")
    assert purchase.lines.get().unit_price == Decimal("100.00")


def test_correcting_what_was_paid_converts_it_again(record, owner, brl):
    purchase = records.purchase_record(client=record, by=owner, date=MARCH_3, amount=Decimal("1000"), currency="BRL")
    records.purchase_correct(purchase=purchase, by=owner, amount=Decimal("2000"))
    purchase.refresh_from_db()
    assert (purchase.amount, purchase.original_amount) == (Decimal("345.00"), Decimal("2000.00"))
    records.purchase_correct(purchase=purchase, by=owner, currency="EUR", amount=Decimal("300"))
    purchase.refresh_from_db()
    assert (purchase.amount, purchase.original_amount, purchase.exchange_rate) == (Decimal("300.00"), Decimal("300.00"), 1)
    record.refresh_from_db()
    assert record.total_spent == Decimal("300.00")
    with pytest.raises(ValidationError):
        records.purchase_correct(purchase=purchase, by=owner, currency="MXN")


def test_a_new_currency_is_not_converted_at_the_old_ones_rate_sent_back(record, owner, brl):
    """The admin's change form sends the stored rate back with a new currency."""
    purchase = records.purchase_record(client=record, by=owner, date=MARCH_3, amount=Decimal("1000"))
    records.purchase_correct(purchase=purchase, by=owner, currency="BRL", amount=Decimal("1000"), exchange_rate=Decimal("1"))
    purchase.refresh_from_db()
    assert (purchase.amount, purchase.exchange_rate) == (Decimal("172.50"), Decimal("0.1725"))


def test_correcting_the_notes_of_a_business_currency_purchase_leaves_its_money_alone(record, owner):
    purchase = records.purchase_record(client=record, by=owner, date=MARCH_3, amount=Decimal("10"))
    records.purchase_correct(purchase=purchase, by=owner, notes="a", exchange_rate=None, amount=Decimal("10"))
    purchase.refresh_from_db()
    assert (purchase.notes, purchase.amount, purchase.exchange_rate) == ("a", Decimal("10.00"), 1)


# The form

def test_the_form_converts_at_a_typed_rate(client, owner, record):
    client.force_login(owner)
    payload = lines_payload(amount="1000", currency="BRL", exchange_rate="0.18")
    assert client.post(reverse("clients:purchase_create", args=[record.pk]), payload).status_code == 302
    purchase = record.purchases.get()
    assert (purchase.amount, purchase.original_amount, purchase.exchange_rate) == (Decimal("180.00"), Decimal("1000.00"), Decimal("0.18"))


def test_the_form_takes_the_tables_rate_when_none_is_typed(client, owner, record, brl):
    client.force_login(owner)
    payload = lines_payload(amount="1000", currency="BRL", exchange_rate="")
    assert client.post(reverse("clients:purchase_create", args=[record.pk]), payload).status_code == 302
    assert record.purchases.get().amount == Decimal("172.50")


def test_the_form_says_which_rate_is_missing(client, owner, record):
    client.force_login(owner)
    _english(client)
    payload = lines_payload(amount="1000", currency="BRL", exchange_rate="", date="2026-03-03")
    response = client.post(reverse("clients:purchase_create", args=[record.pk]), payload)
    assert response.status_code == 200
    assert "No exchange rate for BRL on March 3, 2026: type it, or ask an administrador to add it." in response.content.decode()
    assert not Purchase.objects.exists()


def test_the_form_offers_the_rate_field_and_the_business_currency(client, owner, record):
    client.force_login(owner)
    page = client.get(reverse("clients:purchase_create", args=[record.pk])).content.decode()
    assert 'data-business-currency="EUR"' in page and "data-exchange-rate" in page and "purchase_currency.js" in page


def test_the_edit_form_shows_what_was_paid_and_keeps_the_rate(client, owner, record, brl):
    purchase = records.purchase_record(
        client=record, by=owner, date=MARCH_3, amount=Decimal("1000"), currency="BRL", exchange_rate=Decimal("0.2"),
    )
    client.force_login(owner)
    url = reverse("clients:purchase_edit", args=[record.pk, purchase.pk])
    page = client.get(url).content.decode()
    assert 'value="1000.00"' in page and 'value="0.20000000"' in page
    data = {"date": "2026-03-03", "amount": "1500", "currency": "BRL", "exchange_rate": "0.20000000"}
    assert client.post(url, data).status_code == 302
    purchase.refresh_from_db()
    assert (purchase.amount, purchase.original_amount, purchase.exchange_rate) == (Decimal("300.00"), Decimal("1500.00"), Decimal("0.2"))
    assert timezone.localdate() >= purchase.date


# The admin and the privacy export

def _admin_add(client, record, **values):
    data = {
        "client": record.pk, "date": "2026-03-03", "amount": "1000", "currency": "BRL", "exchange_rate": "",
        "payment_method": "", "channel": "", "notes": "",
        "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
        **values,
    }
    return client.post(reverse("admin:clients_purchase_add"), data)


def test_the_admin_converts_too_and_says_when_it_cannot(client, admin_user, record):
    client.force_login(admin_user)
    response = _admin_add(client, record)
    assert response.status_code == 200 and "No hay tipo de cambio para BRL" in response.content.decode()
    assert _admin_add(client, record, exchange_rate="0.2").status_code == 302
    purchase = Purchase.objects.get()
    assert (purchase.amount, purchase.original_amount) == (Decimal("200.00"), Decimal("1000.00"))
    url = reverse("admin:clients_purchase_change", args=[purchase.pk])
    assert 'value="1000.00"' in client.get(url).content.decode()  # what was paid, in reais


def test_the_privacy_export_keeps_what_was_paid(record, owner, brl):
    from privacy.services import client_data

    records.purchase_record(client=record, by=owner, date=MARCH_3, amount=Decimal("1000"), currency="BRL")
    exported = client_data(record)["purchases"][0]
    assert (exported["currency"], exported["original_amount"], exported["amount"]) == ("BRL", "1000.00", "172.50")


def test_the_form_looks_up_the_tables_rate_for_a_date(client, owner, brl):
    client.force_login(owner)
    url = reverse("clients:exchange_rate_lookup")
    assert client.get(url, {"currency": "BRL", "date": "2026-03-03"}).json() == {"rate": "0.1725"}
    assert client.get(url, {"currency": "EUR", "date": "2026-03-03"}).json() == {"rate": "1"}
    missing = client.get(url, {"currency": "CLP", "date": "bad"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert missing["rate"] is None and missing["message"].startswith("No exchange rate for CLP on")


def test_a_purchase_waiting_for_a_rate_can_be_corrected_and_keeps_waiting(client, owner, record):
    purchase = Purchase.objects.create(
        client=record, date=MARCH_3, amount=0, currency="CLP", original_amount=Decimal("20000"), exchange_rate=None,
    )
    client.force_login(owner)
    url = reverse("clients:purchase_edit", args=[record.pk, purchase.pk])
    data = {"date": "2026-03-03", "amount": "20000.00", "currency": "CLP", "exchange_rate": "", "notes": "Factura 12"}
    assert client.post(url, data).status_code == 302
    purchase.refresh_from_db()
    assert (purchase.notes, purchase.amount, purchase.exchange_rate) == ("Factura 12", 0, None)
    assert client.post(url, {**data, "exchange_rate": "0.001"}).status_code == 302  # a rate typed converts it
    purchase.refresh_from_db()
    assert (purchase.amount, purchase.exchange_rate) == (Decimal("20.00"), Decimal("0.001"))
