import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.engine import (
    RFM_SEGMENTS,
    apply_chunk,
    global_cuts,
    id_chunks,
    merge_results,
    recompute_lifecycle,
    rfm_segment_sql,
)
from segmentation.models import StatusChange
from segmentation.rules import Thresholds
from segmentation.tests.reference import expected_values, stored_values

AS_OF = dt.date(2026, 6, 30)
DEFAULTS = Thresholds()


def buyer(owner, *days_ago: int, amount: str = "100.00", **fields) -> Client:
    """A client with one purchase `days_ago` days before AS_OF for each number given."""
    client = ClientFactory(owner=owner, **fields)
    for days in days_ago:
        PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=days), amount=Decimal(amount))
    return client


def recompute(thresholds: Thresholds = DEFAULTS, as_of: dt.date = AS_OF) -> dict:
    return recompute_lifecycle(as_of, thresholds)


@pytest.mark.parametrize(
    "days_ago, closed_days_ago, expected",
    [
        ((), None, "prospect"),
        ((0,), None, "new"),
        ((30,), None, "new"),  # as_of - first == alta_window_days: still new
        ((31,), None, "active"),
        ((400, 5), None, "active"),  # first purchase long ago, bought again lately
        ((90,), None, "active"),  # exactly dormido_after_days: not yet dormant
        ((91,), None, "dormant"),
        ((365,), None, "dormant"),  # exactly baja_after_days: not yet lost
        ((366,), None, "lost"),
        ((-1,), None, "prospect"),  # a purchase after as_of does not count
        ((40, -5), None, "active"),
        ((), 10, "lost"),  # closed without ever buying
        ((20,), 10, "lost"),  # closed after the last purchase
        ((20,), 20, "lost"),  # closed on the day of the last purchase
        ((5,), 10, "new"),  # bought again after the closure
        ((-3,), 10, "lost"),  # the purchase after the closure is after as_of too
    ],
)
def test_status_follows_the_domain_rule_at_its_boundaries(owner, days_ago, closed_days_ago, expected):
    closed_at = AS_OF - dt.timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    client = buyer(owner, *days_ago, closed_at=closed_at)

    recompute()

    client.refresh_from_db()
    assert client.status == expected


def test_custom_thresholds_move_the_boundaries(owner):
    dormant = buyer(owner, 11)
    lost = buyer(owner, 21)
    fresh = buyer(owner, 3)

    recompute(Thresholds(alta_window_days=2, dormido_after_days=10, baja_after_days=20))

    assert [Client.objects.get(pk=c.pk).status for c in (dormant, lost, fresh)] == ["dormant", "lost", "active"]


def test_figures_count_only_purchases_up_to_as_of(owner):
    client = buyer(owner, 364, 365, 0, -1)  # day 364 is inside the 12 months, 365 is not; -1 is the future

    recompute()

    client.refresh_from_db()
    assert client.first_purchase_date == AS_OF - dt.timedelta(days=365)
    assert client.last_purchase_date == AS_OF
    assert client.purchase_count == 3
    assert client.total_spent == Decimal("300.00")
    assert client.spend_12m == Decimal("200.00")
    assert client.average_basket == Decimal("100.00")


def test_average_basket_rounds_half_up_to_cents(owner):
    client = ClientFactory(owner=owner)
    PurchaseFactory(client=client, date=AS_OF, amount=Decimal("0.02"))
    PurchaseFactory(client=client, date=AS_OF, amount=Decimal("0.03"))

    recompute()

    client.refresh_from_db()
    assert client.average_basket == Decimal("0.03")  # 0.025


def test_zero_amount_purchases_count_but_spend_nothing(owner):
    client = buyer(owner, 3, 40, amount="0.00")
    spender = buyer(owner, 3)

    recompute()

    client.refresh_from_db()
    assert (client.status, client.purchase_count, client.total_spent, client.average_basket) == (
        "active", 2, Decimal("0.00"), Decimal("0.00"),
    )
    assert client.volume_tier == ""  # no 12-month spend: no tier, and not in the mean
    assert Client.objects.get(pk=spender.pk).volume_tier == "medium"  # alone at the mean: ratio 1.0


