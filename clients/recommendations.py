"""Nightly recommendations for every client, set-based: DOMAIN.md "Recommendations".

On an evaluation date `as_of`, `recommendations_recompute` gives every client these rows:

* **Cross-sell** (products often bought together). The purchases that count are those dated in
  the WINDOW_DAYS (730) days ending on `as_of` (date > as_of - 730 days, date <= as_of). A
  client's *basket* is the set of distinct products on the lines of those purchases, capped to
  the BASKET_CAP (20) products with the most lines in the window (ties: lower product id), so
  that a client with k products yields at most 20 × 19 ordered pairs instead of k²: the pair
  count stays linear in the number of clients whatever a few huge buyers do. Over every
  client's basket (lost clients included: what they bought together is still evidence):
  clients(A) = baskets holding A, support(A, B) = baskets holding both, confidence(A → B) =
  support(A, B) / clients(A). A rule A → B counts when support >= MIN_SUPPORT (3), confidence
  >= MIN_CONFIDENCE (0.1) and B is an active product. Each client that is not lost and has a
  basket gets up to TOP_PRODUCTS (3) products B it has never bought (no line on or before
  `as_of`, in or out of the window) from the rules whose A is in its basket, ranked by their
  best (confidence, support) over those A — compared as a pair, confidence first — then by
  product id. score = that confidence rounded half up to 4 decimals; rank 1, 2, 3.
* **Room to grow** (spends far below clients like them). Peers: the clients with the same
  sector (a blank sector is a group of its own) and the same frequency class, with
  spend_12m > 0, lost or not. In a group of at least MIN_PEERS (5), typical = the median
  spend_12m (for an even count the mean of the two middle values rounded half up to cents). A
  client that is not lost, with 0 < spend_12m < ROOM_RATIO (0.5) × typical (strictly: exactly
  half is not recommended), gets one row: value = typical, score = 1 - spend_12m / typical
  rounded half up to 4 decimals, rank 1.

Each night costs what the day changed (issue 16). The rules and the peer medians are the week's
evidence: rebuilt from every client (RecommendationRule, RecommendationPeers) on the first run,
once RULES_DAYS old, after a product is switched on or off, for a day before the last run's, or
when asked (`full`). Between rebuilds a night recomputes the cross-sell picks only of the
clients whose inputs moved, on the stored rules:

* marked ones (RecommendationStale): every write of a client's purchases or data marks it
  through the engine's refresh (clients_refresh: forms, corrections, deletions, edits, imports,
  merges); the engine marks a client that becomes or stops being lost and one whose 12-month
  spend or frequency class the night moves; an import marks the clients whose empty fields it
  completed;
* those with a purchase that left the window since the last run, or entered it (dated after
  the last run's day, recorded before), found through the purchases' date index.

Their room-to-grow rows are evaluated on the stored medians and written only where they differ.
Clients in the trash (merged ones too) get no recommendation and are nobody's peer: moving a
client to the trash or back marks it.
A rebuild evaluates every client, so a path that forgot to mark would heal within a week.
`everyone=True` recomputes every client on the stored rules and medians:
segmentation/tests/test_incremental_recommendations.py checks after each of 45 simulated nights
that it leaves the rows the incremental nights left.

How: temporary tables built by CREATE … AS SELECT — every (client, product) bought on or before
`as_of` with its lines in the window, the capped baskets (ROW_NUMBER), the rules (a self-join of
the baskets grouped by product pair) and the peer medians — then, in the same transaction, one
DELETE and one INSERT … SELECT per kind. No loop over clients in Python.

Each rule carries rule_key, its DENSE_RANK over (confidence, support, B) across all rules, so a
client's best rule for B is simply MIN(rule_key) grouped by (client, B), and its picks are its
smallest keys: one integer to aggregate and sort, no per-candidate table. Products already bought
are removed after that grouping by an anti-join (hashed on PostgreSQL; SQLite probes an index).

The candidates are pruned exactly: a rule A → B is joined to a client only when B is among
A's first 2 + m rules in (confidence, support, id) order, m being how many products the client
ever bought. If B was the client's pick through A, every rule ranked above it in A's list
ranks above it for the client too unless that product is already bought: at most 2 of them are
not bought and at most m - 1 are (A itself is bought but never in its own list), so B cannot be
further down than 2 + m. Without this, a catalogue of P products gives ~k × P candidates per
client.

Exactness, so that SQLite and PostgreSQL give identical rows: money in integer cents, ratios
compared as integers (support × den >= num × clients) or as IEEE doubles of two integers
(correctly rounded on both backends, so equal fractions compare equal and different ones
differ), the median kept doubled as an integer (percentile_cont on PostgreSQL, ROW_NUMBER
against COUNT on SQLite), scores rounded in integer arithmetic, dates computed in Python.
"""

