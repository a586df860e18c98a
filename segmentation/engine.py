"""The nightly lifecycle engine: every client's figures, status and classifications, set-based.

It implements, in SQL and for all clients at once, DOMAIN.md "Lifecycle status" and
"Classifications" on an evaluation date `as_of`:

* Only purchases dated on or before `as_of` count. Figures: first and last purchase date,
  purchase_count (purchase records), total_spent, spend_12m (purchases dated in the 365 days
  ending on `as_of`: date > as_of - 365 days) and average_basket = total_spent / purchase_count
  rounded half up to cents (0 without purchases).
* status: closed on purpose (closed_at set, no purchase after it) → lost; no purchases →
  prospect; as_of - last > baja_after_days → lost; > dormido_after_days → dormant;
  as_of - first <= alta_window_days → new; else active. `segmentation.rules.status_for` is the
  same rule in Python and the tests hold the two together.
* volume_tier: spend_12m / mean(spend_12m of the clients with spend_12m > 0): ≥ tier_very_high
  very_high, ≥ tier_high high, ≥ tier_medium medium, else low; '' when spend_12m = 0.
* frequency_class: the median gap in days between consecutive *distinct* purchase dates (the
  mean of the two middle gaps for an even count): ≤ frequent_max_days frequent,
  ≤ habitual_max_days habitual, else occasional; one distinct date → occasional; '' without
  purchases.
* r_score, f_score, m_score: NTILE(5) over the buying clients (purchase_count > 0), ordered by
  (value, id) so that ties never swap quintiles between runs: R on the last purchase date (more
  recent → higher), F on purchase_count, M on total_spent. rfm_segment from (R, F):

      R\\F    1            2            3          4           5
      5      new          promising    loyal      champions   champions
      4      new          promising    loyal      champions   champions
      3      promising    promising    loyal      loyal       loyal
      2      hibernating  hibernating  at_risk    at_risk     at_risk
      1      lost         lost         lost       cant_lose   cant_lose

  Non-buyers get no scores and no segment.
* `alert` is not touched here.

How: the global step (`global_cuts`) aggregates all purchases once and returns the mean
12-month spend and the last (value, id) of each quintile. `apply_chunk` aggregates the
purchases of the clients in scope (ids in [lo, hi), a list of ids, or everyone) into a
temporary table (a single run takes the global step from that same table), computes every
column and keeps the clients whose values change in a second one, records a StatusChange for every status that changes (INSERT …
SELECT) and UPDATEs only the rows whose values differ, all in one transaction. Because the
cut points are global, a chunked run equals a single run, and they are plain JSON so that
Celery chunks can share them.

The gaps come from LAG over each client's purchases in date order (the (client, date) index
gives that order): the non-zero steps are exactly the gaps between distinct dates. The median
takes the one or two middle gaps by ROW_NUMBER against COUNT (SQLite) or percentile_cont
(PostgreSQL, twice as fast; see _median_sql).

Exactness, so that SQLite (3.39+) and PostgreSQL give identical results: money is summed in
integer cents, the tier cut points become integer cent thresholds computed in Python with
fractions, the median is kept doubled (an integer), and the day thresholds become dates
computed in Python. Only "days between two dates", the as_of literal and IS DISTINCT FROM
(IS NOT on SQLite) differ per backend.
"""

import datetime as dt
import logging
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db import connection, transaction
from django.utils import timezone

from clients.models import Client, FrequencyClass, Purchase, RfmSegment, Status, VolumeTier
from clients.recommendations import recommendations_mark, recommendations_mark_sql
from core.bulk import ids_table_create
from core.sql import (
    add_days,
    date_param,
    date_value,
    days_between,
    distinct_from,
    integer_cents,
    is_postgres,
    least,
    table_analyze,
    work_mem_set,
)
from segmentation.leaving import leave_reason_differences, leave_reasons_update
from segmentation.models import StatusChange
from segmentation.rules import Thresholds

logger = logging.getLogger(__name__)

TWELVE_MONTHS_DAYS = 365
QUINTILES = 5
WORK_MEM = "256MB"  # per sort, for the nightly job's transaction only
TEMP_TABLE = "segmentation_lifecycle_new"
TEMP_IDS = "segmentation_lifecycle_ids"
TEMP_AGG = "segmentation_lifecycle_agg"
TEMP_CUTS = "segmentation_lifecycle_cuts"  # the global step's own aggregate (a chunked run)
WORK_AGG = "segmentation_lifecycle_work"  # + _<epoch seconds>_<random> per run: the parallel aggregate
# No run lasts this long: a scratch table older than this belongs to a process that was killed.
WORK_AGG_STALE_SECONDS = 6 * 3600

# (R, F) → segment, the table of the docstring; rows are R from 5 down to 1, columns F from 1 to 5.
_RFM_ROWS = {
    5: ["new", "promising", "loyal", "champions", "champions"],
    4: ["new", "promising", "loyal", "champions", "champions"],
    3: ["promising", "promising", "loyal", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "at_risk"],
    1: ["lost", "lost", "lost", "cant_lose", "cant_lose"],
}
RFM_SEGMENTS: dict[tuple[int, int], str] = {
    (r, f): RfmSegment(code).value for r, row in _RFM_ROWS.items() for f, code in enumerate(row, start=1)
}

CLIENT_TABLE = Client._meta.db_table
PURCHASE_TABLE = Purchase._meta.db_table
CHANGE_TABLE = StatusChange._meta.db_table

# The computed columns, compared with IS DISTINCT FROM so that only changed rows are written.
COMPUTED_COLUMNS = [
    "status", "first_purchase_date", "last_purchase_date", "purchase_count", "total_spent", "spend_12m",
    "average_basket", "volume_tier", "frequency_class", "r_score", "f_score", "m_score", "rfm_segment",
]


@dataclass(frozen=True)
class GlobalCuts:
    """What every chunk must share: the mean 12-month spend and the quintile boundaries.

    A boundary is the last (value, id) of a quintile in (value, id) order; a client's score is
    1 + the number of boundaries its (value, id) is above, which is what NTILE(5) gives.
    """

    spenders: int = 0
    spend_12m_cents: int = 0
    r_bounds: list[tuple[int, int]] = field(default_factory=list)
    f_bounds: list[tuple[int, int]] = field(default_factory=list)
    m_bounds: list[tuple[int, int]] = field(default_factory=list)

    def as_json(self) -> dict:
        return asdict(self)

    def shifted(self, days: int) -> "GlobalCuts":
        """The same cut points `days` later. R's value is the last purchase date minus the
        evaluation date (higher: more recent), so a boundary's falls by a day each day while its
        last purchase stays where it was; the other measures do not depend on the date."""
        r_bounds = [(value - days, client_id) for value, client_id in self.r_bounds]
        return GlobalCuts(self.spenders, self.spend_12m_cents, r_bounds, list(self.f_bounds), list(self.m_bounds))

    @classmethod
    def from_json(cls, data: dict) -> "GlobalCuts":
        bounds = {name: [tuple(pair) for pair in data[name]] for name in ("r_bounds", "f_bounds", "m_bounds")}
        return cls(spenders=data["spenders"], spend_12m_cents=data["spend_12m_cents"], **bounds)


