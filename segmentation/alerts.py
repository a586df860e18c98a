"""The colour alert (semáforo) of every client, set-based: DOMAIN.md "Colour alerts".

Each client gets one colour, a reason code and one value, the first rule that holds in this
order (red > yellow > green > none); "today" is `now`'s date in the business time zone
(settings.TIME_ZONE) and every date below is a local date:

* red `detractor`: a pending follow-up created for an unhappy NPS answer (origin detractor),
  first because it says why the call is urgent. Value: the local date it was created.
* red `followup_overdue`: a pending follow-up with due_at < now. Value: the local due date of
  the oldest overdue one (Client.alert_text counts the days to today: a date, unlike a count,
  does not change every night, so the night rewrites only the clients whose colour moved).
* red `valuable_dormant` (when the administrador keeps the rule on): status dormant, volume tier very high or high, and status_since on or
  after today - valuable_dormant_days. Value: status_since.
* red `contract_renewal`: a contract with renewal pending ending between today and today +
  renewal_notice_days (both included: Contract.objects.renewal_due), and no pending follow-up
  at all. Value: the earliest such end date.
* yellow `followup_due_soon`: a pending follow-up due from now on, on or before today +
  due_soon_days. Value: the due date of the next one.
* yellow `awaiting_too_long`: the latest interaction (by happened_at, then id) awaits the
  client's reply and happened before today - awaiting_limit_days. Value: its date.
* yellow `no_contact`: status new, active or dormant, no pending follow-up, and the last
  contact (the latest interaction, or without any the client's creation) is before today -
  contact_cadence_days. Value: the latest interaction's date, '' when there is none.
* green `awaiting_reply`: the latest interaction awaits the client's reply (within the limit).
  Value: its date.
* otherwise no colour, no reason, no value.

Stored in Client.alert (colour), alert_reason (code) and alert_value (ISO date or integer as
text); Client.alert_text() puts them into words.

How: one CREATE TEMPORARY TABLE … AS SELECT reads the pending follow-ups, the renewals due and
the interactions once each, grouped by client (the latest interaction by ROW_NUMBER), joins
them to the clients, decides the reason with a CASE and derives colour and value from it
(correlated subqueries per client took 51 s at a million clients; grouped joins read each
table once); one UPDATE then writes only the rows whose (alert, alert_reason, alert_value) differ.
The renewal window is the SQL of Contract.objects.renewal_due itself, nested, not a copy of it.
The day counts become dates and datetimes computed in Python; only the local date of a
timestamp, the ISO text of a date and "days between two dates" differ per backend (core.sql),
so SQLite and PostgreSQL give identical results.
"""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from clients.models import Alert, AlertReason, Client, Contract, FollowUp, Interaction, Status, VolumeTier
from core.bulk import ids_table_create
from core.sql import date_value, distinct_from, iso_date, local_date, queryset_sql, table_analyze
from segmentation.models import StatusChange
from segmentation.rules import Thresholds

TEMP_TABLE = "segmentation_alert_new"
CLIENT_TABLE = Client._meta.db_table
FOLLOWUP_TABLE = FollowUp._meta.db_table
INTERACTION_TABLE = Interaction._meta.db_table
COLUMNS = ["alert", "alert_reason", "alert_value"]

COLOURS: dict[str, str] = {
    AlertReason.FOLLOWUP_OVERDUE: Alert.RED,
    AlertReason.DETRACTOR: Alert.RED,
    AlertReason.VALUABLE_DORMANT: Alert.RED,
    AlertReason.CONTRACT_RENEWAL: Alert.RED,
    AlertReason.FOLLOWUP_DUE_SOON: Alert.YELLOW,
    AlertReason.AWAITING_TOO_LONG: Alert.YELLOW,
    AlertReason.NO_CONTACT: Alert.YELLOW,
    AlertReason.AWAITING_REPLY: Alert.GREEN,
}


TEMP_IDS = "segmentation_alert_ids"
INLINE_IDS = 500  # more clients than this (an import) go through a temporary table of ids


def _scope(client_ids: list[int] | None, params: dict) -> str:
    """`AND {column} IN (...)` for the clients in scope, to format with each table's column."""
    if client_ids is None:
        return ""
    if len(client_ids) > INLINE_IDS:
        return "AND {column} IN (SELECT id FROM " + TEMP_IDS + ")"  # noqa: S608 - a constant table name
    names = []
    for index, pk in enumerate(sorted(set(client_ids))):
        params[f"id{index}"] = pk
        names.append(f"%(id{index})s")
    return "AND {column} IN (" + ", ".join(names) + ")"