import datetime as dt
import hashlib
from fractions import Fraction

from django.db import connection, transaction

from clients.models import (
    Client,
    Product,
    Purchase,
    PurchaseLine,
    Recommendation,
    RecommendationPeers,
    RecommendationRule,
    RecommendationStale,
    RecommendationState,
    Status,
)
from core.sql import date_param, date_value, in_list, integer_cents, is_postgres, table_analyze, work_mem_set

WINDOW_DAYS = 730
BASKET_CAP = 20  # products per client paired (the most bought in the window); see the docstring
MIN_SUPPORT = 3
MIN_CONFIDENCE = Fraction(1, 10)
TOP_PRODUCTS = 3
MIN_PEERS = 5
ROOM_RATIO = Fraction(1, 2)
SCORE_UNITS = 10_000  # Recommendation.score has 4 decimals
WORK_MEM = "256MB"  # per sort, for this transaction only (PostgreSQL)

CLIENT_TABLE = Client._meta.db_table
PRODUCT_TABLE = Product._meta.db_table
PURCHASE_TABLE = Purchase._meta.db_table
LINE_TABLE = PurchaseLine._meta.db_table
RECOMMENDATION_TABLE = Recommendation._meta.db_table

RULE_TABLE = RecommendationRule._meta.db_table
PEERS_TABLE = RecommendationPeers._meta.db_table
STALE_TABLE = RecommendationStale._meta.db_table

BOUGHT = "clients_rec_bought"  # (client, product) ever bought on or before as_of, lines in the window
BASKET = "clients_rec_basket"  # the capped baskets of the window
TAKEN = "clients_rec_taken"  # the marks this run handles (a mark written meanwhile waits for the next)
CANDIDATES = "clients_rec_candidates"  # the clients recomputed by an incremental run
ROOM = "clients_rec_room"  # every room-to-grow row of the day, compared with the stored ones
TEMP_TABLES = (BOUGHT, BASKET, TAKEN, CANDIDATES, ROOM)

RULES_DAYS = 7  # the rules and the peers' medians are rebuilt at least once a week
VERSION = "2"  # of this module's rules: a new one rebuilds on the next run


def _doubled_median_sql() -> str:
    """Per peer group: the number of peers and twice the median spend in cents (an integer)."""
    cents = integer_cents("c.spend_12m")
    if is_postgres():
        # For integers below 2^52, percentile_cont's a + 0.5 (b - a) is exact: twice it is an integer.
        return f"""
            SELECT c.sector, c.frequency_class, COUNT(*) AS peers,
                   CAST(2 * percentile_cont(0.5) WITHIN GROUP (ORDER BY {cents}) AS BIGINT) AS median2
            FROM {CLIENT_TABLE} c WHERE c.spend_12m > 0 AND c.deleted_at IS NULL
            GROUP BY c.sector, c.frequency_class HAVING COUNT(*) >= %(min_peers)s
        """  # noqa: S608 - table names are constants, values are parameters
    return f"""
        SELECT sector, frequency_class, MAX(n) AS peers, SUM(cents) * 2 / COUNT(*) AS median2
        FROM (
            SELECT c.sector, c.frequency_class, {cents} AS cents,
                   ROW_NUMBER() OVER (PARTITION BY c.sector, c.frequency_class ORDER BY {cents}) AS rn,
                   COUNT(*) OVER (PARTITION BY c.sector, c.frequency_class) AS n
            FROM {CLIENT_TABLE} c WHERE c.spend_12m > 0 AND c.deleted_at IS NULL
        ) ranked
        WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
        GROUP BY sector, frequency_class HAVING MAX(n) >= %(min_peers)s
    """  # noqa: S608


