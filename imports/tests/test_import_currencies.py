"""A purchases file with a currency column (and, optionally, a rate): each row converted by the
rates table at its date, in one lookup; a row whose currency has no rate is refused."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from audit.models import AuditEntry
from clients.models import ExchangeRate, Purchase
from clients.tests.factories import ClientFactory
from imports.services import Kind, import_analyse, import_apply, proposed_mapping
from imports.spreadsheets import read_table

TODAY = dt.date(2026, 6, 30)


@pytest.fixture
def buyers(owner):
    ClientFactory(owner=owner, client_ref="C-1")
    ClientFactory(owner=owner, client_ref="C-2")
    ExchangeRate.objects.create(currency="BRL", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.17"))
    ExchangeRate.objects.create(currency="BRL", valid_from=dt.date(2026, 4, 1), rate=Decimal("0.18"))


def _analyse(text: str):
    table = read_table(text.encode())
    with translation.override("en"):
        return import_analyse(table, Kind.PURCHASES, proposed_mapping(Kind.PURCHASES, table), visible=None, today=TODAY)


@pytest.mark.parametrize("header", ["Moneda", "moeda", "Currency", "Divisa"])
def test_the_currency_column_is_recognised_by_its_name(header):
    table = read_table(f"Referencia;Fecha;Importe;{header};Tipo de cambio\nC-1;2026-03-03;10;BRL;0,2\n".encode())
    mapping = proposed_mapping(Kind.PURCHASES, table)
    assert mapping["currency"] == 3 and mapping["exchange_rate"] == 4


def test_each_row_is_converted_at_the_rate_of_its_date(buyers, owner, django_assert_max_num_queries):
    rows = "".join(f"C-{n % 2 + 1};2026-0{3 + n % 2}-1{n % 9};{100 + n};BRL\n" for n in range(200))
    text = "Referencia;Fecha;Importe;Moneda\n" + rows + "C-1;2026-03-05;50;\nC-1;2026-03-05;60;eur\n"
    with django_assert_max_num_queries(12):  # the rates read once, not once per row
        analysis = _analyse(text)
    assert not analysis.errors and len(analysis.purchases) == 202
    import_apply(analysis, owner=owner, created_by=owner)
    march = Purchase.objects.get(original_amount=Decimal("100"))
    april = Purchase.objects.get(original_amount=Decimal("101"))
    assert (march.currency, march.amount, march.exchange_rate) == ("BRL", Decimal("17.00"), Decimal("0.17"))
    assert (april.amount, april.exchange_rate) == (Decimal("18.18"), Decimal("0.18"))
    euros = Purchase.objects.get(original_amount=Decimal("60"))
    assert (euros.currency, euros.amount, euros.exchange_rate) == ("EUR", Decimal("60.00"), 1)
    entry = AuditEntry.objects.get(subject="purchase", object_id=march.pk)
    assert entry.changes["original_amount"] == ["", "100.00"]

    assert not _analyse(text).purchases  # a second import finds them all recorded (converted amounts)


def test_a_row_without_a_rate_is_refused_with_a_clear_error(buyers):
    analysis = _analyse("Referencia;Fecha;Importe;Moneda\nC-1;2026-03-03;10;CLP\nC-1;2025-12-31;10;BRL\nC-2;2026-03-03;10;BRL\n")
    assert [(e.line, e.column, e.value) for e in analysis.errors] == [(2, "Moneda", "CLP"), (3, "Moneda", "BRL")]
    assert analysis.errors[0].message == "No exchange rate for CLP on March 3, 2026: type it, or ask an administrador to add it."
    assert len(analysis.purchases) == 1


def test_a_rate_column_wins_over_the_table_and_is_checked(buyers, owner):
    text = "Ref;Date;Amount;Currency;Exchange rate\nC-1;2026-03-03;10;CLP;0.001\nC-1;2026-03-03;10;BRL;0.25\nC-2;2026-03-03;10;BRL;-1\nC-2;2026-03-03;10;US;\n"
    analysis = _analyse(text)
    assert [(e.line, e.column) for e in analysis.errors] == [(4, "Exchange rate"), (5, "Currency")]
    import_apply(analysis, owner=owner, created_by=owner)
    assert sorted(Purchase.objects.values_list("currency", "amount")) == [("BRL", Decimal("2.50")), ("CLP", Decimal("0.01"))]


def test_no_currency_column_is_the_business_currency(buyers, owner):
    analysis = _analyse("Ref;Date;Amount\nC-1;2026-03-03;10\n")
    import_apply(analysis, owner=owner, created_by=owner)
    assert Purchase.objects.values_list("currency", "amount", "original_amount", "exchange_rate").get() == (
        "EUR", Decimal("10.00"), Decimal("10.00"), 1,
    )
