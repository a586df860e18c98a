"""The few SQL pieces that differ between PostgreSQL and SQLite, shared by every set-based job
(the lifecycle engine, the colour alerts, the snapshots, the recommendations), so that each
writes one query that gives identical results on both."""

import datetime as dt

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def days_between(later: str, earlier: str) -> str:
    """Whole days from `earlier` to `later` (two date expressions)."""
    if is_postgres():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def distinct_from() -> str:
    """The NULL-safe "differs" operator."""
    return "IS DISTINCT FROM" if is_postgres() else "IS NOT"


def date_value(value: dt.date):
    """A date as the backend stores it, for a query parameter."""
    return connection.ops.adapt_datefield_value(value)


def add_days(date: str, days: str) -> str:
    """The date expression `date` plus the integer expression `days`, as a date."""
    if is_postgres():
        return f"({date} + CAST({days} AS INTEGER))"
    return f"date({date}, CAST({days} AS INTEGER) || ' days')"


def least(*expressions: str) -> str:
    """The smallest of non-NULL expressions."""
    return f"{'LEAST' if is_postgres() else 'MIN'}({', '.join(expressions)})"
