"""Why clients leave: each baja's reason (Client.leave_reason), the bajas per reason and month
with the revenue lost, and the alert when one reason dominates a month (DOMAIN.md "Why clients
come and go").

The reason of a client in baja (status lost), the first that applies; empty for every other status:

1. its close reason (Client.close_reason): typed when someone closed it, or its answer to "why did
   you leave" in a survey (campaigns.services.survey_answer_record records that answer as the close
   reason of a lost client that has none). Not when a purchase after the closing date undid that
   closure: the reason then belongs to an earlier departure.
2. what its interactions since its last purchase (the time in which it went away; all of them if it
   never bought) noted: a competitor named (competitor_notes) → went to a competitor; an objection
   that speaks of the price (PRICE_WORDS in `objections`) → price; an outcome "not interested" →
   no longer needs us. In that order of precedence.
3. none: the page counts it as "not recorded".

It is computed set-based (`leave_reasons_update`) for the clients in scope of every engine run that
can change it: a full run or chunk (every client in range), the incremental night and a write's
refresh (the clients whose status changed, through engine.classes_update), a write of the client's
data or of an interaction (segmentation.services.leave_reason_refresh_client). It depends on no
date, so a client's reason changes only when its status, close reason or interactions do.

Revenue lost: a baja's purchases in the 365 days up to its last purchase, its last year as a
client (its 12-month spend when it left by inactivity is zero by definition: it had not bought
for a year). A client that never bought lost nothing. It is stored with the reason
(Client.lost_revenue, 0 for every other status) by the same `leave_reasons_update`, which every
write of a purchase reaches too (engine.clients_refresh): the reasons page reads a year's bajas
and adds their column up. Summing each baja's purchases there took 1.8 s for a year's 170,000
bajas at a million clients, and 70 ms for the dashboard's month at the month's end.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from clients.models import Client, Interaction, Purchase, Status
from core.sql import add_days, integer_cents, local_date, queryset_sql

CLIENT_TABLE = Client._meta.db_table
INTERACTION_TABLE = Interaction._meta.db_table
PURCHASE_TABLE = Purchase._meta.db_table
Reason = Client.CloseReason

# Words of an objection about the price, lower case, in the business's languages (es, pt, en).
PRICE_WORDS = ("precio", "preço", "preco", "price", " caro", " cara ", "expensive", "barat", "cheaper")
MONTHS = 12  # the reasons page shows the last twelve months, this one included
LOST_YEAR_DAYS = 365


def _price_sql(column: str) -> str:
    text = f"(' ' || LOWER({column}) || ' ')"
    return "(" + " OR ".join(f"{text} LIKE '%%{word}%%'" for word in PRICE_WORDS) + ")"


def _noted_sql(client: str) -> tuple[str, str]:
    """What one interaction of the client aliased `client` notes (3 competitor, 2 price, 1 no
    need, 0 nothing), for the interactions `i` since its last purchase (all of them if it never
    bought): the WHERE condition and the value, as a pair."""
    last = f"{client}.last_purchase_date"
    value = f"""CASE WHEN i.competitor_notes <> '' THEN 3
                    WHEN {_price_sql('i.objections')} THEN 2
                    WHEN i.outcome = '{Interaction.Outcome.NOT_INTERESTED}' THEN 1 ELSE 0 END"""
    since = f"({last} IS NULL OR {local_date('i.happened_at')} >= {last})"
    return since, value


def leave_reason_sql(client: str = "c", noted: str | None = None) -> str:
    """The reason of the client aliased `client` (a row of the clients' table), by the rule above.
    `noted`: the most telling note of its interactions (see _noted_sql) when the caller joined it,
    else a subquery per client."""
    last = f"{client}.last_purchase_date"
    if noted is None:
        since, value = _noted_sql(client)
        noted = f"(SELECT MAX({value}) FROM {INTERACTION_TABLE} i WHERE i.client_id = {client}.id AND {since})"  # noqa: S608
    return f"""CASE
        WHEN {client}.status <> '{Status.LOST}' THEN ''
        WHEN {client}.close_reason <> ''
             AND ({client}.closed_at IS NULL OR {last} IS NULL OR {last} <= {client}.closed_at)
             THEN {client}.close_reason
        ELSE CASE {noted} WHEN 3 THEN '{Reason.COMPETITOR}' WHEN 2 THEN '{Reason.PRICE}'
                          WHEN 1 THEN '{Reason.NO_NEED}' ELSE '' END
    END"""


def _lost_window_start_sql() -> str:
    """The first day of the year up to the last purchase of the client aliased c (its revenue lost)."""
    return add_days("c.last_purchase_date", str(-(LOST_YEAR_DAYS - 1)))


def _lost_cents_sql(source: str, scope_sql: str) -> str:
    """Each baja in `source` (alias c) with purchases: its revenue lost in integer cents, as
    (client_id, lost_c) rows (an index range of its purchases for a few, one join for many)."""
    window_start = _lost_window_start_sql()
    return f"""SELECT p.client_id AS client_id, SUM({integer_cents("p.amount")}) AS lost_c
               FROM {source} JOIN {PURCHASE_TABLE} p ON p.client_id = c.id
               WHERE c.status = '{Status.LOST}' {scope_sql}
                 AND p.date <= c.last_purchase_date AND p.date >= {window_start}
               GROUP BY p.client_id"""  # noqa: S608


def leave_reasons_update(
    cursor, scope_sql: str = "", params: dict | None = None, *, ids_table: str = "", id_column: str = "id",
    revenue_ids_table: str = "",
) -> int:
    """Writes the reason and the revenue lost of the clients in scope where either differs;
    returns the rows written. The scope: `scope_sql`, a condition on alias c ("" for every
    client), and/or the ids in `ids_table`.`id_column` (joined, not IN (SELECT …), so that the
    planner starts from the few). Only bajas and the clients still carrying a reason or a revenue
    lost are evaluated: the others' are empty.

    `revenue_ids_table` (a table with a client_id column): only the bajas in it have their revenue
    lost read from their purchases, the others' stays. An engine run passes the clients whose
    figures or status it changed (engine.apply_chunk): a baja whose purchases and status did not
    move has not changed what it lost. Over every client, reading the 230,000 bajas' purchases
    doubled the reasons' step of a full run at a million clients (3.6 → 7.4 s).

    The interactions' notes are aggregated once for the scope and joined (an index scan per
    client for a few, one hash join for a chunk of a full run), not a subquery per client: the
    demo's build, which computes every client before the interactions' indexes are rebuilt, took
    ten minutes at 100,000 clients that way."""
    source = f"{CLIENT_TABLE} c"
    if ids_table:
        source = f"{ids_table} s JOIN {CLIENT_TABLE} c ON c.id = s.{id_column}"
    in_scope = f"(c.status = '{Status.LOST}' OR c.leave_reason <> '' OR c.lost_revenue <> 0) {scope_sql}"
    since, value = _noted_sql("c")
    lost_c = _lost_revenue_sql("c", "spent.lost_c")
    revenue_source, revenue_join = source, ""
    if revenue_ids_table:
        revenue_source = f"{source} JOIN {revenue_ids_table} r ON r.client_id = c.id"
        revenue_join = f"LEFT JOIN {revenue_ids_table} moved ON moved.client_id = c.id"
        lost_c = (f"CASE WHEN moved.client_id IS NULL AND c.status = '{Status.LOST}'"
                  f" THEN {integer_cents('c.lost_revenue')} ELSE {lost_c} END")
    cursor.execute(
        f"""UPDATE {CLIENT_TABLE} AS t SET leave_reason = n.reason, lost_revenue = n.lost_c / 100.0
            FROM (SELECT c.id AS client_id, c.leave_reason AS old, {integer_cents("c.lost_revenue")} AS old_lost_c,
                         {leave_reason_sql(noted="COALESCE(notes.noted, 0)")} AS reason,
                         {lost_c} AS lost_c
                  FROM {source} {revenue_join}
                  LEFT JOIN (SELECT i.client_id AS client_id, MAX({value}) AS noted
                             FROM {source} JOIN {INTERACTION_TABLE} i ON i.client_id = c.id
                             WHERE c.status = '{Status.LOST}' {scope_sql} AND {since}
                             GROUP BY i.client_id) notes ON notes.client_id = c.id
                  LEFT JOIN ({_lost_cents_sql(revenue_source, scope_sql)}) spent ON spent.client_id = c.id
                  WHERE {in_scope}) n
            WHERE n.client_id = t.id AND (n.reason <> n.old OR n.lost_c <> n.old_lost_c)""",  # noqa: S608
        params or {},
    )
    return cursor.rowcount


def _lost_revenue_sql(client: str, lost_c: str) -> str:
    """The revenue lost of the client aliased `client` in integer cents, from `lost_c` (its
    purchases' sum in the window, NULL when none): only a baja lost anything."""
    return f"CASE WHEN {client}.status = '{Status.LOST}' THEN COALESCE({lost_c}, 0) ELSE 0 END"


def leave_reason_differences() -> list[tuple[int, str, object, object]]:
    """(client id, column, stored, computed) of every client whose stored reason or revenue lost
    (in Decimal euros) is not what the rule gives now: the check of `recompute_lifecycle
    --verify` and of the incremental-night test. Each baja's purchases read one by one: a check."""
    window_start = _lost_window_start_sql()
    spent = f"""(SELECT SUM({integer_cents("p.amount")}) FROM {PURCHASE_TABLE} p
                 WHERE p.client_id = c.id AND p.date <= c.last_purchase_date AND p.date >= {window_start})"""  # noqa: S608
    differences: list[tuple[int, str, object, object]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT id, leave_reason, reason, old_lost_c, lost_c FROM (
                    SELECT c.id AS id, c.leave_reason AS leave_reason, {leave_reason_sql()} AS reason,
                           {integer_cents("c.lost_revenue")} AS old_lost_c, {_lost_revenue_sql("c", spent)} AS lost_c
                    FROM {CLIENT_TABLE} c
                    WHERE c.status = '{Status.LOST}' OR c.leave_reason <> '' OR c.lost_revenue <> 0
                ) n WHERE reason <> leave_reason OR lost_c <> old_lost_c ORDER BY id"""  # noqa: S608
        )
        for pk, stored, computed, stored_c, computed_c in cursor.fetchall():
            if stored != computed:
                differences.append((pk, "leave_reason", stored, computed))
            if stored_c != computed_c:
                differences.append((pk, "lost_revenue", Decimal(int(stored_c)) / 100, Decimal(int(computed_c)) / 100))
    return differences


# --- The reasons page and the dashboard card ---------------------------------------------

NOT_RECORDED = ""


@dataclass
class ReasonCell:
    clients: int = 0
    lost: Decimal = Decimal("0")


@dataclass
class LeavingReport:
    """Bajas per reason per month, oldest month first, with the revenue lost."""

    months: list[dt.date]
    reasons: list[tuple[str, str]]  # (code, label), the recorded reasons then "not recorded"
    cells: dict[tuple[dt.date, str], ReasonCell] = field(default_factory=dict)

    def cell(self, month: dt.date, code: str) -> ReasonCell:
        return self.cells.get((month, code), ReasonCell())

    def month_total(self, month: dt.date) -> ReasonCell:
        total = ReasonCell()
        for code, _label in self.reasons:
            cell = self.cell(month, code)
            total.clients += cell.clients
            total.lost += cell.lost
        return total

    def reason_total(self, code: str) -> ReasonCell:
        total = ReasonCell()
        for month in self.months:
            cell = self.cell(month, code)
            total.clients += cell.clients
            total.lost += cell.lost
        return total

    @property
    def total(self) -> ReasonCell:
        total = ReasonCell()
        for month in self.months:
            cell = self.month_total(month)
            total.clients += cell.clients
            total.lost += cell.lost
        return total

    def rows(self) -> list[dict]:
        """One row per month (the latest first), each with its cell per reason and its total."""
        return [
            {"month": month, "cells": [self.cell(month, code) for code, _label in self.reasons],
             "total": self.month_total(month)}
            for month in reversed(self.months)
        ]

    def columns(self) -> list[dict]:
        return [{"code": code, "label": label, "total": self.reason_total(code)} for code, label in self.reasons]


def month_start(day: dt.date, back: int = 0) -> dt.date:
    """The first day of the month `back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def leaving_report(*, clients: QuerySet, today: dt.date, months: int = MONTHS) -> LeavingReport:
    """The bajas among `clients` (the access rule's queryset, maybe narrowed) who left in the last
    `months` months and are still gone, per month of leaving (status_since) and reason, with the
    revenue lost (see the module's docstring). One query, grouped in the database."""
    first = month_start(today, months - 1)
    report = LeavingReport(
        months=[month_start(today, back) for back in range(months - 1, -1, -1)],
        reasons=[*Reason.choices, (NOT_RECORDED, _("Not recorded"))],
    )
    params: dict = {}
    bajas = queryset_sql(
        clients.filter(status=Status.LOST, status_since__gte=first, status_since__lte=today)
        .order_by().values("status_since", "leave_reason", "lost_revenue"),
        params, "v",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            # Grouped by day (a year: some 2,500 rows), the months added up here: the month of
            # each of a year's 135,000 bajas computed in SQL took half of the query's time.
            f"""SELECT b.status_since, b.leave_reason, COUNT(*), COALESCE(SUM({integer_cents("b.lost_revenue")}), 0)
                FROM ({bajas}) b GROUP BY b.status_since, b.leave_reason""",  # noqa: S608
            params,
        )
        for day, code, count, lost_cents in cursor.fetchall():
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
            month = day.replace(day=1)
            code = code if code in Reason.values else NOT_RECORDED
            cell = report.cells.setdefault((month, code), ReasonCell())
            cell.clients += count
            cell.lost += Decimal(int(lost_cents)) / 100
    return report


@dataclass(frozen=True)
class ReasonAlert:
    """One reason's share of the month's bajas passed the administrador's threshold."""

    code: str
    label: object  # the reason's lazy label: in the reader's language when the text is made
    clients: int
    total: int

    @property
    def share(self) -> float:
        return round(100 * self.clients / self.total, 1) if self.total else 0.0


def reason_alert(*, counts: dict[str, int], share: int, minimum: int) -> ReasonAlert | None:
    """The recorded reason with the most bajas (the first in the choices' order on a tie) when its
    share of all the month's bajas (recorded or not) is above `share` percent and the month has at
    least `minimum` bajas; None otherwise (or when `share` is 0: the alert is off)."""
    total = sum(counts.values())
    if not share or not total or total < minimum:
        return None
    labels = dict(Reason.choices)
    best = max((code for code in Reason.values if counts.get(code)), key=lambda code: counts[code], default=None)
    if best is None or 100 * counts[best] <= share * total:
        return None
    return ReasonAlert(best, labels[best], counts[best], total)


def month_counts(*, clients: QuerySet, today: dt.date) -> dict[str, int]:
    """This month's bajas among `clients` per reason ('' not recorded): one grouped query."""
    from django.db.models import Count

    rows = (
        clients.filter(status=Status.LOST, status_since__gte=month_start(today), status_since__lte=today)
        .order_by().values_list("leave_reason").annotate(n=Count("pk"))
    )
    return dict(rows)


def alert_text(alert: ReasonAlert) -> str:
    """"6 of 11 lost clients this month cite “Price”", in the active language."""
    from django.utils.translation import ngettext

    return ngettext(
        "%(count)d of %(total)d lost clients this month cites “%(reason)s”",
        "%(count)d of %(total)d lost clients this month cite “%(reason)s”",
        alert.clients,
    ) % {"count": alert.clients, "total": alert.total, "reason": str(alert.label)}