def _aggregate_sql(range_sql: str, *, with_gaps: bool = True) -> str:
    """One row per client with purchases on or before as_of: figures in integer cents.

    `with_gaps`: also what the frequency class needs from the gaps between distinct dates (see
    _frequency_sql), in the same pass over the purchases in (client, date) order. Without it
    (the global step) this is a plain GROUP BY that PostgreSQL runs in parallel.
    """
    cents = integer_cents("p.amount")
    figures = f"""p.client_id AS client_id, MIN(p.date) AS first_date, MAX(p.date) AS last_date,
               COUNT(*) AS n, CAST(SUM({cents}) AS BIGINT) AS total_c,
               CAST(SUM(CASE WHEN p.date >= %(window_start)s THEN {cents} ELSE 0 END) AS BIGINT) AS s12_c"""
    if not with_gaps:
        return f"""
            SELECT {figures}
            FROM {PURCHASE_TABLE} p
            WHERE p.date <= %(as_of)s {range_sql}
            GROUP BY p.client_id
        """  # noqa: S608 - table names are constants, values are parameters
    gap = days_between("p.date", "LAG(p.date) OVER (PARTITION BY p.client_id ORDER BY p.date)")
    per_limit = ",\n".join(
        f"""SUM(CASE WHEN p.gap > 0 AND p.gap <= %({limit})s THEN 1 ELSE 0 END) AS le_{limit},
               MAX(CASE WHEN p.gap > 0 AND p.gap <= %({limit})s THEN p.gap END) AS max_le_{limit},
               MIN(CASE WHEN p.gap > %({limit})s THEN p.gap END) AS min_gt_{limit}"""
        for limit in FREQUENCY_LIMITS
    )
    return f"""
        SELECT {figures}, SUM(CASE WHEN p.gap > 0 THEN 1 ELSE 0 END) AS gaps, {per_limit}
        FROM (
            SELECT p.client_id, p.date, p.amount, {gap} AS gap FROM {PURCHASE_TABLE} p
            WHERE p.date <= %(as_of)s {range_sql}
        ) p
        GROUP BY p.client_id
    """  # noqa: S608 - table names are constants, values are parameters


FREQUENCY_LIMITS = ("frequent_max", "habitual_max")


def _frequency_params(thresholds: Thresholds, params: dict) -> dict:
    params.update(frequent_max=thresholds.frequent_max_days, habitual_max=thresholds.habitual_max_days)
    return params


def _median_within(limit: str) -> str:
    """Whether the median gap is <= the limit T, from counts instead of sorting each client's gaps.

    With the n gaps sorted g1 <= … <= gn and c of them <= T: the median is g[(n+1)/2] (n odd)
    or (g[n/2] + g[n/2+1]) / 2 (n even). If c >= n/2 + 1 (integer division) every middle gap is
    <= T; if c < n/2 none of them is, for n even the lower middle already exceeds T; the only
    case left is n even and c = n/2, where the middles are the largest gap <= T and the smallest
    gap > T, and the median is <= T when their sum is <= 2T. Integers only, exact on both backends.
    """
    return f"""(a.le_{limit} >= (a.gaps + 2) / 2
            OR (a.gaps - 2 * (a.gaps / 2) = 0 AND a.le_{limit} = a.gaps / 2
                AND a.max_le_{limit} + a.min_gt_{limit} <= 2 * %({limit})s))"""


def _frequency_sql() -> str:
    return f"""CASE WHEN a.n IS NULL THEN ''
                    WHEN a.gaps = 0 THEN '{FrequencyClass.OCCASIONAL}'
                    WHEN {_median_within("frequent_max")} THEN '{FrequencyClass.FREQUENT}'
                    WHEN {_median_within("habitual_max")} THEN '{FrequencyClass.HABITUAL}'
                    ELSE '{FrequencyClass.OCCASIONAL}'
                END"""


LOADED_IDS = "loaded ids"  # a scope: the ids its caller has already put in TEMP_IDS


def _range(column: str, id_range, params: dict) -> str:
    """The clients in scope: an id range [lo, hi), the ids in TEMP_IDS (a list, or LOADED_IDS),
    or all (None)."""
    if id_range is None:
        return ""
    if isinstance(id_range, list) or id_range == LOADED_IDS:
        return f"AND {column} IN (SELECT id FROM {TEMP_IDS})"  # noqa: S608
    params["lo"], params["hi"] = id_range
    return f"AND {column} >= %(lo)s AND {column} < %(hi)s"


def _base_params(as_of: dt.date) -> dict:
    return {
        "as_of": date_value(as_of),
        "window_start": date_value(as_of - dt.timedelta(days=TWELVE_MONTHS_DAYS - 1)),
    }


def _stored_figures_sql(source: str = CLIENT_TABLE) -> str:
    """The buyers' stored figures in the columns of _aggregate_sql's global step: what the cut
    points need, read from the clients (a million rows) instead of the purchases (ten million),
    or from `source`, a copy of their columns (the incremental night's TEMP_STORED)."""
    return f"""
        SELECT id AS client_id, last_purchase_date AS last_date, purchase_count AS n,
            {integer_cents("total_spent")} AS total_c, {integer_cents("spend_12m")} AS s12_c
        FROM {source} WHERE purchase_count > 0
    """  # noqa: S608 - a constant table name


def global_cuts(
    as_of: dt.date, *, from_temp_aggregate: bool = False, aggregate_table: str = TEMP_AGG, stored: bool = False,
    stored_source: str = CLIENT_TABLE,
) -> GlobalCuts:
    """The parts that need every client: the mean 12-month spend and the quintile boundaries.

    `from_temp_aggregate`: read `aggregate_table` (already holding every client) instead of
    aggregating again. `stored`: from the clients' stored figures, which must be current on
    `as_of` (the incremental night brings them there first), instead of the purchases.
    """
    params = _base_params(as_of)
    recency = days_between("last_date", date_param("as_of"))
    bounds: dict[str, list[tuple[int, int]]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        work_mem_set(cursor, WORK_MEM)
        source = aggregate_table
        if not from_temp_aggregate:
            source = TEMP_CUTS
            figures = _stored_figures_sql(stored_source) if stored else _aggregate_sql("", with_gaps=False)
            cursor.execute(f"DROP TABLE IF EXISTS {TEMP_CUTS}")
            cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_CUTS} AS {figures}", params)
        cursor.execute(
            f"""SELECT COUNT(*), COALESCE(SUM(CASE WHEN s12_c > 0 THEN s12_c ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN s12_c > 0 THEN 1 ELSE 0 END), 0) FROM {source}"""  # noqa: S608
        )
        buyers, spend, spenders = (int(value) for value in cursor.fetchone())
        ranks = _quintile_ends(buyers)
        # The rows at the ranks where NTILE(5) would end a quintile; a day counts as itself, a
        # purchase count too, a total by its euros (cents / 100).
        for kind, value, width in (("r", recency, 1), ("f", "n", 1), ("m", "total_c", 100)):
            bounds[kind] = rows_at_ranks(cursor, source, value, ranks, params, width=width)
        if not from_temp_aggregate:
            cursor.execute(f"DROP TABLE IF EXISTS {TEMP_CUTS}")
    return GlobalCuts(
        spenders=spenders, spend_12m_cents=spend, r_bounds=bounds["r"], f_bounds=bounds["f"], m_bounds=bounds["m"],
    )


