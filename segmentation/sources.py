"""Where altas come from, and what they become: the new clients of each source month by month,
and what became of each source's cohort.

An alta is a client's first purchase (Client.first_purchase_date), counted in the month it fell;
its source is Client.source ("" when nobody recorded it). The page covers the MONTHS months up to
today (this month included), for the clients the viewer may see (the access rule).

What a cohort became, per source, over the clients of the period:
* still active after 3, 6 and 12 months (HORIZONS: 90, 180 and 365 days after the first
  purchase): on that day the client had bought again within the dormancy threshold, as the
  lifecycle rule (DOMAIN.md) keeps a client activo: a purchase after the first one, dated in
  [day - dormido_after_days, day], and not before a closing on purpose. The first purchase alone
  does not count: with the default 90-day threshold it would keep every client "active" on its
  90th day. Only the clients whose day has come count (the share's denominator): a client who
  first bought last month says nothing yet about its 6th month;
* 12-month revenue per client: what the clients whose first 365 days are over spent in them
  (purchases dated from the first purchase to 364 days after), divided by their number.

Two queries, whatever the number of clients: the altas grouped by month and source, and one
grouped pass over the period's clients with a correlated look at each one's purchases (the
purchase_client_date_amount index: a few rows per client).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, Purchase
from core.sql import add_days, date_param, date_value, integer_cents, queryset_sql

MONTHS = 24
HORIZONS = ((3, 90), (6, 180), (12, 365))  # (months, days after the first purchase)
REVENUE_DAYS = 365


@dataclass
class Cohort:
    source: str
    label: str
    altas: int = 0
    # {months: (clients whose day has come, those of them still active)}
    active: dict[int, tuple[int, int]] = field(default_factory=dict)
    revenue_clients: int = 0  # clients whose first 365 days are over
    revenue: Decimal = Decimal("0")  # what they spent in them

    def active_share(self, months: int) -> float | None:
        known, active = self.active.get(months, (0, 0))
        return round(100 * active / known, 1) if known else None

    @property
    def shares(self) -> list[tuple[int, float | None, int]]:
        """(months, % still active or None, clients it is measured on), for the template."""
        return [(months, self.active_share(months), self.active.get(months, (0, 0))[0]) for months, _days in HORIZONS]

    @property
    def revenue_per_client(self) -> Decimal | None:
        return (self.revenue / self.revenue_clients).quantize(Decimal("0.01")) if self.revenue_clients else None


@dataclass
class SourcesReport:
    start: dt.date
    today: dt.date
    months: list[dt.date]  # first day of each month, the newest first
    sources: list[tuple[str, str]]  # (code, label) of the columns: those with altas in the period
    altas: dict[dt.date, dict[str, int]]  # month → source → altas
    cohorts: list[Cohort]

    @property
    def rows(self) -> list[dict]:
        """One row per month: its altas per source, in the columns' order, and their total."""
        return [
            {"month": month, "cells": [self.altas.get(month, {}).get(code, 0) for code, _label in self.sources],
             "total": sum(self.altas.get(month, {}).values())}
            for month in self.months
        ]

    @property
    def total(self) -> int:
        return sum(cohort.altas for cohort in self.cohorts)