def test_prospects_get_no_figures_scores_or_classes(owner):
    client = ClientFactory(owner=owner)
    buyer(owner, 3)

    recompute()

    client.refresh_from_db()
    assert (client.first_purchase_date, client.purchase_count, client.total_spent) == (None, 0, Decimal("0"))
    assert (client.r_score, client.f_score, client.m_score, client.rfm_segment) == (None, None, None, "")
    assert (client.volume_tier, client.frequency_class) == ("", "")


@pytest.mark.parametrize(
    "days_ago, expected",
    [
        ((10,), "occasional"),  # a single purchase
        ((10, 10, 10), "occasional"),  # several purchases, one distinct date
        ((0, 30), "frequent"),
        ((0, 31), "habitual"),
        ((0, 90), "habitual"),
        ((0, 91), "occasional"),
        ((0, 0, 40, 40), "habitual"),  # same-day purchases make no zero gaps
        ((0, 29, 60), "frequent"),  # gaps 29 and 31: median 30
        ((0, 30, 61), "habitual"),  # gaps 30 and 31: median 30.5
        ((0, 29, 59), "frequent"),  # gaps 29 and 30: median 29.5
        ((0, 10, 20, 120), "frequent"),  # gaps 10, 10, 100: median 10
        ((0, 10, 110, 210), "occasional"),  # gaps 100, 100, 10: median 100
        ((0, 100, 191, 221, 231), "habitual"),  # gaps 10, 30, 91, 100: median 60.5
        ((0, 100, 190, 220, 230), "habitual"),  # gaps 10, 30, 90, 100: median 60
        ((0, 1, 2, 183, 273), "habitual"),  # gaps 1, 1, 90, 181 (sorted): median 45.5
        ((0, 5, 10, 40, 71, 171, 271), "habitual"),  # gaps 5, 5, 30, 31, 100, 100: median 30.5
        ((0, 5, 10, 40, 70, 170, 270), "frequent"),  # gaps 5, 5, 30, 30, 100, 100: median 30
        ((0, 100, 200, 229, 320, 420), "occasional"),  # gaps 29, 91, 100, 100, 100: median 100
    ],
)
def test_frequency_class_comes_from_the_median_gap_between_distinct_dates(owner, days_ago, expected):
    client = buyer(owner, *days_ago)

    recompute()

    client.refresh_from_db()
    assert client.frequency_class == expected


def test_volume_tiers_are_ratios_to_the_mean_of_spenders(owner):
    # 12-month spends 200, 120, 60.01, 60, 59.99: mean 100 (the client without recent spend is left out)
    spends = {"very_high": "200.00", "high": "120.00", "medium": "60.01", "medium_at_cut": "60.00", "low": "59.99"}
    clients = {name: buyer(owner, 5, amount=amount) for name, amount in spends.items()}
    old = buyer(owner, 400, amount="5000.00")

    recompute()

    tiers = {name: Client.objects.get(pk=client.pk).volume_tier for name, client in clients.items()}
    assert tiers == {"very_high": "very_high", "high": "high", "medium": "medium", "medium_at_cut": "medium", "low": "low"}
    assert Client.objects.get(pk=old.pk).volume_tier == ""


def test_volume_tiers_follow_custom_cut_points(owner):
    clients = [buyer(owner, 5, amount=amount) for amount in ("150.00", "100.00", "50.00")]  # mean 100

    recompute(Thresholds(tier_very_high=Decimal("1.5"), tier_high=Decimal("1.01"), tier_medium=Decimal("0.5")))

    assert [Client.objects.get(pk=c.pk).volume_tier for c in clients] == ["very_high", "medium", "medium"]


def test_scores_are_quintiles_among_buyers(owner):
    clients = [buyer(owner, *range(count)) for count in range(1, 11)]  # 1..10 purchases, last one today
    ClientFactory(owner=owner)  # a prospect takes no quintile

    recompute()

    scores = [Client.objects.get(pk=c.pk).f_score for c in clients]
    assert scores == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    money = [Client.objects.get(pk=c.pk).m_score for c in clients]
    assert money == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_recency_scores_the_most_recent_buyers_highest(owner):
    clients = [buyer(owner, days) for days in (500, 400, 300, 200, 100, 50, 20)]

    recompute()

    assert [Client.objects.get(pk=c.pk).r_score for c in clients] == [1, 1, 2, 2, 3, 4, 5]


