"""Amounts carry their currency, written as each language writes money."""

from decimal import Decimal

import pytest
from django.utils import translation

from core.templatetags.money import money

NBSP = "\u00a0"


# Babel's (CLDR's) formats. Spanish groups thousands with a point ("1.234,56 €", as the RAE and
# CLDR write money; Django's Spanish number format used a space), and names a currency without a
# Spanish symbol by its code; CLP and COP have no decimals.
@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("es", "", f"1.234,56{NBSP}€"),
        ("es", "EUR", f"1.234,56{NBSP}€"),
        ("es", "BRL", f"1.234,56{NBSP}BRL"),
        ("es", "MXN", f"1.234,56{NBSP}MXN"),
        ("es", "USD", f"1.234,56{NBSP}US$"),
        ("es", "CLP", f"1.235{NBSP}CLP"),
        ("es", "COP", f"1.235{NBSP}COP"),  # CLDR says two decimals; nobody writes them
        ("pt-br", "", f"€{NBSP}1.234,56"),
        ("pt-br", "BRL", f"R${NBSP}1.234,56"),
        ("pt-br", "MXN", f"MX${NBSP}1.234,56"),
        ("pt-br", "CLP", f"CLP{NBSP}1.235"),
        ("pt-br", "USD", f"US${NBSP}1.234,56"),
        ("en", "", "€1,234.56"),
        ("en", "BRL", "R$1,234.56"),
        ("en", "MXN", "MX$1,234.56"),
        ("en", "USD", "$1,234.56"),
        ("en", "COP", "COP1,235"),
    ],
)
def test_money_in_each_language(settings, language, currency, expected):
    settings.CURRENCY = "EUR"
    with translation.override(language):
        assert money(Decimal("1234.56"), currency) == expected


def test_the_business_currency_comes_from_the_settings(settings):
    settings.CURRENCY = "BRL"
    with translation.override("pt-br"):
        assert money(Decimal("10")) == f"R${NBSP}10,00"


def test_nothing_is_not_zero():
    assert money(None) == "" and money("") == "" and money("abc") == ""


@pytest.mark.django_db
def test_the_client_page_and_the_list_show_figures_with_the_currency(client, owner):
    from clients.tests.factories import ClientFactory, PurchaseFactory
    from segmentation.services import lifecycle_recompute

    record = ClientFactory(owner=owner)
    PurchaseFactory(client=record, amount=Decimal("1234.50"))
    lifecycle_recompute()
    client.force_login(owner)

    page = client.get(record.get_absolute_url()).content.decode()
    listing = client.get("/clients/").content.decode()

    assert f"1.234,50{NBSP}€" in page  # total and 12-month spend, and the purchase itself
    assert "EUR</strong>" not in page
    assert f"1.234,50{NBSP}€" in listing


def test_a_rate_keeps_its_decimals_in_each_language():
    from core.templatetags.money import exchange_rate

    with translation.override("es"):
        assert exchange_rate(Decimal("0.17250000")) == "0,1725"
    with translation.override("en"):
        assert exchange_rate(Decimal("1234.5")) == "1,234.5"


def test_a_purchase_paid_in_another_currency_shows_both_amounts(settings):
    from clients.models import Purchase
    from core.templatetags.money import paid_money

    settings.CURRENCY = "EUR"
    paid = Purchase(amount=Decimal("172.50"), currency="BRL", original_amount=Decimal("1000"), exchange_rate=Decimal("0.1725"))
    waiting = Purchase(amount=Decimal("0"), currency="CLP", original_amount=Decimal("20000"), exchange_rate=None)
    euros = Purchase(amount=Decimal("80"), currency="EUR", original_amount=Decimal("80"), exchange_rate=Decimal("1"))
    with translation.override("pt-br"):
        assert paid_money(paid) == f"R${NBSP}1.000,00 → €{NBSP}172,50"
    with translation.override("es"):
        assert paid_money(paid) == f"1.000,00{NBSP}BRL → 172,50{NBSP}€"
        assert paid_money(waiting) == f"20.000{NBSP}CLP"
        assert paid_money(euros) == f"80,00{NBSP}€"