def _params(now: dt.datetime, thresholds: Thresholds) -> dict:
    today = timezone.localdate(now)
    days = dt.timedelta
    return {
        "now": connection.ops.adapt_datetimefield_value(now),
        "today": date_value(today),
        "pending": FollowUp.State.PENDING,
        "detractor": FollowUp.Origin.DETRACTOR,
        "due_soon_until": date_value(today + days(days=thresholds.due_soon_days)),
        "dormant_since": date_value(today - days(days=thresholds.valuable_dormant_days)),
        "awaiting_before": date_value(today - days(days=thresholds.awaiting_limit_days)),
        "contact_before": date_value(today - days(days=thresholds.contact_cadence_days)),
        "dormant": Status.DORMANT,
        "very_high": VolumeTier.VERY_HIGH,
        "high": VolumeTier.HIGH,
        "new": Status.NEW,
        "active": Status.ACTIVE,
        "true": True,
        "valuable_on": bool(thresholds.valuable_dormant_enabled),
    }


def _contracts_due_sql(now: dt.datetime, thresholds: Thresholds, params: dict) -> str:
    """The contracts in the renewal window (Contract.objects.renewal_due), as SQL to nest."""
    due = Contract.objects.renewal_due(timezone.localdate(now), thresholds.renewal_notice_days)
    return queryset_sql(due.order_by().values("client_id", "end_date"), params, "renewal")


def _pending_followups_sql(within: str) -> str:
    """Every pending follow-up read once, grouped by client (the (client, status, due_at) index)."""
    return f"""
        SELECT f.client_id AS client_id,
            MIN(CASE WHEN f.due_at < %(now)s THEN f.due_at END) AS overdue_at,
            MIN(CASE WHEN f.due_at >= %(now)s THEN f.due_at END) AS next_due_at,
            MIN(CASE WHEN f.origin = %(detractor)s THEN f.created_at END) AS detractor_at
        FROM {FOLLOWUP_TABLE} f
        WHERE f.status = %(pending)s {within}
        GROUP BY f.client_id
    """  # noqa: S608 - table names are constants, values are parameters


def _renewals_sql(contracts_due: str, within: str) -> str:
    """The earliest end of each client's contracts due for renewal."""
    return f"""
        SELECT k.client_id AS client_id, MIN(k.end_date) AS renewal_end FROM ({contracts_due}) k
        WHERE 1 = 1 {within}
        GROUP BY k.client_id
    """  # noqa: S608


def _latest_interactions_sql(within: str) -> str:
    """Each client's latest interaction (by happened_at, then id)."""
    return f"""
        SELECT client_id, happened_at AS last_at, awaiting_reply AS last_awaiting FROM (
            SELECT i.client_id, i.happened_at, i.awaiting_reply,
                ROW_NUMBER() OVER (PARTITION BY i.client_id ORDER BY i.happened_at DESC, i.id DESC) AS rn
            FROM {INTERACTION_TABLE} i WHERE 1 = 1 {within}
        ) ranked WHERE rn = 1
    """  # noqa: S608


def _facts_sql(within: str) -> str:
    """The clients in scope with what the CTEs above found for them, timestamps as they are."""
    return f"""
        SELECT c.id AS client_id, c.status AS status, c.volume_tier AS volume_tier, c.status_since AS status_since,
            c.created_at AS created_at, {", ".join(f"c.{name} AS old_{name}" for name in COLUMNS)}, pf.overdue_at AS overdue_at, pf.next_due_at AS next_due_at,
            pf.detractor_at AS detractor_at,
            CASE WHEN pf.client_id IS NULL THEN 0 ELSE 1 END AS has_pending,
            r.renewal_end AS renewal_end, li.last_at AS last_at, li.last_awaiting AS last_awaiting
        FROM {CLIENT_TABLE} c
        LEFT JOIN pending_followups pf ON pf.client_id = c.id
        LEFT JOIN renewals r ON r.client_id = c.id
        LEFT JOIN latest_interactions li ON li.client_id = c.id
        WHERE 1 = 1 {within}
    """  # noqa: S608


def _dated_sql() -> str:
    """The facts with their timestamps as local dates, which the rules compare."""
    return f"""
        SELECT facts.*, {local_date("overdue_at")} AS overdue_date, {local_date("next_due_at")} AS next_due_date,
            {local_date("detractor_at")} AS detractor_date,
            {local_date("last_at")} AS last_date, {local_date("created_at")} AS created_date
        FROM facts
    """  # noqa: S608 - column names and a checked time zone name