def rows_at_ranks(cursor, source: str, value: str, ranks: list[int], params: dict, *, width: int = 1) -> list[tuple[int, int]]:
    """(value, client_id) of the rows of `source` at each 1-based rank in `ranks` (ascending), in
    the order of (value, client_id): `value` an integer expression, never NULL.

    Without sorting every row (850,000 buyers took 0.9 s a measure at a million clients): the
    rows are counted per bucket, `value` / `width` (integer division, which never decreases as
    the value grows: the buckets follow the order), which tells the bucket of each rank and its
    place there; then only the rows of those few buckets are numbered."""
    if not ranks:
        return []
    bucket = f"(({value}) / {int(width)})" if width != 1 else f"({value})"
    cursor.execute(f"SELECT {bucket} AS b, COUNT(*) FROM {source} GROUP BY 1", params)  # noqa: S608
    counts = sorted((int(b), int(n)) for b, n in cursor.fetchall())
    wanted: list[tuple[int, int]] = []  # (bucket, place in it) of each rank
    before, buckets = 0, iter(counts)
    b, n = next(buckets)
    for rank in ranks:
        while before + n < rank:
            before += n
            b, n = next(buckets)
        wanted.append((b, rank - before))
    places = " OR ".join(f"(b = {b} AND rn = {place})" for b, place in wanted)
    cursor.execute(
        f"""SELECT b, rn, v, id FROM (
                SELECT {bucket} AS b, {value} AS v, client_id AS id,
                    ROW_NUMBER() OVER (PARTITION BY {bucket} ORDER BY {value}, client_id) AS rn
                FROM {source} WHERE {bucket} IN ({", ".join(str(b) for b, _ in wanted)})
            ) ranked WHERE {places}""",  # noqa: S608 - buckets and places are integers
        params,
    )
    found = {(int(b), int(rn)): (int(v), int(client_id)) for b, rn, v, client_id in cursor.fetchall()}
    return [found[key] for key in wanted]


def _quintile_ends(count: int) -> list[int]:
    """The 1-based ranks of the last row of each quintile that another quintile follows.

    NTILE(5) over `count` rows makes the first count % 5 quintiles one row longer than the others.
    """
    size, longer = divmod(count, QUINTILES)
    sizes = [size + (1 if tile < longer else 0) for tile in range(QUINTILES)]
    ends, total = [], 0
    for tile in range(QUINTILES - 1):
        total += sizes[tile]
        if sizes[tile] and sizes[tile + 1]:
            ends.append(total)
    return ends


def _tier_threshold_cents(ratio, cuts: GlobalCuts) -> int:
    """The smallest spend in cents whose ratio to the mean reaches `ratio` (exact, no floats)."""
    return math.ceil(Fraction(str(ratio)) * cuts.spend_12m_cents / cuts.spenders)


def volume_tier_sql(spend_cents: str, thresholds: Thresholds, cuts: GlobalCuts, params: dict) -> str:
    """The volume tier of a 12-month spend in integer cents (`spend_cents`, NULL for none): the
    one definition of the cut, for the nightly run and the settings' preview alike.

    No tier without spend; otherwise the highest cut whose threshold the spend reaches, the
    ratios to the mean turned into cent thresholds in Python (exact, see _tier_threshold_cents).
    """
    if not cuts.spenders:
        return "''"  # nobody spent: no mean, no tier
    params.update(
        very_high_c=_tier_threshold_cents(thresholds.tier_very_high, cuts),
        high_c=_tier_threshold_cents(thresholds.tier_high, cuts),
        medium_c=_tier_threshold_cents(thresholds.tier_medium, cuts),
    )
    return f"""CASE WHEN COALESCE({spend_cents}, 0) <= 0 THEN ''
        WHEN {spend_cents} >= %(very_high_c)s THEN '{VolumeTier.VERY_HIGH}'
        WHEN {spend_cents} >= %(high_c)s THEN '{VolumeTier.HIGH}'
        WHEN {spend_cents} >= %(medium_c)s THEN '{VolumeTier.MEDIUM}'
        ELSE '{VolumeTier.LOW}' END"""


def _score_sql(value: str, bounds: list[tuple[int, int]], name: str, params: dict, id_column: str = "a.client_id") -> str:
    terms = ["1"]
    for index, (bound_value, bound_id) in enumerate(bounds):
        params[f"{name}{index}v"], params[f"{name}{index}i"] = bound_value, bound_id
        terms.append(f"CASE WHEN ({value}, {id_column}) > (%({name}{index}v)s, %({name}{index}i)s) THEN 1 ELSE 0 END")
    return " + ".join(terms)


def rfm_segment_sql(r: str, f: str) -> str:
    """The (R, F) → segment table as one SQL CASE."""
    whens = " ".join(f"WHEN {r_ * 10 + f_} THEN '{code}'" for (r_, f_), code in sorted(RFM_SEGMENTS.items()))
    return f"CASE WHEN {r} IS NULL OR {f} IS NULL THEN '' ELSE CASE {r} * 10 + {f} {whens} ELSE '' END END"


def status_sql(first: str, last: str, closed_at: str) -> str:
    """The lifecycle rule; the day counts are turned into dates in Python (see status_params)."""
    return f"""CASE
        WHEN {closed_at} IS NOT NULL AND ({last} IS NULL OR {last} <= {closed_at}) THEN '{Status.LOST}'
        WHEN {last} IS NULL THEN '{Status.PROSPECT}'
        WHEN {last} < %(lost_before)s THEN '{Status.LOST}'
        WHEN {last} < %(dormant_before)s THEN '{Status.DORMANT}'
        WHEN {first} >= %(new_since)s THEN '{Status.NEW}'
        ELSE '{Status.ACTIVE}'
    END"""


def status_params(as_of: dt.date, thresholds: Thresholds, params: dict) -> None:
    # as_of - last > baja  ⟺  last < as_of - baja;  as_of - first <= alta  ⟺  first >= as_of - alta
    params.update(
        lost_before=date_value(as_of - dt.timedelta(days=thresholds.baja_after_days)),
        dormant_before=date_value(as_of - dt.timedelta(days=thresholds.dormido_after_days)),
        new_since=date_value(as_of - dt.timedelta(days=thresholds.alta_window_days)),
    )