def _bought_create(cursor, params: dict, *, candidates: bool) -> None:
    """BOUGHT: every (client, product) bought on or before as_of with its lines in the window, of
    every client or only of the CANDIDATES (read through the purchases' client index)."""
    lines = "SUM(CASE WHEN p.date >= %(window_start)s THEN 1 ELSE 0 END) AS lines"
    if candidates and is_postgres():
        # Each candidate's purchases, then each purchase's lines, through their indexes (OFFSET 0
        # keeps the planner from flattening the lateral subqueries). Left to itself it read all
        # 10.7 million purchases and 4.3 million lines at a million clients, because it counts
        # 90,000 distinct clients in its sample of the purchases: 15,000 candidates took 8 s.
        source = f"""{CANDIDATES} k
            CROSS JOIN LATERAL (SELECT p.id, p.client_id, p.date FROM {PURCHASE_TABLE} p
                                WHERE p.client_id = k.id AND p.date <= %(as_of)s OFFSET 0) p
            CROSS JOIN LATERAL (SELECT l.product_id FROM {LINE_TABLE} l WHERE l.purchase_id = p.id OFFSET 0) l"""  # noqa: S608
    else:
        only = f"AND p.client_id IN (SELECT id FROM {CANDIDATES})" if candidates else ""  # noqa: S608
        source = f"{LINE_TABLE} l JOIN {PURCHASE_TABLE} p ON p.id = l.purchase_id WHERE p.date <= %(as_of)s {only}"  # noqa: S608
    cursor.execute(
        f"CREATE TEMPORARY TABLE {BOUGHT} AS SELECT p.client_id, l.product_id, {lines} FROM {source}"  # noqa: S608
        " GROUP BY p.client_id, l.product_id",
        params,
    )
    if not is_postgres():  # PostgreSQL hashes the anti-join instead of probing an index
        cursor.execute(f"CREATE INDEX {BOUGHT}_idx ON {BOUGHT} (client_id, product_id)")
    # Rows with lines in the window sort first, so rn counts only them up to the cap.
    cursor.execute(
        f"""CREATE TEMPORARY TABLE {BASKET} AS
            SELECT client_id, product_id, bought FROM (
                SELECT client_id, product_id, lines,
                       COUNT(*) OVER (PARTITION BY client_id) AS bought,
                       ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY lines DESC, product_id) AS rn
                FROM {BOUGHT}
            ) ranked
            WHERE lines > 0 AND rn <= %(cap)s""",  # noqa: S608
        params,
    )


def _rules_rebuild(cursor, params: dict) -> None:
    """The rules and the peer groups from every client's basket and figures, stored until the next rebuild."""
    cursor.execute(f"DELETE FROM {RULE_TABLE}")  # noqa: S608
    # Within one A, clients(A) is fixed: confidence order is support order.
    cursor.execute(
        f"""INSERT INTO {RULE_TABLE} (a, b, support, holders, confidence, rn, rule_key)
            WITH holders AS (SELECT product_id, COUNT(*) AS n FROM {BASKET} GROUP BY product_id),
            pairs AS (
                SELECT a.product_id AS a, b.product_id AS b, COUNT(*) AS support
                FROM {BASKET} a JOIN {BASKET} b ON b.client_id = a.client_id AND b.product_id <> a.product_id
                GROUP BY a.product_id, b.product_id
                HAVING COUNT(*) >= %(min_support)s
            )
            SELECT pairs.a, pairs.b, pairs.support, h.n AS holders,
                   CAST(pairs.support AS DOUBLE PRECISION) / h.n AS confidence,
                   ROW_NUMBER() OVER (PARTITION BY pairs.a ORDER BY pairs.support DESC, pairs.b) AS rn,
                   DENSE_RANK() OVER (
                       ORDER BY CAST(pairs.support AS DOUBLE PRECISION) / h.n DESC, pairs.support DESC, pairs.b
                   ) AS rule_key
            FROM pairs
            JOIN holders h ON h.product_id = pairs.a
            JOIN {PRODUCT_TABLE} pr ON pr.id = pairs.b
            WHERE pr.is_active AND pairs.support * %(conf_den)s >= %(conf_num)s * h.n""",  # noqa: S608
        params,
    )
    cursor.execute(f"DELETE FROM {PEERS_TABLE}")  # noqa: S608
    cursor.execute(
        f"INSERT INTO {PEERS_TABLE} (sector, frequency_class, peers, median2) {_doubled_median_sql()}", params,
    )
    table_analyze(cursor, RULE_TABLE)
    table_analyze(cursor, PEERS_TABLE)