def test_ties_are_broken_by_id_so_reruns_do_not_shuffle(owner):
    clients = [buyer(owner, 10) for _ in range(7)]  # identical values everywhere

    recompute()
    second = recompute()

    assert [Client.objects.get(pk=c.pk).r_score for c in clients] == [1, 1, 2, 2, 3, 4, 5]
    assert second["rows_changed"] == 0


def test_fewer_buyers_than_quintiles_take_the_lowest_scores(owner):
    clients = [buyer(owner, *range(count)) for count in (1, 2, 3)]

    recompute()

    assert [Client.objects.get(pk=c.pk).f_score for c in clients] == [1, 2, 3]


RFM_TABLE = """
    5 new promising loyal champions champions
    4 new promising loyal champions champions
    3 promising promising loyal loyal loyal
    2 hibernating hibernating at_risk at_risk at_risk
    1 lost lost lost cant_lose cant_lose
"""
RFM_CELLS = [
    (int(line.split()[0]), f, code)
    for line in RFM_TABLE.strip().splitlines()
    for f, code in enumerate(line.split()[1:], start=1)
]


@pytest.mark.parametrize("r, f, expected", RFM_CELLS)
def test_rfm_segment_of_every_cell(db, r, f, expected):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rfm_segment_sql('r', 'f')} FROM (SELECT %s AS r, %s AS f) cell", [r, f])  # noqa: S608
        assert cursor.fetchone()[0] == expected
    assert RFM_SEGMENTS[(r, f)] == expected


@pytest.mark.parametrize(
    ("count", "ends"),
    [(0, []), (1, []), (2, [1]), (4, [1, 2, 3]), (5, [1, 2, 3, 4]), (7, [2, 4, 5, 6]), (10, [2, 4, 6, 8]), (11, [3, 5, 7, 9])],
)
def test_quintile_ends_are_where_ntile_ends_a_quintile(count, ends):
    from segmentation.engine import _quintile_ends

    assert _quintile_ends(count) == ends


@pytest.mark.django_db
@pytest.mark.parametrize("width", [1, 7, 100])
def test_rows_at_ranks_are_the_rows_a_full_sort_puts_there(width):
    """Counting per bucket, then numbering a few buckets, finds the same (value, id) as numbering
    every row: ties broken by the id, negative values (the recency) and buckets of many values."""
    from segmentation.engine import _quintile_ends, rows_at_ranks

    rng = random.Random(16)
    rows = [(client_id, rng.choice([-400, -3, 0, 0, 5, 5, 5]) if client_id % 3 else rng.randint(-900, 900))
            for client_id in rng.sample(range(1, 10_000), 400)]
    ordered = sorted(((value, client_id) for client_id, value in rows))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE ranks_probe (client_id BIGINT, v BIGINT)")
        cursor.executemany("INSERT INTO ranks_probe (client_id, v) VALUES (%s, %s)", rows)
        for ranks in (_quintile_ends(len(rows)), [1, 2, 399, 400], [200], []):
            found = rows_at_ranks(cursor, "ranks_probe", "v + %(shift)s", ranks, {"shift": 0}, width=width)
            assert found == [ordered[rank - 1] for rank in ranks]
        cursor.execute("DROP TABLE ranks_probe")


def test_rfm_table_covers_every_cell_once():
    assert len(RFM_CELLS) == len(RFM_SEGMENTS) == 25


def test_status_change_is_recorded_with_its_date_and_cause(owner):
    client = buyer(owner, 100)

    result = recompute()

    change = StatusChange.objects.get(client=client)
    assert (change.from_status, change.to_status, change.date, change.cause) == ("prospect", "dormant", AS_OF, "recompute")
    client.refresh_from_db()
    # Found on AS_OF, dormant since the day after 90 days without buying (9 days earlier).
    assert client.status_since == AS_OF - dt.timedelta(days=100) + dt.timedelta(days=91)
    assert result["status_changes"] == 1