def _new_values_sql(
    as_of: dt.date, thresholds: Thresholds, cuts: GlobalCuts, id_range, params: dict, *, from_temp_aggregate: bool,
    aggregate_table: str = TEMP_AGG,
) -> str:
    """SELECT of every computed column for the clients in range (one row per client)."""
    status_params(as_of, thresholds, params)
    _frequency_params(thresholds, params)
    tier = volume_tier_sql("a.s12_c", thresholds, cuts, params)
    recency = days_between("a.last_date", date_param("as_of"))
    r_score = _score_sql(recency, cuts.r_bounds, "r", params)
    f_score = _score_sql("a.n", cuts.f_bounds, "f", params)
    m_score = _score_sql("a.total_c", cuts.m_bounds, "m", params)
    purchase_range = _range("p.client_id", id_range, params)
    client_range = _range("c.id", id_range, params)
    agg = (
        f"SELECT * FROM {aggregate_table}"  # noqa: S608
        if from_temp_aggregate
        else _aggregate_sql(purchase_range)
    )
    return f"""
        WITH agg AS ({agg}),
        scored AS (
            SELECT c.id AS client_id, {", ".join(f"c.{name} AS old_{name}" for name in COMPUTED_COLUMNS)},
                {status_sql("a.first_date", "a.last_date", "c.closed_at")} AS status,
                a.first_date AS first_purchase_date, a.last_date AS last_purchase_date,
                COALESCE(a.n, 0) AS purchase_count,
                COALESCE(a.total_c, 0) / 100.0 AS total_spent,
                COALESCE(a.s12_c, 0) / 100.0 AS spend_12m,
                CASE WHEN a.n IS NULL THEN 0 ELSE ((2 * a.total_c + a.n) / (2 * a.n)) / 100.0 END AS average_basket,
                {tier} AS volume_tier,
                {_frequency_sql()} AS frequency_class,
                CASE WHEN a.n IS NULL THEN NULL ELSE {r_score} END AS r_score,
                CASE WHEN a.n IS NULL THEN NULL ELSE {f_score} END AS f_score,
                CASE WHEN a.n IS NULL THEN NULL ELSE {m_score} END AS m_score
            FROM {CLIENT_TABLE} c
            LEFT JOIN agg a ON a.client_id = c.id
            WHERE 1 = 1 {client_range}
        ),
        computed AS (SELECT scored.*, {rfm_segment_sql("r_score", "f_score")} AS rfm_segment FROM scored)
        -- Only the clients whose values change: on a usual night a few percent of them.
        SELECT client_id, {", ".join(COMPUTED_COLUMNS)} FROM computed
        WHERE {" OR ".join(f"old_{name} {distinct_from()} {name}" for name in COMPUTED_COLUMNS)}
    """  # noqa: S608


def apply_chunk(
    as_of: dt.date, thresholds: Thresholds, cuts: GlobalCuts | None,
    id_range: tuple[int, int] | list[int] | None = None, *, cause: str = StatusChange.Cause.RECOMPUTE,
    record_changes: bool = True, aggregate_table: str | None = None, count_statuses: bool = True,
) -> dict:
    """Recomputes the clients with id in [lo, hi) (or in a list of ids; all when None).

    `record_changes` False: no StatusChange rows (a bulk load sets statuses; it does not change them).

    `count_statuses` False: no count of the clients in scope per status (`statuses` is None). A
    write's refresh has no use for it, and for an import's 31,000 clients at a million it read
    their rows once more (1.0 s).

    `aggregate_table`: a table already holding the purchases' aggregate of every client (a
    parallel run, see recompute_lifecycle); otherwise this transaction aggregates them itself.

    `cuts` None: compute the global cut points here, from this run's own aggregate when it covers
    every client (a single run then reads the purchases' aggregate once).
    """
    params = _base_params(as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        work_mem_set(cursor, WORK_MEM)
        _scratch_drop(cursor)
        if isinstance(id_range, list):
            _ids_load(cursor, id_range)
        if aggregate_table is None:
            aggregate_table = TEMP_AGG
            _aggregate_create(cursor, as_of, thresholds, id_range)
        if cuts is None:
            cuts = global_cuts(as_of, from_temp_aggregate=id_range is None, aggregate_table=aggregate_table)
        select = _new_values_sql(
            as_of, thresholds, cuts, id_range, params, from_temp_aggregate=True, aggregate_table=aggregate_table,
        )
        cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_TABLE} AS {select}", params)
        table_analyze(cursor, TEMP_TABLE)  # small: let the joins below start from it
        status_changes = _status_changes_record(cursor, as_of, cause) if record_changes else 0
        rows_changed = _changed_clients_update(cursor, as_of, thresholds)
        leave_reasons = _leave_reasons_in_scope(cursor, id_range, moved_table=TEMP_TABLE)
        per_status = clients_per_status(cursor, id_range) if count_statuses else None
        _scratch_drop(cursor)
    return {
        "statuses": per_status, "rows_changed": rows_changed, "status_changes": status_changes,
        "leave_reasons": leave_reasons, "cuts": cuts.as_json(),
    }


def _leave_reasons_in_scope(cursor, id_range, *, moved_table: str = "") -> int:
    """The reasons for leaving of the clients in scope (segmentation/leaving.py), after their
    status; `moved_table`: the run's changed clients, the only ones whose revenue lost is read again."""
    if isinstance(id_range, list) or id_range == LOADED_IDS:
        return leave_reasons_update(cursor, ids_table=TEMP_IDS, revenue_ids_table=moved_table)
    params: dict = {}
    return leave_reasons_update(cursor, _range("c.id", id_range, params), params, revenue_ids_table=moved_table)


@dataclass(frozen=True)
class Difference:
    """A computed column whose stored value is not what a full recompute gives."""

    client_id: int
    column: str
    stored: object
    computed: object


def lifecycle_differences(as_of: dt.date, thresholds: Thresholds) -> list[Difference]:
    """What a full recompute on `as_of` would change, column by column, without changing it: the
    check of `recompute_lifecycle --verify` (whatever keeps the figures current between full runs
    must leave none). The same SELECT as a run, which already keeps only the clients that differ;
    its transaction is rolled back, so nothing is written, not even its scratch tables."""
    params = _base_params(as_of)
    names = ", ".join(f"c.{name}" for name in COMPUTED_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        work_mem_set(cursor, WORK_MEM)
        _scratch_drop(cursor)
        _aggregate_create(cursor, as_of, thresholds, None)
        cuts = global_cuts(as_of, from_temp_aggregate=True)
        select = _new_values_sql(as_of, thresholds, cuts, None, params, from_temp_aggregate=True)
        cursor.execute(
            f"SELECT n.*, {names} FROM ({select}) n JOIN {CLIENT_TABLE} c ON c.id = n.client_id ORDER BY n.client_id",  # noqa: S608
            params,
        )
        rows = cursor.fetchall()
        transaction.set_rollback(True)
    width = len(COMPUTED_COLUMNS)
    differences = []
    for row in rows:
        computed, stored = row[1 : 1 + width], row[1 + width :]
        for name, new, old in zip(COMPUTED_COLUMNS, computed, stored, strict=True):
            old, new = _normalised(name, old), _normalised(name, new)
            if old != new:
                differences.append(Difference(row[0], name, old, new))
    if not differences:  # the reasons follow the statuses: compared once those are right
        differences = [Difference(pk, column, old, new) for pk, column, old, new in leave_reason_differences()]
    return differences


MONEY_COLUMNS = {"total_spent", "spend_12m", "average_basket"}
COUNT_COLUMNS = {"purchase_count", "r_score", "f_score", "m_score"}


def _normalised(column: str, value):
    """A value as both databases give it back: money as Decimal cents, counts as int, dates as
    ISO text, codes as text (None stays None)."""
    if value is None:
        return None
    if column in MONEY_COLUMNS:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if column in COUNT_COLUMNS:
        return int(value)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _scratch_drop(cursor) -> None:
    for table in (TEMP_TABLE, TEMP_AGG, TEMP_IDS):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _ids_load(cursor, ids: list[int]) -> None:
    """The clients in scope of a run over a list of ids, as a table to join (see _range)."""
    ids_table_create(cursor, TEMP_IDS, ids)


def _aggregate_create(cursor, as_of: dt.date, thresholds: Thresholds, id_range) -> None:
    """TEMP_AGG: the purchases' aggregate of the clients in scope (see _aggregate_sql)."""
    params = _frequency_params(thresholds, _base_params(as_of))
    aggregate = _aggregate_sql(_range("p.client_id", id_range, params))
    cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_AGG} AS {aggregate}", params)