def _candidates_create(cursor, params: dict) -> None:
    """CANDIDATES: the clients whose recommendations can have moved since the last run, on the
    same rules: those marked (TAKEN: a write of their purchases, or the engine when they became
    or stopped being lost), and those with a purchase that left the window or entered it (dated
    after the last run, recorded before): only a purchase with lines changes a basket."""
    cursor.execute(
        f"""CREATE TEMPORARY TABLE {CANDIDATES} AS
            SELECT client_id AS id FROM {TAKEN}
            UNION
            SELECT p.client_id FROM {PURCHASE_TABLE} p
            WHERE ((p.date >= %(last_window_start)s AND p.date < %(window_start)s)
                   OR (p.date > %(last_as_of)s AND p.date <= %(as_of)s))
              AND EXISTS (SELECT 1 FROM {LINE_TABLE} l WHERE l.purchase_id = p.id)
""",  # noqa: S608
        params,
    )


def _insert_cross_sell(cursor, params: dict) -> int:
    # best: per (client, B) the best rule over the client's basket, as the smallest rule_key.
    # rule_key ranks (confidence, support, B), so it also orders the client's picks.
    score = f"((2 * {SCORE_UNITS} * s.support + s.holders) / (2 * s.holders)) / {SCORE_UNITS}.0"
    cursor.execute(
        f"""INSERT INTO {RECOMMENDATION_TABLE} (client_id, kind, product_id, score, value, rank, computed_on)
            SELECT ranked.client_id, %(cross_sell)s, s.b, {score}, NULL, ranked.rank, {date_param("as_of")}
            FROM (
                SELECT best.client_id, best.rule_key,
                       ROW_NUMBER() OVER (PARTITION BY best.client_id ORDER BY best.rule_key) AS rank
                FROM (
                    SELECT k.client_id, r.b, MIN(r.rule_key) AS rule_key
                    FROM {BASKET} k
                    JOIN {RULE_TABLE} r ON r.a = k.product_id AND r.rn < %(top)s + k.bought
                    JOIN {CLIENT_TABLE} c ON c.id = k.client_id
                    WHERE c.status <> %(lost)s AND c.deleted_at IS NULL
                    GROUP BY k.client_id, r.b
                ) best
                WHERE NOT EXISTS (
                    SELECT 1 FROM {BOUGHT} x WHERE x.client_id = best.client_id AND x.product_id = best.b
                )
            ) ranked
            JOIN (
                SELECT rule_key, MIN(b) AS b, MIN(support) AS support, MIN(holders) AS holders
                FROM {RULE_TABLE} GROUP BY rule_key
            ) s ON s.rule_key = ranked.rule_key
            WHERE ranked.rank <= %(top)s""",  # noqa: S608
        params,
    )
    return cursor.rowcount