def test_a_change_found_on_its_day_starts_on_the_run_day(owner):
    client = buyer(owner, 90)  # 90 days: still active; tomorrow dormant
    recompute()

    recompute(as_of=AS_OF + dt.timedelta(days=1))

    client.refresh_from_db()
    assert (client.status, client.status_since) == ("dormant", AS_OF + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("days_ago", "closed_days_ago", "status", "since_days_ago"),
    [
        ([10], None, "new", 10),  # the first purchase
        ([200, 10], None, "active", 200 - 31),  # the day after the 30-day window
        ([400], None, "lost", 400 - 366),
        ([100], 50, "lost", 50),  # closed on purpose: the closing day
        ([], None, "prospect", None),  # never changed from the default: no date
    ],
)
def test_a_first_run_dates_each_status_from_the_purchases_not_the_run(owner, days_ago, closed_days_ago, status, since_days_ago):
    closed = AS_OF - dt.timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    client = buyer(owner, *days_ago, closed_at=closed)

    recompute()

    client.refresh_from_db()
    expected = AS_OF - dt.timedelta(days=since_days_ago) if since_days_ago is not None else None
    assert (client.status, client.status_since) == (status, expected)


def test_back_from_dormant_is_active_since_the_purchase_that_brought_them_back(owner):
    client = buyer(owner, 200, 150)
    recompute()
    assert Client.objects.get(pk=client.pk).status == "dormant"
    PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=3), amount=Decimal("5.00"))

    recompute()

    client.refresh_from_db()
    assert (client.status, client.status_since) == ("active", AS_OF - dt.timedelta(days=3))


def test_the_sql_dates_every_status_as_the_python_rule_does(owner):
    from segmentation.rules import status_since_for

    random_portfolio(owner, 41)
    recompute(as_of=AS_OF - dt.timedelta(days=120))  # a first run, then a later one: changes of every kind
    before = dict(Client.objects.values_list("pk", "status"))

    recompute()

    changed = [client for client in Client.objects.all() if client.status != before[client.pk]]
    assert len({(before[client.pk], client.status) for client in changed}) >= 4  # several kinds of change
    for client in changed:
        assert client.status_since == status_since_for(
            status=client.status, previous=before[client.pk], as_of=AS_OF, first_purchase=client.first_purchase_date,
            last_purchase=client.last_purchase_date, closed_at=client.closed_at, thresholds=DEFAULTS,
        ), client


def test_status_since_stays_when_only_figures_change(owner):
    client = buyer(owner, 100, 200)
    recompute()
    since = Client.objects.get(pk=client.pk).status_since
    PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=95), amount=Decimal("1.00"))

    recompute(as_of=AS_OF + dt.timedelta(days=1))

    client.refresh_from_db()
    assert (client.status, client.status_since, client.purchase_count) == ("dormant", since, 3)
    assert StatusChange.objects.filter(client=client).count() == 1


def test_recomputing_the_same_day_again_changes_and_records_nothing(owner):
    buyer(owner, 5)
    buyer(owner, 100, 20)
    buyer(owner, 400, closed_at=AS_OF - dt.timedelta(days=1))
    ClientFactory(owner=owner)
    first = recompute()
    before = stored_values()
    changes = StatusChange.objects.count()

    second = recompute()

    assert first["rows_changed"] == 3
    assert second["rows_changed"] == second["status_changes"] == 0
    assert StatusChange.objects.count() == changes
    assert stored_values() == before


def test_the_result_counts_clients_per_status(owner):
    buyer(owner, 5)
    buyer(owner, 50)
    buyer(owner, 100)
    buyer(owner, 500)
    ClientFactory(owner=owner)

    result = recompute()

    assert result["statuses"] == {"prospect": 1, "new": 1, "active": 1, "dormant": 1, "lost": 1}
    assert result["rows_changed"] == 4