def _status_changes_record(cursor, as_of: dt.date, cause: str, table: str = TEMP_TABLE) -> int:
    """A StatusChange for every client in `table` (new values) whose status changes; returns how many."""
    cursor.execute(
        f"""INSERT INTO {CHANGE_TABLE} (client_id, from_status, to_status, date, cause, created_at)
            SELECT c.id, c.status, n.status, %(as_of)s, {_cause_sql()}, %(now)s
            FROM {CLIENT_TABLE} c JOIN {table} n ON n.client_id = c.id
            WHERE c.status <> n.status""",  # noqa: S608
        _cause_params(as_of, cause),
    )
    changes = cursor.rowcount
    if changes:  # a client that becomes or stops being lost gets or loses its recommendations
        cursor.execute(
            recommendations_mark_sql(
                f"SELECT c.id FROM {CLIENT_TABLE} c JOIN {table} n ON n.client_id = c.id "  # noqa: S608
                "WHERE c.status <> n.status AND %(lost)s IN (c.status, n.status)"
            ),
            {"lost": Status.LOST},
        )
    return changes


def _cause_sql() -> str:
    """The cause of a status change: a purchase that leaves a closed client lost records the closure."""
    return """CASE WHEN %(cause)s = %(purchase)s AND n.status = %(lost)s AND c.closed_at IS NOT NULL
                   THEN %(closure)s ELSE %(cause)s END"""


def _cause_params(as_of: dt.date, cause: str) -> dict:
    return {
        "as_of": date_value(as_of), "cause": str(cause), "purchase": StatusChange.Cause.PURCHASE,
        "closure": StatusChange.Cause.CLOSURE, "lost": Status.LOST,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }


def _changed_clients_update(cursor, as_of: dt.date, thresholds: Thresholds) -> int:
    """Writes TEMP_TABLE's values over the clients whose values differ (status_since only where
    the status changes); returns the rows written."""
    changed = " OR ".join(f"c.{name} {distinct_from()} n.{name}" for name in COMPUTED_COLUMNS)
    assignments = ", ".join(f"{name} = n.{name}" for name in COMPUTED_COLUMNS)
    _room_inputs_mark(cursor, TEMP_TABLE)
    cursor.execute(
        f"""UPDATE {CLIENT_TABLE} AS c
            SET {assignments},
                status_since = CASE WHEN c.status <> n.status THEN {_status_since_sql()} ELSE c.status_since END
            FROM {TEMP_TABLE} n
            WHERE n.client_id = c.id AND ({changed})""",  # noqa: S608
        {
            "as_of": date_value(as_of), "alta_days": thresholds.alta_window_days + 1,
            "dormido_days": thresholds.dormido_after_days + 1, "baja_days": thresholds.baja_after_days + 1,
        },
    )
    return cursor.rowcount


def _room_inputs_mark(cursor, values: str, params: dict | None = None) -> None:
    """Marks for the night's recommendations the clients whose new `values` (a table or a
    subquery with client_id) move their 12-month spend or frequency class: their room to grow."""
    moved = " OR ".join(f"c.{name} {distinct_from()} n.{name}" for name in ("spend_12m", "frequency_class"))
    cursor.execute(
        recommendations_mark_sql(
            f"SELECT c.id FROM {CLIENT_TABLE} c JOIN {values} n ON n.client_id = c.id WHERE {moved}"  # noqa: S608
        ),
        params or {},
    )


def clients_per_status(cursor, id_range=None) -> dict[str, int]:
    """The clients in scope per status, after the update. A list is joined from its ids (as
    `IN (SELECT …)` PostgreSQL read the whole status index: 2 to 14 s for an import at 1M)."""
    params: dict = {}
    if isinstance(id_range, list) or id_range == LOADED_IDS:
        source = f"{TEMP_IDS} i JOIN {CLIENT_TABLE} c ON c.id = i.id"
    else:
        source = f"{CLIENT_TABLE} c WHERE 1 = 1 {_range('c.id', id_range, params)}"
    cursor.execute(f"SELECT c.status, COUNT(*) FROM {source} GROUP BY c.status", params)  # noqa: S608
    per_status = dict(cursor.fetchall())
    return {code: per_status.get(code, 0) for code in Status.values}


def merge_results(results: list[dict]) -> dict:
    """The chunks' figures added up; their cut points are the launcher's, the same in each."""
    merged = {"statuses": {code: 0 for code in Status.values}, "rows_changed": 0, "status_changes": 0}
    if results:
        merged["cuts"] = results[0].get("cuts")
    for result in results:
        for code, count in result["statuses"].items():
            merged["statuses"][code] += count
        merged["rows_changed"] += result["rows_changed"]
        merged["status_changes"] += result["status_changes"]
    return merged


def recompute_lifecycle(
    as_of: dt.date, thresholds: Thresholds, id_range: tuple[int, int] | list[int] | None = None, *,
    record_changes: bool = True, workers: int = 1,
) -> dict:
    """Recomputes the clients with id in [lo, hi) (every client when None) on `as_of`.

    `workers` > 1 (every client, PostgreSQL, outside a transaction): the purchases' aggregate,
    the step that reads every purchase, is split over that many connections at once (see
    _parallel_aggregate); the rest runs in one transaction as usual. The result is the same.

    Returns {"statuses": {code: clients}, "rows_changed": n, "status_changes": n, "seconds": s}
    for the clients in range.
    """
    started = time.monotonic()
    if workers > 1 and id_range is None and is_postgres() and not connection.in_atomic_block:
        _scratch_tables_drop_stale()
        table = f"{WORK_AGG}_{int(time.time())}_{uuid.uuid4().hex[:12]}"
        try:
            _parallel_aggregate(as_of, thresholds, workers, table)
            result = apply_chunk(as_of, thresholds, None, record_changes=record_changes, aggregate_table=table)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    else:
        result = apply_chunk(as_of, thresholds, None, id_range, record_changes=record_changes)
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _status_since_sql() -> str:
    """segmentation.rules.status_since_for over c (the client before the run) and n (its new values)."""
    last, first = "n.last_purchase_date", "n.first_purchase_date"
    closed = f"c.closed_at IS NOT NULL AND ({last} IS NULL OR {last} <= c.closed_at)"
    since = f"""CASE n.status
        WHEN '{Status.LOST}' THEN CASE WHEN {closed} THEN c.closed_at ELSE {add_days(last, "%(baja_days)s")} END
        WHEN '{Status.DORMANT}' THEN {add_days(last, "%(dormido_days)s")}
        WHEN '{Status.NEW}' THEN {first}
        WHEN '{Status.ACTIVE}' THEN CASE WHEN c.status IN ('{Status.DORMANT}', '{Status.LOST}') THEN {last}
                                         ELSE {add_days(first, "%(alta_days)s")} END
        ELSE %(as_of)s
    END"""
    return least(since, "%(as_of)s")