def _reason_sql() -> str:
    """The first rule that holds, in the module docstring's order."""
    return f"""CASE
        WHEN detractor_date IS NOT NULL THEN '{AlertReason.DETRACTOR}'
        WHEN overdue_date IS NOT NULL THEN '{AlertReason.FOLLOWUP_OVERDUE}'
        WHEN %(valuable_on)s = %(true)s AND status = %(dormant)s AND volume_tier IN (%(very_high)s, %(high)s) AND status_since >= %(dormant_since)s
            THEN '{AlertReason.VALUABLE_DORMANT}'
        WHEN renewal_end IS NOT NULL AND has_pending = 0 THEN '{AlertReason.CONTRACT_RENEWAL}'
        WHEN next_due_date IS NOT NULL AND next_due_date <= %(due_soon_until)s THEN '{AlertReason.FOLLOWUP_DUE_SOON}'
        WHEN last_awaiting = %(true)s AND last_date < %(awaiting_before)s THEN '{AlertReason.AWAITING_TOO_LONG}'
        WHEN status IN (%(new)s, %(active)s, %(dormant)s) AND has_pending = 0
            AND COALESCE(last_date, created_date) < %(contact_before)s THEN '{AlertReason.NO_CONTACT}'
        WHEN last_awaiting = %(true)s THEN '{AlertReason.AWAITING_REPLY}'
        ELSE ''
    END"""


def _colour_sql() -> str:
    whens = " ".join(f"WHEN '{code}' THEN '{alert}'" for code, alert in COLOURS.items())
    return f"CASE reason {whens} ELSE '' END"


def _value_sql() -> str:
    return f"""CASE reason
        WHEN '{AlertReason.FOLLOWUP_OVERDUE}' THEN {iso_date("overdue_date")}
        WHEN '{AlertReason.DETRACTOR}' THEN {iso_date("detractor_date")}
        WHEN '{AlertReason.VALUABLE_DORMANT}' THEN {iso_date("status_since")}
        WHEN '{AlertReason.CONTRACT_RENEWAL}' THEN {iso_date("renewal_end")}
        WHEN '{AlertReason.FOLLOWUP_DUE_SOON}' THEN {iso_date("next_due_date")}
        WHEN '{AlertReason.AWAITING_TOO_LONG}' THEN {iso_date("last_date")}
        WHEN '{AlertReason.NO_CONTACT}' THEN {iso_date("last_date")}
        WHEN '{AlertReason.AWAITING_REPLY}' THEN {iso_date("last_date")}
    END"""


def _select_sql(scope: str, contracts_due: str) -> str:
    """One row per client in scope whose colour differs from the stored one: client_id, alert,
    alert_reason, alert_value. Compared here, where the client's row is read anyway, so that the
    UPDATE joins only those (a night recolours a few hundred of 150,000 candidates; joining them
    all back to the clients read the whole table again: 0.9 s at a million clients)."""
    def within(column: str) -> str:
        return scope.replace("{column}", column)

    changed = " OR ".join(f"old_{name} {distinct_from()} {name}" for name in COLUMNS)
    return f"""
        WITH pending_followups AS ({_pending_followups_sql(within("f.client_id"))}),
        renewals AS ({_renewals_sql(contracts_due, within("k.client_id"))}),
        latest_interactions AS ({_latest_interactions_sql(within("i.client_id"))}),
        facts AS ({_facts_sql(within("c.id"))}),
        dated AS ({_dated_sql()}),
        decided AS (SELECT dated.*, {_reason_sql()} AS reason FROM dated),
        coloured AS (
            SELECT client_id, {", ".join(f"old_{name}" for name in COLUMNS)}, {_colour_sql()} AS alert,
                reason AS alert_reason, COALESCE({_value_sql()}, '') AS alert_value
            FROM decided
        )
        SELECT client_id, {", ".join(COLUMNS)} FROM coloured WHERE {changed}
    """  # noqa: S608 - every part is built above from constants; values are parameters


def recompute_alerts(now: dt.datetime, thresholds: Thresholds, client_ids: list[int] | None = None) -> int:
    """Recomputes the alert of the clients in `client_ids` (everyone when None) at `now`.

    Returns the number of clients whose alert changed.
    """
    if client_ids is not None and not client_ids:
        return 0
    params = _params(now, thresholds)
    select = _select_sql(_scope(client_ids, params), _contracts_due_sql(now, thresholds, params))
    assignments = ", ".join(f"{name} = n.{name}" for name in COLUMNS)
    update = f"UPDATE {CLIENT_TABLE} AS c SET {assignments} FROM {{source}} n WHERE n.client_id = c.id"  # noqa: S608
    if client_ids is not None and len(client_ids) <= INLINE_IDS:
        # A few clients (a refresh during the day): one statement, no temporary table to create.
        with connection.cursor() as cursor:
            cursor.execute(update.format(source=f"({select})"), params)
            return cursor.rowcount
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (TEMP_TABLE, TEMP_IDS):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        if client_ids is not None:
            ids_table_create(cursor, TEMP_IDS, client_ids)
        cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_TABLE} AS {select}", params)
        table_analyze(cursor, TEMP_TABLE)  # a few rows: joined to the clients by their primary key
        cursor.execute(update.format(source=TEMP_TABLE))
        rows_changed = cursor.rowcount
        for table in (TEMP_TABLE, TEMP_IDS):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return rows_changed