def random_portfolio(owner, seed: int, clients: int = 60) -> None:
    rng = random.Random(seed)
    for _ in range(clients):
        closed = AS_OF - dt.timedelta(days=rng.randint(0, 400)) if rng.random() < 0.1 else None
        client = ClientFactory(owner=owner, closed_at=closed)
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5, 8])):
            PurchaseFactory(
                client=client, date=AS_OF - dt.timedelta(days=rng.randint(-30, 800)),
                amount=Decimal(rng.choice([0, 1, 999, 1000, 5000, rng.randint(0, 300_000)])) / 100,
            )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_equals_the_python_reference_on_random_data(owner, seed):
    random_portfolio(owner, seed)

    recompute()

    assert stored_values() == expected_values(AS_OF)


def test_engine_equals_the_python_reference_with_custom_thresholds(owner):
    random_portfolio(owner, 7)
    thresholds = Thresholds(
        alta_window_days=60, dormido_after_days=120, baja_after_days=200, tier_very_high=Decimal("3"),
        tier_high=Decimal("1.5"), tier_medium=Decimal("0.25"), frequent_max_days=10, habitual_max_days=45,
    )

    recompute(thresholds)

    assert stored_values() == expected_values(AS_OF, thresholds)


def test_a_chunked_run_equals_a_single_run(owner):
    random_portfolio(owner, 11)
    recompute()
    single = stored_values()
    single_changes = sorted(StatusChange.objects.values_list("client_id", "from_status", "to_status"))
    Client.objects.update(
        status="prospect", status_since=None, first_purchase_date=None, last_purchase_date=None, purchase_count=0,
        total_spent=0, spend_12m=0, average_basket=0, volume_tier="", frequency_class="", r_score=None,
        f_score=None, m_score=None, rfm_segment="",
    )
    StatusChange.objects.all().delete()

    chunks = id_chunks(7)
    results = [recompute_lifecycle(AS_OF, DEFAULTS, id_range=chunk) for chunk in chunks]

    assert len(chunks) > 5
    assert stored_values() == single
    assert sorted(StatusChange.objects.values_list("client_id", "from_status", "to_status")) == single_changes
    assert sum(merge_results(results)["statuses"].values()) == Client.objects.count()


def test_a_chunk_touches_only_its_id_range(owner):
    inside = buyer(owner, 5)
    outside = buyer(owner, 5)

    recompute_lifecycle(AS_OF, DEFAULTS, id_range=(inside.pk, inside.pk + 1))

    assert Client.objects.get(pk=inside.pk).status == "new"
    assert Client.objects.get(pk=outside.pk).status == "prospect"
    assert not StatusChange.objects.filter(client=outside).exists()


def test_global_cuts_survive_json_for_chunk_tasks(owner):
    random_portfolio(owner, 5, clients=20)
    cuts = global_cuts(AS_OF)

    assert type(cuts).from_json(cuts.as_json()) == cuts
    assert apply_chunk(AS_OF, DEFAULTS, type(cuts).from_json(cuts.as_json()))["rows_changed"] > 0


def test_engine_on_an_empty_database(db):
    assert recompute()["rows_changed"] == 0
    assert id_chunks(100) == []


def test_a_list_of_ids_recomputes_exactly_those_clients_as_a_full_run_would(owner):
    random_portfolio(owner, 13, clients=30)
    ids = sorted(Client.objects.values_list("id", flat=True))
    chosen = ids[::3] + [ids[-1]]

    result = apply_chunk(AS_OF, DEFAULTS, global_cuts(AS_OF), chosen, cause=StatusChange.Cause.IMPORT)

    expected, stored = expected_values(AS_OF), stored_values()
    assert all(stored[pk] == expected[pk] for pk in chosen)
    assert all(stored[pk]["status"] == "prospect" and stored[pk]["purchase_count"] == 0 for pk in ids if pk not in chosen)
    assert set(StatusChange.objects.values_list("cause", flat=True)) == {"import"}
    assert sum(result["statuses"].values()) == len(set(chosen))