def _scratch_tables_drop_stale() -> list[str]:
    """Drops the parallel aggregates left by runs killed before their `finally` (a worker's
    SIGKILL): UNLOGGED tables are not dropped with the session that made them."""
    cutoff = time.time() - WORK_AGG_STALE_SECONDS
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE %s",
            [WORK_AGG.replace("_", r"\_") + r"\_%"],
        )
        stale = []
        for (name,) in cursor.fetchall():
            parts = name.removeprefix(f"{WORK_AGG}_").split("_")
            # A name without a stamp comes from a release before the stamp: older than any run.
            if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) < cutoff:
                stale.append(name)
        for name in stale:
            cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
    if stale:
        logger.warning("Dropped %d scratch table(s) left by a killed recompute: %s", len(stale), ", ".join(stale))
    return stale


def _parallel_aggregate(as_of: dt.date, thresholds: Thresholds, workers: int, table: str) -> None:
    """Fills `table` (UNLOGGED: a scratch copy, never worth the write-ahead log) with every
    client's aggregate, the clients split into `workers` id ranges aggregated at once, each on
    its own connection (Django's connections are per thread). It only reads committed purchases,
    hence "outside a transaction" above.
    """
    params = _frequency_params(thresholds, _base_params(as_of))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE {table} AS {_aggregate_sql('')} WITH NO DATA", params)
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {CLIENT_TABLE}")  # noqa: S608
        low, high = cursor.fetchone()
    if low is None:
        return
    size = math.ceil((high - low + 1) / workers)

    def fill(id_range: tuple[int, int]) -> None:
        try:
            range_params = dict(params)
            sql = f"INSERT INTO {table} {_aggregate_sql(_range('p.client_id', id_range, range_params))}"
            with transaction.atomic(), connection.cursor() as cursor:
                work_mem_set(cursor, WORK_MEM)
                cursor.execute(sql, range_params)
        finally:
            connection.close()

    ranges = [(start, min(start + size, high + 1)) for start in range(low, high + 1, size)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fill, ranges))


