"""Amounts with their currency, in the reader's language, as Babel (CLDR) writes them."""

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import Locale
from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings
from django.utils.translation import get_language, to_locale

register = template.Library()

# Written without decimals whatever CLDR says (it gives the Colombian peso two, which nobody writes).
NO_DECIMALS = {"CLP", "COP", "PYG", "ISK", "JPY", "KRW"}
ARROW = "\u2192"


def _locale() -> Locale:
    return _babel_locale(get_language() or settings.LANGUAGE_CODE)


@functools.lru_cache(maxsize=16)  # a page formats hundreds of amounts in one language
def _babel_locale(language: str) -> Locale:
    return Locale.parse(to_locale(language))  # "pt-br" → "pt_BR"


@functools.lru_cache(maxsize=16)
def _whole_pattern(locale: Locale) -> str:
    return locale.currency_formats["standard"].pattern.replace("0.00", "0")


@register.filter
def money(value: Decimal | float | int | None, currency: str = "") -> str:
    """`value` in its currency (the business's, settings.CURRENCY, unless given): "1.234,56 €" in
    Spanish, "€ 1.234,56" in Brazilian Portuguese, "€1,234.56" in English; "1.235 CLP"."""
    if value is None or value == "":
        return ""
    code = (currency or settings.CURRENCY).upper()
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:  # not a number: shown as nothing, as floatformat did, never a 500
        return ""
    locale = _locale()
    if code in NO_DECIMALS:
        pattern = _whole_pattern(locale)
        whole = number.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        return format_currency(whole, code, format=pattern, locale=locale, currency_digits=False)
    return format_currency(number, code, locale=locale)


@register.filter
def exchange_rate(value: Decimal | None) -> str:
    """A rate with the decimals it has (up to 8), in the reader's number format: "0,1725"."""
    if value is None or value == "":
        return ""
    return format_decimal(value, format="#,##0.########", locale=_locale())


@register.filter
def paid_money(purchase) -> str:
    """A purchase's amount in the business currency, after what was paid when it was paid in
    another currency ("1.000,00 BRL → 172,50 €"), or what was paid alone while it waits for a rate."""
    if not purchase.currency or purchase.currency == settings.CURRENCY or purchase.original_amount is None:
        return money(purchase.amount)
    paid = money(purchase.original_amount, purchase.currency)
    if purchase.exchange_rate is None:
        return paid
    return f"{paid} {ARROW} {money(purchase.amount)}"
