"""Daily snapshots: clients and 12-month spend per salesperson, status, tier, frequency and colour.

The nightly run takes one after the recompute (one INSERT … SELECT … GROUP BY over the clients,
a few hundred rows a day); the dashboard's trends read them instead of the clients or purchases.
Taking the same day again replaces that day's rows.
"""

import datetime as dt

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from clients.models import NOT_IN_TRASH_SQL, Client, Purchase
from core.sql import date_value
from segmentation.leaving import month_start
from segmentation.models import DailySnapshot, FlowSnapshot, StatusChange

SNAPSHOT_TABLE = DailySnapshot._meta.db_table
CLIENT_TABLE = Client._meta.db_table


@transaction.atomic
def snapshot_take(*, day: dt.date) -> int:
    """Records today's figures of every client as the snapshot of `day`; returns the rows written."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SNAPSHOT_TABLE} WHERE date = %s", [date_value(day)])  # noqa: S608
        cursor.execute(
            f"""INSERT INTO {SNAPSHOT_TABLE} (date, owner_id, status, volume_tier, frequency_class, alert, clients, spend_12m)
                SELECT %s, owner_id, status, volume_tier, frequency_class, alert, COUNT(*), COALESCE(SUM(spend_12m), 0)
                FROM {CLIENT_TABLE}
                WHERE {NOT_IN_TRASH_SQL}
                GROUP BY owner_id, status, volume_tier, frequency_class, alert""",  # noqa: S608
            [date_value(day)],
        )
        return cursor.rowcount


@transaction.atomic
def source_snapshot_take(*, day: dt.date) -> int:
    """The altas of the 12 months ending on `day` per salesperson and source, for the dashboard's
    card (one INSERT … SELECT … GROUP BY); returns the rows written. The same day again replaces it."""
    from segmentation.models import SourceSnapshot
    from segmentation.sources import period_start

    table = SourceSnapshot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE date = %s", [date_value(day)])  # noqa: S608
        cursor.execute(
            f"""INSERT INTO {table} (date, owner_id, source, altas)
                SELECT %s, owner_id, source, COUNT(*) FROM {CLIENT_TABLE}
                WHERE {NOT_IN_TRASH_SQL} AND first_purchase_date >= %s AND first_purchase_date <= %s
                GROUP BY owner_id, source""",  # noqa: S608
            [date_value(day), date_value(period_start(day, 12)), date_value(day)],
        )
        return cursor.rowcount


SNAPSHOT_KEEP_DAYS = 7  # the flow and renewal snapshots kept: the dashboard reads the latest night's


@transaction.atomic
def flow_snapshot_take(*, day: dt.date) -> int:
    """The status changes of `day`'s month and the month before (up to the end of `day`'s month)
    per salesperson of the client (trashed ones too, as the live count), month and pair of
    statuses, for the dashboard's flows (one INSERT … SELECT … GROUP BY over the changes' date
    index); returns the rows written. Stamped with the time taken: the dashboard adds the changes
    written since. The same day again replaces it; snapshots older than a week go."""
    table, changes = FlowSnapshot._meta.db_table, StatusChange._meta.db_table
    this_month = month_start(day)
    params = {
        "day": date_value(day), "since": date_value(month_start(day, 1)), "this_month": date_value(this_month),
        "next_month": date_value(month_start(day, -1)), "old": date_value(day - dt.timedelta(days=SNAPSHOT_KEEP_DAYS)),
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE date = %(day)s OR date < %(old)s", params)  # noqa: S608
        cursor.execute(
            f"""INSERT INTO {table} (date, taken_at, owner_id, month, from_status, to_status, changes)
                SELECT %(day)s, %(now)s, c.owner_id, f.month, f.from_status, f.to_status, COUNT(*)
                FROM (SELECT client_id, from_status, to_status,
                             CASE WHEN date >= %(this_month)s THEN %(this_month)s ELSE %(since)s END AS month
                      FROM {changes} WHERE date >= %(since)s AND date < %(next_month)s) f
                JOIN {CLIENT_TABLE} c ON c.id = f.client_id
                GROUP BY c.owner_id, f.month, f.from_status, f.to_status""",  # noqa: S608
            params,
        )
        return cursor.rowcount


RENEWAL_PERIOD_DAYS = 365  # the dashboard's renewal rate: the last 12 months, like the revenue


@transaction.atomic
def renewal_snapshot_take(*, day: dt.date) -> int:
    """One row per contract renewed or lost that came to term in the 12 months ending on `day`, of
    a client not in the trash, with the client's salesperson (one INSERT … SELECT over the
    contracts' end date index); returns the rows written. Stamped with the time taken. The same
    day again replaces it; snapshots older than a week go."""
    from clients.models import Contract
    from segmentation.models import RenewalSnapshot

    table, contracts = RenewalSnapshot._meta.db_table, Contract._meta.db_table
    params = {
        "day": date_value(day), "since": date_value(day - dt.timedelta(days=RENEWAL_PERIOD_DAYS - 1)),
        "old": date_value(day - dt.timedelta(days=SNAPSHOT_KEEP_DAYS)),
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "renewed": Contract.Renewal.RENEWED, "lost": Contract.Renewal.NOT_RENEWING,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE date = %(day)s OR date < %(old)s", params)  # noqa: S608
        cursor.execute(
            f"""INSERT INTO {table} (date, taken_at, contract_id, owner_id, renewed, value)
                SELECT %(day)s, %(now)s, k.id, c.owner_id, k.renewal_status = %(renewed)s, k.value
                FROM {contracts} k JOIN {CLIENT_TABLE} c ON c.id = k.client_id
                WHERE k.end_date >= %(since)s AND k.end_date <= %(day)s AND k.renewal_status IN (%(renewed)s, %(lost)s)
                    AND c.{NOT_IN_TRASH_SQL}""",  # noqa: S608
            params,
        )
        return cursor.rowcount


@transaction.atomic
def snapshot_backfill(*, day: dt.date, thresholds) -> int:
    """A snapshot of a past `day` rebuilt from the purchases (the demo's and an import's history).

    Status and 12-month spend as they were on that day, by the same rule as the engine, for the
    clients that existed then; tier, frequency and colour stay empty (they need the whole engine).
    """
    from segmentation.engine import TWELVE_MONTHS_DAYS, status_params, status_sql

    params = {
        "day": date_value(day),
        "window_start": date_value(day - dt.timedelta(days=TWELVE_MONTHS_DAYS - 1)),
        "day_end": connection.ops.adapt_datetimefield_value(
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        ),
    }
    status_params(day, thresholds, params)
    closed = "CASE WHEN c.closed_at <= %(day)s THEN c.closed_at END"
    status = status_sql("a.first_date", "a.last_date", closed)
    purchases = Purchase._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SNAPSHOT_TABLE} WHERE date = %(day)s", params)  # noqa: S608
        cursor.execute(
            f"""INSERT INTO {SNAPSHOT_TABLE} (date, owner_id, status, volume_tier, frequency_class, alert, clients, spend_12m)
                SELECT %(day)s, owner_id, status, '', '', '', COUNT(*), COALESCE(SUM(spend_12m), 0) FROM (
                    SELECT c.owner_id AS owner_id, {status} AS status, COALESCE(a.s12, 0) AS spend_12m
                    FROM {CLIENT_TABLE} c
                    LEFT JOIN (
                        SELECT p.client_id, MIN(p.date) AS first_date, MAX(p.date) AS last_date,
                            SUM(CASE WHEN p.date >= %(window_start)s THEN p.amount ELSE 0 END) AS s12
                        FROM {purchases} p WHERE p.date <= %(day)s GROUP BY p.client_id
                    ) a ON a.client_id = c.id
                    WHERE c.created_at < %(day_end)s
                ) then_
                GROUP BY owner_id, status""",  # noqa: S608
            params,
        )
        return cursor.rowcount


@transaction.atomic
def segment_snapshots_take(*, day: dt.date) -> int:
    """Each saved segment's clients and 12-month spend per salesperson on `day` (one grouped query
    per segment: a business has tens of segments, not thousands). A segment whose filter no longer
    validates (a salesperson who left) is skipped. Segments whose query is the same (two saved
    with an empty filter by the same person) are counted once."""
    from clients.filters import ClientFilter
    from segmentation.models import Segment, SegmentSnapshot
    from segmentation.segments import segment_query

    SegmentSnapshot.objects.filter(date=day).delete()
    rows, counted = [], {}
    for segment in Segment.objects.select_related("owner"):
        filterset = ClientFilter(segment_query(segment), queryset=Client.objects.not_in_trash(), user=segment.owner)
        if not filterset.is_valid():
            continue
        grouped = filterset.qs.order_by().values_list("owner_id").annotate(n=Count("pk"), s=Sum("spend_12m"))
        try:
            sql, params = grouped.query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nobody: no rows, as the query would give
            continue
        key = (sql, repr(params))
        if key not in counted:
            counted[key] = list(grouped)
        for owner_id, clients, spend in counted[key]:
            rows.append(SegmentSnapshot(date=day, segment=segment, owner_id=owner_id, clients=clients, spend_12m=spend or 0))
    SegmentSnapshot.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)