def id_chunks(size: int) -> list[tuple[int, int]]:
    """Half-open id ranges of `size` ids covering every client."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {CLIENT_TABLE}")  # noqa: S608
        low, high = cursor.fetchone()
    if low is None:
        return []
    return [(start, min(start + size, high + 1)) for start in range(low, high + 1, size)]


def preview_statuses(as_of: dt.date, thresholds: Thresholds) -> dict[str, int]:
    """Clients per status that `thresholds` would give on `as_of`, without writing.

    Read from the stored first and last purchase dates (as of the last recompute or refresh)
    rather than the purchases, so that the settings page stays fast on a large portfolio.
    """
    params: dict = {}
    status_params(as_of, thresholds, params)
    status = status_sql("c.first_purchase_date", "c.last_purchase_date", "c.closed_at")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {status}, COUNT(*) FROM {CLIENT_TABLE} c GROUP BY 1", params)  # noqa: S608
        counts = dict(cursor.fetchall())
    return {code: counts.get(code, 0) for code in Status.values}


def preview_tiers(thresholds: Thresholds) -> dict[str, int]:
    """Clients per volume tier that `thresholds` would give, from the stored 12-month spend.

    The mean spend does not depend on the cut points, so this is exactly what the next run
    would give if no purchase changed meanwhile ('' counts the clients without a tier).
    """
    spend = integer_cents("spend_12m")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), SUM({spend}) FROM {CLIENT_TABLE} WHERE spend_12m > 0")  # noqa: S608
        spenders, spend_cents = cursor.fetchone()
        cuts = GlobalCuts(spenders=int(spenders or 0), spend_12m_cents=int(spend_cents or 0))
        params: dict = {}
        tier = volume_tier_sql(spend, thresholds, cuts, params)
        cursor.execute(f"SELECT {tier}, COUNT(*) FROM {CLIENT_TABLE} GROUP BY 1", params)  # noqa: S608
        counts = dict(cursor.fetchall())
    return {"": counts.get("", 0), **{code: counts.get(code, 0) for code in VolumeTier.values}}


# --- The incremental night ----------------------------------------------------------------
#
# A full run reads every purchase ever made, although on a normal day a fraction of a percent of
# the clients buy. The incremental night costs what changed instead:
#
# * A client's own figures (first and last purchase, count, total, 12-month spend, average
#   basket, frequency class) depend on its purchases and the date alone. Every write of a
#   purchase (form, import, correction, deletion, merge, a new exchange rate) refreshes them at
#   once through the one write path (`client_refresh`, `clients_refresh`). What the date alone
#   moves is the 12-month window: the night re-aggregates, from the purchases, only the clients
#   with a purchase that left the window since the last run (dates in [last - 364, as_of - 364),
#   found by the date index), plus any purchase dated after the last run (none: a purchase
#   cannot be dated in the future, but a night must never trust that).
# * Status, volume tier, R, F, M and the RFM segment then follow from the stored figures and
#   the global cut points, themselves computed from the stored figures (`global_cuts(stored=
#   True)`: the clients' table, not the purchases). Every client is evaluated from its row —
#   which catches the last purchases crossing the dormido and baja thresholds, the altas
#   leaving their window and every quintile or tier moved by new cut points, a missed night
#   included — and only the rows whose values differ are written.
# * `LifecycleState` remembers the last run's day, thresholds and cut points. A first run, new
#   thresholds (or a new ENGINE_VERSION) or a day before the last one make the night a full run.
#
# Between two nights a write also sets the client's classes from the last night's cut points
# (shifted to the day: GlobalCuts.shifted), so a first purchase shows a tier at once; the next
# night puts them on that night's cut points. `recompute_lifecycle --verify` compares everything
# with a full recompute, and the sixty-day test in segmentation/tests/test_incremental_night.py
# does so after every simulated night.

ENGINE_VERSION = "3"  # raise it when a rule changes: the next night is then a full run (3: reasons for leaving)
FIGURE_COLUMNS = [
    "first_purchase_date", "last_purchase_date", "purchase_count", "total_spent", "spend_12m", "average_basket",
    "frequency_class",
]
CLASS_COLUMNS = ["status", "volume_tier", "r_score", "f_score", "m_score", "rfm_segment"]
TEMP_CLASSES = "segmentation_lifecycle_classes"
TEMP_STORED = "segmentation_lifecycle_stored"
# What the classes are computed from (with the id): the incremental night's narrow copy.
STORED_COLUMNS = [
    "first_purchase_date", "last_purchase_date", "purchase_count", "total_spent", "spend_12m", "closed_at",
    *CLASS_COLUMNS,
]


def thresholds_key(thresholds: Thresholds) -> str:
    """What the stored figures and classes depend on besides the purchases and the date (ratios
    normalised: 2.0 as typed and 2.00 as stored are the same threshold)."""
    return ":".join(str(Decimal(value).normalize()) for value in (
        ENGINE_VERSION, thresholds.alta_window_days, thresholds.dormido_after_days, thresholds.baja_after_days,
        thresholds.tier_very_high, thresholds.tier_high, thresholds.tier_medium,
        thresholds.frequent_max_days, thresholds.habitual_max_days,
    ))


def figures_update(cursor, as_of: dt.date, thresholds: Thresholds, scope) -> int:
    """Re-aggregates the purchases of the clients in `scope` (an id range, a list or LOADED_IDS)
    into their stored figures; returns the rows written (only those that differ).

    Beyond one client the aggregate is a temporary table first, analysed, so that the planner
    joins it to the clients by their ids (nested in the UPDATE it guessed its size and took
    ten seconds for twelve thousand clients at a million)."""
    params = _frequency_params(thresholds, _base_params(as_of))
    aggregate = _aggregate_sql(_range("p.client_id", scope, params))
    if not isinstance(scope, tuple):
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP_AGG}")
        cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_AGG} AS {aggregate}", params)
        table_analyze(cursor, TEMP_AGG)
        aggregate = f"SELECT * FROM {TEMP_AGG}"  # noqa: S608
    # The clients in scope: a range from the clients themselves, a list straight from its ids.
    clients = (
        f"(SELECT cc.id AS id FROM {CLIENT_TABLE} cc WHERE 1 = 1 {_range('cc.id', scope, params)})"  # noqa: S608
        if isinstance(scope, tuple) else TEMP_IDS
    )
    figures = f"""
        SELECT cc.id AS client_id, a.first_date AS first_purchase_date, a.last_date AS last_purchase_date,
            COALESCE(a.n, 0) AS purchase_count, COALESCE(a.total_c, 0) / 100.0 AS total_spent,
            COALESCE(a.s12_c, 0) / 100.0 AS spend_12m,
            CASE WHEN a.n IS NULL THEN 0 ELSE ((2 * a.total_c + a.n) / (2 * a.n)) / 100.0 END AS average_basket,
            {_frequency_sql()} AS frequency_class
        FROM {clients} cc LEFT JOIN ({aggregate}) a ON a.client_id = cc.id
    """  # noqa: S608
    changed = " OR ".join(f"c.{name} {distinct_from()} n.{name}" for name in FIGURE_COLUMNS)
    assignments = ", ".join(f"{name} = n.{name}" for name in FIGURE_COLUMNS)
    if not isinstance(scope, tuple):  # one client's write marks it in clients_refresh
        _room_inputs_mark(cursor, f"({figures})", params)
    cursor.execute(
        f"UPDATE {CLIENT_TABLE} AS c SET {assignments} FROM ({figures}) n WHERE n.client_id = c.id AND ({changed})",  # noqa: S608
        params,
    )
    return cursor.rowcount


def _classes_sql(
    as_of: dt.date, thresholds: Thresholds, cuts: GlobalCuts | None, scope, params: dict, source: str = CLIENT_TABLE,
) -> str:
    """Status and classes of the clients in scope from their stored figures, only the rows whose
    values differ (with their purchase dates, which status_since needs). `cuts` None: the
    status alone, the tier and scores kept as they are (no run has given cut points yet)."""
    status_params(as_of, thresholds, params)
    buyer = "c.purchase_count > 0"
    if cuts is None:
        classes = "c.volume_tier AS volume_tier, c.r_score AS r_score, c.f_score AS f_score, c.m_score AS m_score"
        rfm = "old_rfm_segment"
    else:
        tier = volume_tier_sql(integer_cents("c.spend_12m"), thresholds, cuts, params)
        recency = days_between("c.last_purchase_date", date_param("as_of"))
        r_score = _score_sql(recency, cuts.r_bounds, "r", params, "c.id")
        f_score = _score_sql("c.purchase_count", cuts.f_bounds, "f", params, "c.id")
        m_score = _score_sql(integer_cents("c.total_spent"), cuts.m_bounds, "m", params, "c.id")
        classes = f"""{tier} AS volume_tier, CASE WHEN {buyer} THEN {r_score} END AS r_score,
            CASE WHEN {buyer} THEN {f_score} END AS f_score, CASE WHEN {buyer} THEN {m_score} END AS m_score"""
        rfm = rfm_segment_sql("r_score", "f_score")
    scored = f"""
        SELECT c.id AS client_id, c.first_purchase_date AS first_purchase_date,
            c.last_purchase_date AS last_purchase_date,
            {", ".join(f"c.{name} AS old_{name}" for name in CLASS_COLUMNS)},
            {status_sql("c.first_purchase_date", "c.last_purchase_date", "c.closed_at")} AS status, {classes}
        FROM {source} c WHERE 1 = 1 {_range("c.id", scope, params)}
    """  # noqa: S608
    return f"""
        SELECT client_id, first_purchase_date, last_purchase_date, {", ".join(CLASS_COLUMNS)}
        FROM (SELECT scored.*, {rfm} AS rfm_segment FROM ({scored}) scored) computed
        WHERE {" OR ".join(f"old_{name} {distinct_from()} {name}" for name in CLASS_COLUMNS)}
    """  # noqa: S608


def classes_update(
    cursor, as_of: dt.date, thresholds: Thresholds, cuts: GlobalCuts | None, scope, *,
    cause: str = StatusChange.Cause.RECOMPUTE, record_changes: bool = True, source: str = CLIENT_TABLE,
    source_params: dict | None = None,
) -> tuple[int, int]:
    """Writes the status and classes that the stored figures give to the clients in scope
    (everyone when None), a StatusChange for each status that changes; returns (rows written,
    status changes). A purchase that makes a closed client lost records the closure as cause.
    `source`: where the stored values are read (the clients, or a copy of their columns), with
    the parameters of its SQL."""
    params = {**(source_params or {}), "as_of": date_value(as_of)}
    select = _classes_sql(as_of, thresholds, cuts, scope, params, source)
    cursor.execute(f"DROP TABLE IF EXISTS {TEMP_CLASSES}")
    cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_CLASSES} AS {select}", params)
    status_changes = _status_changes_record(cursor, as_of, cause, TEMP_CLASSES) if record_changes else 0
    assignments = ", ".join(f"{name} = n.{name}" for name in CLASS_COLUMNS)
    cursor.execute(
        f"""UPDATE {CLIENT_TABLE} AS c
            SET {assignments},
                status_since = CASE WHEN c.status <> n.status THEN {_status_since_sql()} ELSE c.status_since END
            FROM {TEMP_CLASSES} n WHERE n.client_id = c.id""",  # noqa: S608
        {
            "as_of": date_value(as_of), "alta_days": thresholds.alta_window_days + 1,
            "dormido_days": thresholds.dormido_after_days + 1, "baja_days": thresholds.baja_after_days + 1,
        },
    )
    rows = cursor.rowcount
    # A status that changes may bring or clear a reason for leaving (segmentation/leaving.py).
    leave_reasons_update(cursor, ids_table=TEMP_CLASSES, id_column="client_id")
    cursor.execute(f"DROP TABLE IF EXISTS {TEMP_CLASSES}")
    return rows, status_changes


def _window_leavers_load(cursor, since: dt.date, as_of: dt.date) -> int:
    """TEMP_IDS: the clients with a purchase that left the 12-month window after `since` and on or
    before `as_of`, or dated after `since` (the date index, not every purchase)."""
    window = dt.timedelta(days=TWELVE_MONTHS_DAYS - 1)
    cursor.execute(
        f"""CREATE TEMPORARY TABLE {TEMP_IDS} AS
            SELECT DISTINCT client_id AS id FROM {PURCHASE_TABLE}
            WHERE (date >= %(left_from)s AND date < %(left_before)s) OR (date > %(since)s AND date <= %(as_of)s)""",  # noqa: S608
        {
            "left_from": date_value(since - window), "left_before": date_value(as_of - window),
            "since": date_value(since), "as_of": date_value(as_of),
        },
    )
    return cursor.rowcount


def _moved_sql(as_of: dt.date, thresholds: Thresholds, cuts: GlobalCuts, previous: GlobalCuts | None, params: dict) -> str:
    """A cheap condition over TEMP_STORED (alias c) that holds for every client whose classes can
    differ from the stored ones: its status or tier (a few comparisons each) differs, it is a
    buyer without scores or scores without purchases, or — the costly scores computed only for
    them — its (value, id) lies between a quintile boundary of the last run (`previous`, already
    moved to `as_of`) and the same boundary tonight. A score counts the boundaries a client is
    above, so it can only change for a client a boundary crossed. None of it when the number of
    boundaries changed (or no previous run): every row is evaluated."""
    if previous is None or any(
        len(getattr(previous, name)) != len(getattr(cuts, name)) for name in ("r_bounds", "f_bounds", "m_bounds")
    ):
        return "1 = 1"
    status_params(as_of, thresholds, params)
    status = status_sql("c.first_purchase_date", "c.last_purchase_date", "c.closed_at")
    tier = volume_tier_sql(integer_cents("c.spend_12m"), thresholds, cuts, params)
    terms = [f"{status} <> c.status", f"{tier} <> c.volume_tier", "(c.purchase_count > 0) <> (c.r_score IS NOT NULL)"]
    recency = days_between("c.last_purchase_date", date_param("as_of"))
    measures = (("r", recency, "r_bounds"), ("f", "c.purchase_count", "f_bounds"), ("m", integer_cents("c.total_spent"), "m_bounds"))
    for name, value, bounds in measures:
        for index, (old, new) in enumerate(zip(getattr(previous, bounds), getattr(cuts, bounds), strict=True)):
            if tuple(old) == tuple(new):
                continue
            low, high = sorted([tuple(old), tuple(new)])
            key = f"moved_{name}{index}"
            params.update({f"{key}_lv": low[0], f"{key}_li": low[1], f"{key}_hv": high[0], f"{key}_hi": high[1]})
            terms.append(
                f"(c.purchase_count > 0 AND ({value}, c.id) > (%({key}_lv)s, %({key}_li)s)"
                f" AND ({value}, c.id) <= (%({key}_hv)s, %({key}_hi)s))"
            )
    return " OR ".join(f"({term})" for term in terms)


def night_recompute(
    as_of: dt.date, thresholds: Thresholds, *, since: dt.date, previous: GlobalCuts | None = None,
) -> dict:
    """The incremental night on `as_of` after a run on `since` whose cut points were `previous`
    (see the section's comment): the same stored values as a full run, in time proportional to
    the day's changes."""
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        work_mem_set(cursor, WORK_MEM)
        _scratch_drop(cursor)
        leavers = _window_leavers_load(cursor, since, as_of)
        table_analyze(cursor, TEMP_IDS)
        figures = figures_update(cursor, as_of, thresholds, LOADED_IDS) if leavers else 0
        # One pass over the clients' table (a gigabyte at a million clients) into a narrow copy
        # of what the cut points and the classes read, instead of one pass for each.
        stored = ", ".join(["id", *STORED_COLUMNS])
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP_STORED}")
        cursor.execute(f"CREATE TEMPORARY TABLE {TEMP_STORED} AS SELECT {stored} FROM {CLIENT_TABLE}")  # noqa: S608
        cuts = global_cuts(as_of, stored=True, stored_source=TEMP_STORED)
        params: dict = {"as_of": date_value(as_of)}
        if previous is not None:
            previous = previous.shifted((as_of - since).days)
        moved = _moved_sql(as_of, thresholds, cuts, previous, params)
        rows, status_changes = classes_update(
            cursor, as_of, thresholds, cuts, None, source=f"(SELECT * FROM {TEMP_STORED} c WHERE {moved})",  # noqa: S608
            source_params=params,
        )
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP_STORED}")
        _scratch_drop(cursor)
    return {
        "rows_changed": figures + rows, "status_changes": status_changes,
        "window_clients": leavers, "cuts": cuts.as_json(), "mode": "incremental",
        "seconds": round(time.monotonic() - started, 3),
    }


