"""Amounts carry their currency, written as each language writes money."""

from decimal import Decimal

import pytest
from django.utils import translation

from core.templatetags.money import money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("es", "", f"1{NBSP}234,56{NBSP}€"),
        ("es", "BRL", f"1{NBSP}234,56{NBSP}R$"),
        ("pt-br", "", f"€{NBSP}1.234,56"),
        ("pt-br", "BRL", f"R${NBSP}1.234,56"),
        ("en", "", "€1,234.56"),
        ("en", "MXN", f"MX${NBSP}1,234.56"),
        ("es", "CLP", f"1{NBSP}234,56{NBSP}CLP"),  # no symbol known: the code
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
    assert money(None) == "" and money("") == ""


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

    assert f"1{NBSP}234,50{NBSP}€" in page  # total and 12-month spend, and the purchase itself
    assert "EUR</strong>" not in page
    assert f"1{NBSP}234,50{NBSP}€" in listing