def _room_to_grow_refresh(cursor, params: dict, *, candidates: bool) -> int:
    """The room-to-grow rows of every client (or of the CANDIDATES) on the stored peer medians,
    written only where they differ from the stored ones: returns the rows written."""
    only = f"AND c.id IN (SELECT id FROM {CANDIDATES})" if candidates else ""  # noqa: S608
    cents = integer_cents("c.spend_12m")
    typical = "((g.median2 + 1) / 2)"  # half up to cents
    cursor.execute(
        f"""CREATE TEMPORARY TABLE {ROOM} AS
            SELECT c.id AS client_id, {typical} AS value_cents,
                   (2 * {SCORE_UNITS} * ({typical} - {cents}) + {typical}) / (2 * {typical}) AS score_units
            FROM {CLIENT_TABLE} c
            JOIN {PEERS_TABLE} g ON g.sector = c.sector AND g.frequency_class = c.frequency_class
            WHERE c.spend_12m > 0 AND c.status <> %(lost)s AND c.deleted_at IS NULL {only}
              AND {cents} * %(ratio_den)s < %(ratio_num)s * {typical}""",  # noqa: S608
        params,
    )
    if not is_postgres():
        cursor.execute(f"CREATE INDEX {ROOM}_idx ON {ROOM} (client_id)")
    table_analyze(cursor, ROOM)
    only = f"AND client_id IN (SELECT id FROM {CANDIDATES})" if candidates else ""  # noqa: S608
    cursor.execute(
        f"""DELETE FROM {RECOMMENDATION_TABLE}
            WHERE kind = %(room_to_grow)s {only} AND NOT EXISTS (
                SELECT 1 FROM {ROOM} n WHERE n.client_id = {RECOMMENDATION_TABLE}.client_id
                  AND n.score_units = CAST(ROUND({RECOMMENDATION_TABLE}.score * {SCORE_UNITS}) AS BIGINT)
                  AND n.value_cents = CAST(ROUND({RECOMMENDATION_TABLE}.value * 100) AS BIGINT)
            )""",  # noqa: S608
        params,
    )
    cursor.execute(
        f"""INSERT INTO {RECOMMENDATION_TABLE} (client_id, kind, product_id, score, value, rank, computed_on)
            SELECT n.client_id, %(room_to_grow)s, NULL, n.score_units / {SCORE_UNITS}.0, n.value_cents / 100.0, 1,
                   {date_param("as_of")}
            FROM {ROOM} n
            WHERE NOT EXISTS (
                SELECT 1 FROM {RECOMMENDATION_TABLE} r WHERE r.client_id = n.client_id AND r.kind = %(room_to_grow)s
            )""",  # noqa: S608
        params,
    )
    return cursor.rowcount


def _marks_take(cursor) -> None:
    """TAKEN: the marks this run handles, removed from the marks first. A write that commits
    meanwhile marks its client anew for the next run: on PostgreSQL its INSERT … ON CONFLICT waits
    for this run's DELETE to commit, so a client already marked is not left unmarked (a copy
    deleted at the end would remove the mark of a purchase this run never read). SQLite runs one
    writer at a time."""
    cursor.execute(f"CREATE TEMPORARY TABLE {TAKEN} (client_id BIGINT PRIMARY KEY)")
    if is_postgres():
        cursor.execute(
            f"WITH taken AS (DELETE FROM {STALE_TABLE} RETURNING client_id) "  # noqa: S608
            f"INSERT INTO {TAKEN} (client_id) SELECT client_id FROM taken"
        )
        return
    cursor.execute(f"INSERT INTO {TAKEN} (client_id) SELECT client_id FROM {STALE_TABLE}")  # noqa: S608
    cursor.execute(f"DELETE FROM {STALE_TABLE}")  # noqa: S608


def _products_key() -> str:
    """The inactive products, as a short key: switching one on or off changes the rules."""
    inactive = Product.objects.filter(is_active=False).order_by("pk").values_list("pk", flat=True)
    return hashlib.sha256(",".join(map(str, inactive)).encode()).hexdigest()[:16]


def recommendations_mark(cursor, scope) -> None:
    """Marks clients whose purchases were written (`scope`: an id range [lo, hi) or a list of ids)
    for the next night: it recomputes their recommendations on the week's rules."""
    if not scope:
        return
    chunks = [("id >= %s AND id < %s", list(scope))] if isinstance(scope, tuple) else in_list("id", sorted(set(scope)))
    for where, params in chunks:
        cursor.execute(
            f"INSERT INTO {STALE_TABLE} (client_id) SELECT id FROM {CLIENT_TABLE} WHERE {where} "  # noqa: S608
            "ON CONFLICT (client_id) DO NOTHING",
            params,
        )