def clients_refresh(
    as_of: dt.date, thresholds: Thresholds, scope, cuts: GlobalCuts | None, *,
    cause: str = StatusChange.Cause.PURCHASE,
) -> dict:
    """A write's refresh of the clients in scope: their figures from their purchases, then status
    and classes on `cuts` (the last night's, shifted to the day).

    One client (an id range): two small UPDATEs, the status alone when `cuts` is None (before any
    run). A list (an import, a new exchange rate): apply_chunk, which writes each row once — at
    a hundred thousand clients a second UPDATE would double the index upkeep — on `cuts`, or
    before any run on cut points from the stored figures (the night then puts them right)."""
    with connection.cursor() as cursor:
        recommendations_mark(cursor, scope)  # the night recomputes their recommendations
    if isinstance(scope, list):
        if cuts is None:
            cuts = global_cuts(as_of, stored=True)
        result = apply_chunk(as_of, thresholds, cuts, scope, cause=cause, count_statuses=False)
        return {"rows_changed": result["rows_changed"], "status_changes": result["status_changes"]}
    with transaction.atomic(), connection.cursor() as cursor:
        figures = figures_update(cursor, as_of, thresholds, scope)
        rows, status_changes = classes_update(cursor, as_of, thresholds, cuts, scope, cause=cause)
        _leave_reasons_in_scope(cursor, scope)  # its close reason may have changed, not its status
    return {"rows_changed": figures + rows, "status_changes": status_changes}