def period_start(today: dt.date, months: int = MONTHS) -> dt.date:
    """The first day of the month `months` - 1 months before today's."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_list(start: dt.date, today: dt.date) -> list[dt.date]:
    months, month = [], start
    while month <= today:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months[::-1]


def source_labels() -> dict[str, str]:
    return {**{code: str(label) for code, label in Client.Source.choices}, "": _("Not recorded")}


def sources_report(*, visible, dormant_after_days: int, today: dt.date | None = None, months: int = MONTHS) -> SourcesReport:
    """The altas per source and month, and each source's cohort figures, among `visible`
    (Client.objects.visible_to(viewer) or visible_in(scope))."""
    today = today or timezone.localdate()
    start = period_start(today, months)
    cohort = visible.filter(first_purchase_date__gte=start, first_purchase_date__lte=today)
    altas: dict[dt.date, dict[str, int]] = {}
    for month, source, count in (
        cohort.annotate(month=TruncMonth("first_purchase_date")).values_list("month", "source")
        .annotate(n=Count("pk")).order_by()
    ):
        month = month.date() if isinstance(month, dt.datetime) else month
        altas.setdefault(month, {})[source] = count
    cohorts = _cohorts(cohort, dormant_after_days=dormant_after_days, today=today)
    labels = source_labels()
    seen = {code for by_source in altas.values() for code in by_source}
    order = [*Client.Source.values, ""]
    return SourcesReport(
        start=start, today=today, months=_month_list(start, today),
        sources=[(code, labels[code]) for code in order if code in seen],
        altas=altas, cohorts=sorted(cohorts, key=lambda c: order.index(c.source) if c.source in order else len(order)),
    )


def _cohorts(cohort, *, dormant_after_days: int, today: dt.date) -> list[Cohort]:
    params: dict = {"back": -dormant_after_days}
    clients = queryset_sql(cohort.order_by().values("id", "source", "first_purchase_date", "closed_at"), params, "v")
    purchases = Purchase._meta.db_table
    columns = []
    for months, days in HORIZONS:
        params[f"known{months}"] = date_value(today - dt.timedelta(days=days))
        day = add_days("c.first_purchase_date", str(days))
        known = f"c.first_purchase_date <= {date_param(f'known{months}')}"
        active = (
            f"EXISTS (SELECT 1 FROM {purchases} p WHERE p.client_id = c.id AND p.date <= {day}"  # noqa: S608 - constant names, values are parameters
            f" AND p.date >= {add_days(day, '%(back)s')} AND p.date > c.first_purchase_date"
            f" AND (c.closed_at IS NULL OR c.closed_at > {day} OR p.date > c.closed_at))"
        )
        columns.append(f"SUM(CASE WHEN {known} THEN 1 ELSE 0 END)")
        columns.append(f"SUM(CASE WHEN {known} AND {active} THEN 1 ELSE 0 END)")
    params["known_revenue"] = date_value(today - dt.timedelta(days=REVENUE_DAYS))
    known = f"c.first_purchase_date <= {date_param('known_revenue')}"
    spent = (
        f"(SELECT COALESCE(SUM({integer_cents('p.amount')}), 0) FROM {purchases} p WHERE p.client_id = c.id"  # noqa: S608
        f" AND p.date >= c.first_purchase_date AND p.date < {add_days('c.first_purchase_date', str(REVENUE_DAYS))})"
    )
    columns.append(f"SUM(CASE WHEN {known} THEN 1 ELSE 0 END)")
    columns.append(f"SUM(CASE WHEN {known} THEN {spent} ELSE 0 END)")
    sql = f"SELECT c.source, COUNT(*), {', '.join(columns)} FROM ({clients}) c GROUP BY c.source"  # noqa: S608
    # The sub-select names its columns by the fields (id, source, …).
    labels = source_labels()
    result = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            source, altas, *figures = row
            cohort_row = Cohort(source=source, label=labels.get(source, source), altas=altas)
            for index, (months, _days) in enumerate(HORIZONS):
                cohort_row.active[months] = (int(figures[2 * index] or 0), int(figures[2 * index + 1] or 0))
            cohort_row.revenue_clients = int(figures[-2] or 0)
            cohort_row.revenue = Decimal(int(figures[-1] or 0)) / 100  # summed in integer cents: exact
            result.append(cohort_row)
    return result


def dashboard_sources(*, owner_ids: list[int], today: dt.date, day: dt.date | None = None, months: int = 12) -> list[dict]:
    """The dashboard's card: the altas of the last `months` months per source, in the board's
    scope (its salespeople's clients), the most frequent first. One grouped query: over the
    night's source snapshot of `day` (the board's), or over the clients before any night."""
    from segmentation.models import SourceSnapshot

    labels = source_labels()
    if day is not None:
        rows = (
            SourceSnapshot.objects.filter(date=day, owner_id__in=owner_ids).values_list("source")
            .annotate(n=Sum("altas")).order_by("-n", "source")
        )
        return [{"code": code, "label": labels.get(code, code), "altas": n} for code, n in rows]
    start = period_start(today, months)
    rows = (
        Client.objects.not_in_trash().filter(owner_id__in=owner_ids, first_purchase_date__gte=start, first_purchase_date__lte=today)
        .values_list("source").annotate(n=Count("pk")).order_by("-n", "source")
    )
    return [{"code": code, "label": labels.get(code, code), "altas": n} for code, n in rows]