def recommendations_mark_sql(select_sql: str) -> str:
    """An INSERT marking the clients `select_sql` returns (one column of ids, with a WHERE clause),
    for a set-based writer (the engine marks the clients that become or stop being lost)."""
    return f"INSERT INTO {STALE_TABLE} (client_id) {select_sql} ON CONFLICT (client_id) DO NOTHING"


def _params(as_of: dt.date, last_as_of: dt.date | None) -> dict:
    last = last_as_of or as_of
    return {
        "as_of": date_value(as_of),
        "window_start": date_value(as_of - dt.timedelta(days=WINDOW_DAYS - 1)),
        "last_as_of": date_value(last),
        "last_window_start": date_value(last - dt.timedelta(days=WINDOW_DAYS - 1)),
        "cap": BASKET_CAP,
        "min_support": MIN_SUPPORT,
        "conf_num": MIN_CONFIDENCE.numerator,
        "conf_den": MIN_CONFIDENCE.denominator,
        "top": TOP_PRODUCTS,
        "min_peers": MIN_PEERS,
        "ratio_num": ROOM_RATIO.numerator,
        "ratio_den": ROOM_RATIO.denominator,
        "lost": Status.LOST.value,
        "cross_sell": Recommendation.Kind.CROSS_SELL.value,
        "room_to_grow": Recommendation.Kind.ROOM_TO_GROW.value,
    }


def recommendations_recompute(*, as_of: dt.date, full: bool = False, everyone: bool = False) -> dict:
    """The recommendations of `as_of`, in one transaction (see the module's rule).

    The rules and the peer medians are rebuilt from every client when `full`, on the first run,
    when the last rebuild is RULES_DAYS old, after a product was switched on or off, or for a day
    before the last run's. Otherwise the night recomputes the cross-sell picks of the clients
    whose purchases or lost status moved since the last run (every client when `everyone`: the
    check that the incremental runs left what a recompute on the same rules gives) and rewrites
    the room-to-grow rows that differ.

    Returns {"cross_sell": rows, "room_to_grow": rows, "rebuilt": bool, "clients": recomputed
    (None: every client)}.
    """
    state = RecommendationState.objects.filter(pk=1).first()
    products_key = _products_key()
    rebuild = (
        full or state is None or state.as_of is None or state.rules_as_of is None or as_of < state.as_of
        or (as_of - state.rules_as_of).days >= RULES_DAYS or state.products_key != products_key
        or state.version != VERSION
    )
    params = _params(as_of, None if rebuild else state.as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        work_mem_set(cursor, WORK_MEM)
        for table in TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        _marks_take(cursor)
        incremental = not (rebuild or everyone)
        if incremental:
            _candidates_create(cursor, params)
            table_analyze(cursor, CANDIDATES)
        _bought_create(cursor, params, candidates=incremental)
        table_analyze(cursor, BOUGHT)
        table_analyze(cursor, BASKET)
        if rebuild:
            _rules_rebuild(cursor, params)
        if incremental:
            cursor.execute(
                f"DELETE FROM {RECOMMENDATION_TABLE} WHERE kind = %(cross_sell)s "  # noqa: S608
                f"AND client_id IN (SELECT id FROM {CANDIDATES})",
                params,
            )
            cursor.execute(f"SELECT COUNT(*) FROM {CANDIDATES}")  # noqa: S608
            recomputed = cursor.fetchone()[0]
        else:
            cursor.execute(f"DELETE FROM {RECOMMENDATION_TABLE} WHERE kind = %(cross_sell)s", params)  # noqa: S608
            recomputed = None
        counts = {
            Recommendation.Kind.CROSS_SELL.value: _insert_cross_sell(cursor, params),
            Recommendation.Kind.ROOM_TO_GROW.value: _room_to_grow_refresh(cursor, params, candidates=incremental),
        }
        for table in TEMP_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        RecommendationState.objects.update_or_create(pk=1, defaults={
            "as_of": as_of, "rules_as_of": as_of if rebuild else state.rules_as_of,
            "products_key": products_key, "version": VERSION,
        })
    return {**counts, "rebuilt": rebuild, "clients": recomputed}
