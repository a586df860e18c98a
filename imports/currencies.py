"""The currency of a purchases file (clients.currency holds the rule): a row's amount is in its
"currency" column's code (the business currency with no column or an empty cell), converted at the
row's "exchange_rate" column when the file gives one, else at the rates table's rate for the row's
date, all looked up in one query (rates_for). A row whose currency has no rate is a row error.

After `rows_convert`, a row's cells hold the converted amount in "amount", and what was paid, its
currency and the rate in "paid", "currency" and "exchange_rate", so that matching an import
already done and the client's limits read the amount the figures add up.
"""

import re
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from clients.currency import convert, is_business, no_rate_message, rates_for
from clients.models import purchase_amount_error
from imports.spreadsheets import parse_decimal

CODE = re.compile(r"[A-Z]{3}")
RATE_PLACES = 8


def rows_convert(rows: list, headers: dict[str, str]) -> None:
    """Reads each row's currency and rate, then converts the rows without errors (one lookup)."""
    for row in rows:
        _read(row, headers)
    foreign = [row for row in rows if not row.errors and not is_business(row.cells["currency"])]
    found = rates_for((row.cells["currency"], row.cells["date"]) for row in foreign if row.cells["exchange_rate"] is None)
    for row in rows:
        if row.errors:
            continue
        cells = row.cells
        if is_business(cells["currency"]):
            cells["paid"], cells["exchange_rate"] = cells["amount"], Decimal("1")
            continue
        rate = cells["exchange_rate"] or found.get((cells["currency"], cells["date"]))
        if rate is None:
            row.error("currency", headers, no_rate_message(cells["currency"], cells["date"]))
            continue
        cells["paid"], cells["exchange_rate"] = cells["amount"], rate
        cells["amount"] = convert(cells["amount"], rate)
        if message := purchase_amount_error(cells["amount"]):
            row.error("amount", headers, message)


def _read(row, headers: dict[str, str]) -> None:
    cells = row.cells
    code = (cells.get("currency") or "").strip().upper()
    if code and not CODE.fullmatch(code):
        row.error("currency", headers, _("Use the three-letter code of the currency (EUR, BRL, MXN…)."))
    cells["currency"] = code or settings.CURRENCY
    typed = (cells.get("exchange_rate") or "").strip()
    cells["exchange_rate"] = None
    if typed and not is_business(cells["currency"]):
        try:
            rate = parse_decimal(typed)
        except ValueError as error:
            row.error("exchange_rate", headers, str(error))
            return
        if rate <= 0 or rate != round(rate, RATE_PLACES) or rate >= Decimal(10) ** 10:
            row.error("exchange_rate", headers, _("An exchange rate is a number above zero with at most 8 decimals."))
            return
        cells["exchange_rate"] = rate
