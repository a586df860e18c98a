"""The few SQL pieces that differ between PostgreSQL and SQLite, shared by every set-based job
(the lifecycle engine, the colour alerts, the snapshots, the recommendations), so that each
writes one query that gives identical results on both."""

import datetime as dt
import re

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL


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


def date_param(name: str) -> str:
    """The named parameter `name` (a date_value) as a date expression, to compute with."""
    return f"CAST(%({name})s AS DATE)" if is_postgres() else f"%({name})s"


def add_days(date: str, days: str) -> str:
    """The date expression `date` plus the integer expression `days`, as a date."""
    if is_postgres():
        return f"({date} + CAST({days} AS INTEGER))"
    return f"date({date}, CAST({days} AS INTEGER) || ' days')"


def least(*expressions: str) -> str:
    """The smallest of non-NULL expressions."""
    return f"{'LEAST' if is_postgres() else 'MIN'}({', '.join(expressions)})"


def integer_cents(amount: str) -> str:
    """A money expression in integer cents (rounded as core.money rounds): sums and comparisons
    stay exact on both backends."""
    return f"CAST(ROUND({amount} * 100) AS BIGINT)"


def _time_zone() -> str:
    name = settings.TIME_ZONE
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name):  # inlined in the SQL below
        raise ValueError(f"Unexpected time zone name: {name!r}")
    return name


def local_date(column: str) -> str:
    """The date of a timestamp in the business time zone (NULL stays NULL)."""
    if is_postgres():
        return f"CAST(({column} AT TIME ZONE '{_time_zone()}') AS DATE)"
    return f"django_datetime_cast_date({column}, '{_time_zone()}', 'UTC')"


def iso_date(date: str) -> str:
    """A date expression as ISO text (YYYY-MM-DD)."""
    if is_postgres():
        return f"to_char({date}, 'YYYY-MM-DD')"
    return f"CAST({date} AS TEXT)"


IN_CHUNK = 900  # values per IN (...) on SQLite: under its oldest variable limit (999), with room for a few more


def in_list(column: str, values) -> list[tuple[str, list]]:
    """`column` among `values` (ids, keys), as (condition, params) pairs whose rows add up: one on
    PostgreSQL (`= ANY(%s)`, the values as one array parameter: 100,000 ids in IN lists cost half
    a second to spell out and parse), chunks of IN (...) on SQLite."""
    values = list(values)
    if is_postgres():
        return [(f"{column} = ANY(%s)", [values])]
    return [(f"{column} IN ({', '.join(['%s'] * len(chunk))})", chunk) for chunk in _chunks(values)]


def lookup_chunks(ids) -> list:
    """Integer `ids` for an ORM `__in` lookup, as chunks whose results add up (the ORM's twin of
    in_list): on PostgreSQL one, a sub-select of the ids as one array (text would need a cast
    for unnest); chunks of IN_CHUNK elsewhere."""
    ids = list(ids)
    if is_postgres():
        return [RawSQL("SELECT unnest(%s)", [ids])] if ids else []  # noqa: S611 - a constant, the ids a parameter
    return _chunks(ids)


def _chunks(values: list) -> list[list]:
    return [values[i:i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)]


def work_mem_set(cursor, size: str) -> None:
    """PostgreSQL, for this transaction only: sort and hash in `size` of memory rather than in
    temporary files. SQLite has no such setting."""
    if is_postgres():
        cursor.execute(f"SET LOCAL work_mem = '{size}'")


def table_analyze(cursor, table: str) -> None:
    """PostgreSQL: statistics for a table just filled (a temporary one has none until then), so
    that the joins after it are planned from its real size. SQLite plans without them."""
    if is_postgres():
        cursor.execute(f"ANALYZE {table}")


def queryset_sql(queryset: QuerySet, params: dict, prefix: str) -> str:
    """The SQL of `queryset`, to nest in a hand-written query with named parameters: its
    parameters are added to `params` as `prefix`0, `prefix`1…, so that a rule written once as a
    QuerySet method also serves the set-based jobs."""
    sql, values = queryset.query.sql_with_params()
    position = iter(range(len(values)))

    def named(match: re.Match) -> str:
        if match.group() == "%%":  # a literal percent sign stays escaped
            return "%%"
        index = next(position)
        params[f"{prefix}{index}"] = values[index]
        return f"%({prefix}{index})s"

    return re.sub(r"%%|%s", named, sql)


COUNT_CAP = 999  # a badge counts up to this many and then says "999+" (core.templatetags.numbers.capped)


def capped_counts(querysets: dict, cap: int = COUNT_CAP) -> dict:
    """{name: the queryset's rows, counted up to cap + 1} in one query: each a scalar subquery over
    the queryset's first cap + 1 rows, which walks at most those (an index range), not a
    salesperson's 40,000 overdue follow-ups. A count above `cap` means "more than cap"."""
    if not querysets:
        return {}
    parts, params = [], []
    for queryset in querysets.values():
        sql, sub_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) capped)")  # noqa: S608 (the ORM's SQL, its values as params)
        params.extend(sub_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)  # noqa: S608
        return dict(zip(querysets, (int(n) for n in cursor.fetchone()), strict=True))
