"""One currency rule, read side: what a unit of another currency is worth in the business currency
(settings.CURRENCY) on a given day, and the conversion of what was paid into it.

A rate holds from its `valid_from` until the next rate of that currency (ExchangeRate); the
business currency is always worth 1; a currency with no rate on or before the day has none, and
a purchase in it waits (exchange_rate NULL, amount 0) until an administrador gives one. Converted
amounts round half up to the cent (core.money), in Python and in SQL alike.
"""

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Round
from django.utils import formats
from django.utils.translation import gettext

from clients.models import ExchangeRate, Purchase
from core.money import cents

ONE = Decimal("1")
# What the forms and the rates page offer; any ISO 4217 code is stored as given (imports, the API).
CURRENCIES = ("EUR", "USD", "BRL", "MXN", "ARS", "CLP", "COP", "PEN", "UYU", "GBP")


def currency_choices() -> list[tuple[str, str]]:
    codes = dict.fromkeys([settings.CURRENCY, *CURRENCIES])
    return [(code, code) for code in codes]


def is_business(currency: str) -> bool:
    return not currency or currency.upper() == settings.CURRENCY


def rate_for(currency: str, day: dt.date) -> Decimal | None:
    """Business-currency units per unit of `currency` on `day`: 1 for the business currency, the
    latest rate valid on that day, or None when the table has none that early."""
    if is_business(currency):
        return ONE
    return (
        ExchangeRate.objects.filter(currency=currency.upper(), valid_from__lte=day)
        .order_by("-valid_from").values_list("rate", flat=True).first()
    )


def rates_for(pairs: Iterable[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], Decimal]:
    """rate_for for many (currency, day) pairs in one query (an import of 100,000 rows): the
    table holds a few rates per currency and month at most, so they are read once and searched
    here. Pairs without a rate are left out of the answer."""
    pairs = {(code.upper(), day) for code, day in pairs}
    wanted = {code for code, _ in pairs if not is_business(code)}
    history: dict[str, tuple[list[dt.date], list[Decimal]]] = {code: ([], []) for code in wanted}
    if wanted:
        last = max(day for code, day in pairs if code in wanted)
        rows = ExchangeRate.objects.filter(currency__in=wanted, valid_from__lte=last).order_by("currency", "valid_from")
        for code, valid_from, rate in rows.values_list("currency", "valid_from", "rate"):
            history[code][0].append(valid_from)
            history[code][1].append(rate)
    found = {}
    for code, day in pairs:
        if is_business(code):
            found[(code, day)] = ONE
            continue
        days, rates = history[code]
        index = bisect_right(days, day)
        if index:
            found[(code, day)] = rates[index - 1]
    return found


def convert(paid: Decimal, rate: Decimal) -> Decimal:
    """What `paid` comes to in the business currency at `rate`, to the cent."""
    return cents(paid * rate)


def business_amount(*, currency: str, day: dt.date, paid: Decimal, rate: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """(amount in the business currency, rate used) of `paid` in `currency` on `day`: at the rate
    given (typed on the form), else at the table's; a ValidationError when there is neither."""
    if is_business(currency):
        return cents(paid), ONE
    if rate is not None and rate <= 0:
        raise ValidationError(gettext("An exchange rate must be more than zero."), code="rate")
    rate = rate or rate_for(currency, day)
    if rate is None:
        raise ValidationError(no_rate_message(currency, day), code="no_rate")
    return convert(paid, rate), rate


def no_rate_message(currency: str, day: dt.date) -> str:
    return gettext("No exchange rate for %(currency)s on %(day)s: type it, or ask an administrador to add it.") % {
        "currency": currency, "day": formats.date_format(day, "DATE_FORMAT"),
    }


def waiting_purchases(purchase_model=Purchase, *, currency: str = ""):
    """Purchases in another currency still without a rate (they add nothing to the figures yet)."""
    waiting = purchase_model.objects.filter(exchange_rate__isnull=True).exclude(currency=settings.CURRENCY)
    return waiting.filter(currency=currency) if currency else waiting


def waiting_convert(purchase_model=Purchase, rate_model=ExchangeRate, *, currency: str = "", where: Q | None = None) -> int:
    """Converts in one set-based UPDATE the waiting purchases (of `currency`, and `where`) that
    the rates table now covers: each takes the latest rate on or before its date, and its amount
    becomes its original amount at that rate. Returns how many were converted. The models are
    parameters so that a migration runs it with its historical models."""
    rates = rate_model.objects.filter(currency=OuterRef("currency"), valid_from__lte=OuterRef("date"))
    latest = Subquery(rates.order_by("-valid_from").values("rate")[:1])
    waiting = waiting_purchases(purchase_model, currency=currency).filter(Exists(rates))
    if where is not None:
        waiting = waiting.filter(where)
    money = DecimalField(max_digits=28, decimal_places=10)
    return waiting.update(exchange_rate=latest, amount=Round(F("original_amount") * latest, 2, output_field=money))