ALERTS_VERSION = "2"  # raise it when a rule changes: the next night then recomputes every colour


def colours_key(thresholds: Thresholds) -> str:
    """What the colours depend on besides the records and the day."""
    return ":".join(str(value) for value in (
        ALERTS_VERSION, thresholds.valuable_dormant_days, thresholds.renewal_notice_days, thresholds.due_soon_days,
        thresholds.awaiting_limit_days, thresholds.contact_cadence_days, thresholds.valuable_dormant_enabled,
    ))


def night_candidates(now: dt.datetime, thresholds: Thresholds, *, since: dt.date) -> list[int]:
    """The clients whose colour can have moved since the colours of `since` without a write
    (every write recolours its client at once): the time-bound rules of the module docstring,
    each found by an index over the span [since, today], a day wider on each side so that no
    time zone puts a boundary outside it. A superset: recompute_alerts writes only what differs.

    * a status changed (any StatusChange dated after `since`): dormant, new, active and lost
      move valuable_dormant and no_contact;
    * dormant since on or after since - valuable_dormant_days: its tier may have moved tonight,
      or its valuable_dormant window ends;
    * a pending follow-up due from since - 1 to today + due_soon_days + 2: turning overdue or
      entering the due-soon window (one overdue before stays so, with the same value, until a
      write closes it);
    * a contract with renewal pending ending between since - 1 and today + renewal_notice_days + 1;
    * an interaction (awaiting a reply, for awaiting_too_long) or a client's creation (for a
      client without interactions) whose date crosses today - awaiting_limit_days or
      today - contact_cadence_days since the last run.
    """
    today = timezone.localdate(now)
    day = dt.timedelta(days=1)

    def midnight(date: dt.date):
        return connection.ops.adapt_datetimefield_value(dt.datetime.combine(date, dt.time.min, tzinfo=dt.UTC))

    awaiting, cadence = dt.timedelta(days=thresholds.awaiting_limit_days), dt.timedelta(days=thresholds.contact_cadence_days)
    params = {
        "since": date_value(since), "today": date_value(today), "dormant": Status.DORMANT,
        "dormant_from": date_value(since - dt.timedelta(days=thresholds.valuable_dormant_days)),
        "pending": FollowUp.State.PENDING,
        "due_from": midnight(since - day), "due_until": midnight(today + dt.timedelta(days=thresholds.due_soon_days + 2)),
        "renewal_pending": Contract.Renewal.PENDING, "ends_from": date_value(since - day),
        "ends_until": date_value(today + dt.timedelta(days=thresholds.renewal_notice_days) + day),
        "awaiting_from": midnight(since - awaiting - day), "awaiting_until": midnight(today - awaiting + day),
        "contact_from": midnight(since - cadence - day), "contact_until": midnight(today - cadence + day),
        "true": True,
    }
    changes, contracts = StatusChange._meta.db_table, Contract._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT client_id FROM {changes} WHERE date > %(since)s AND date <= %(today)s
                UNION SELECT id FROM {CLIENT_TABLE} WHERE status = %(dormant)s AND status_since >= %(dormant_from)s
                UNION SELECT client_id FROM {FOLLOWUP_TABLE}
                    WHERE status = %(pending)s AND due_at >= %(due_from)s AND due_at < %(due_until)s
                UNION SELECT client_id FROM {contracts}
                    WHERE renewal_status = %(renewal_pending)s AND end_date >= %(ends_from)s AND end_date <= %(ends_until)s
                UNION SELECT client_id FROM {INTERACTION_TABLE}
                    WHERE happened_at >= %(awaiting_from)s AND happened_at < %(awaiting_until)s AND awaiting_reply = %(true)s
                UNION SELECT client_id FROM {INTERACTION_TABLE}
                    WHERE happened_at >= %(contact_from)s AND happened_at < %(contact_until)s
                UNION SELECT id FROM {CLIENT_TABLE} WHERE created_at >= %(contact_from)s AND created_at < %(contact_until)s""",  # noqa: S608
            params,
        )
        return [client_id for (client_id,) in cursor.fetchall()]

