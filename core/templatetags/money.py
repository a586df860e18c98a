"""Amounts with their currency, in the reader's language."""

from decimal import Decimal

from django import template
from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.translation import get_language

register = template.Library()

SYMBOLS = {"EUR": "€", "BRL": "R$", "USD": "US$", "MXN": "MX$", "GBP": "£"}
NBSP = "\u00a0"  # the amount and its symbol never break apart


@register.filter
def money(value: Decimal | float | int | None, currency: str = "") -> str:
    """`value` with two decimals and its currency (the business's, settings.CURRENCY, unless
    given): "1.234,56 €" in Spanish, "€ 1.234,56" in Brazilian Portuguese, "€1,234.56" in English.
    """
    if value is None or value == "":
        return ""
    code = currency or settings.CURRENCY
    symbol = SYMBOLS.get(code, code)
    number = floatformat(value, "2g")
    language = get_language() or settings.LANGUAGE_CODE
    if language.startswith("en"):
        return f"{symbol}{number}" if len(symbol) == 1 else f"{symbol}{NBSP}{number}"
    if language == "pt-br":
        return f"{symbol}{NBSP}{number}"
    return f"{number}{NBSP}{symbol}"