def test_a_writes_refresh_of_a_list_does_not_count_its_clients_per_status(owner):
    from segmentation.engine import clients_refresh

    random_portfolio(owner, 13, clients=12)
    ids = sorted(Client.objects.values_list("id", flat=True))[:5]
    cuts = global_cuts(AS_OF)
    with CaptureQueriesContext(connection) as queries:
        result = clients_refresh(AS_OF, DEFAULTS, ids, cuts, cause=StatusChange.Cause.IMPORT)
    assert not [q["sql"] for q in queries if "GROUP BY c.status" in q["sql"]]
    assert set(result) == {"rows_changed", "status_changes"} and result["rows_changed"] > 0
    expected, stored = expected_values(AS_OF), stored_values()
    assert all(stored[pk] == expected[pk] for pk in ids)


@pytest.mark.parametrize("clients", [3, 30])
def test_engine_runs_a_fixed_number_of_queries_whatever_the_size(owner, django_assert_num_queries, clients):
    random_portfolio(owner, 17, clients=clients)

    # savepoint; (PostgreSQL: work_mem for the sorts); drop 3 temp tables; aggregate; global cuts
    # in a savepoint (spend and buyers, then two queries per score: 7, +1 for work_mem); changed
    # values; (PostgreSQL: analyze them); insert changes; mark the recommendations of the clients
    # that become or stop being lost, then of those whose spend or frequency moves; update;
    # the reasons for leaving; counts per status; drop 3 temp tables; release savepoint: no query
    # per client.
    from django.db import connection

    with django_assert_num_queries(28 if connection.vendor == "postgresql" else 25):
        recompute()


def test_engine_leaves_the_alert_alone(owner):
    client = buyer(owner, 100)
    Client.objects.filter(pk=client.pk).update(alert="red", alert_reason="Follow-up overdue")

    recompute()

    client.refresh_from_db()
    assert (client.status, client.alert, client.alert_reason) == ("dormant", "red", "Follow-up overdue")


@pytest.mark.django_db(transaction=True)  # the parallel aggregate's connections read committed data only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the parallel aggregate is PostgreSQL's")
def test_a_run_that_reads_the_purchases_over_several_connections_equals_the_reference(owner):
    random_portfolio(owner, 23)

    result = recompute_lifecycle(AS_OF, DEFAULTS, workers=3)

    assert stored_values() == expected_values(AS_OF)
    assert sum(result["statuses"].values()) == Client.objects.count()
    with connection.cursor() as cursor:  # the scratch table is gone
        cursor.execute("SELECT COUNT(*) FROM pg_class WHERE relname LIKE 'segmentation_lifecycle_work%%'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the parallel aggregate is PostgreSQL's")
def test_a_run_drops_the_scratch_tables_of_runs_killed_long_ago_not_of_running_ones(owner):
    import time

    from segmentation.engine import WORK_AGG, WORK_AGG_STALE_SECONDS

    random_portfolio(owner, 5)
    now = int(time.time())
    killed = f"{WORK_AGG}_{now - WORK_AGG_STALE_SECONDS - 60}_aaaaaaaaaaaa"
    before_the_stamp = f"{WORK_AGG}_0123456789ab"
    running = f"{WORK_AGG}_{now - 60}_bbbbbbbbbbbb"
    unrelated = f"{WORK_AGG}x_{now - WORK_AGG_STALE_SECONDS - 60}_cccccccccccc"
    tables = [killed, before_the_stamp, running, unrelated]
    with connection.cursor() as cursor:
        for name in tables:
            cursor.execute(f'CREATE UNLOGGED TABLE "{name}" (id integer)')
    try:
        recompute_lifecycle(AS_OF, DEFAULTS, workers=2)

        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE tablename = ANY(%s)", [tables])
            assert sorted(row[0] for row in cursor.fetchall()) == sorted([running, unrelated])
    finally:
        with connection.cursor() as cursor:
            for name in tables:
                cursor.execute(f'DROP TABLE IF EXISTS "{name}"')


def test_inside_a_transaction_the_run_stays_on_one_connection(owner):
    random_portfolio(owner, 29)

    recompute_lifecycle(AS_OF, DEFAULTS, workers=4)  # the test's transaction: other connections would not see it

    assert stored_values() == expected_values(AS_OF)
