"""The one rounding rule for money: to the cent, halves away from zero (0.125 → 0.13).

PostgreSQL's and SQLite's ROUND() on the engine's `amount * 100` follow the same rule, so a
figure computed in SQL and one computed here agree to the cent."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
