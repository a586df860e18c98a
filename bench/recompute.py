"""Times the nightly lifecycle recompute on the current database (run through `make bench`).

Reports: the full set-based run (first run after the load, a re-run of the same day, the next
day), how a chunk's time grows with the number of clients, the colour alerts, a naive per-client ORM loop timed on
a sample and extrapolated, and the incremental refresh after one purchase. Writes made only
for measuring (the naive loop, the incremental refresh) are rolled back.
"""

import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max, Min, Q, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from clients.models import Client, Purchase  # noqa: E402
from segmentation.alerts import recompute_alerts  # noqa: E402
from segmentation.automation import automatic_followups_create  # noqa: E402
from segmentation.engine import apply_chunk, global_cuts, recompute_lifecycle  # noqa: E402
from segmentation.rules import status_for  # noqa: E402
from segmentation.services import current_thresholds, lifecycle_refresh_client  # noqa: E402

NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "2000"))
WITH_RECOMMENDATIONS = os.environ.get("BENCH_RECOMMENDATIONS", "1") != "0"  # 0: skip the slowest step


class Rollback(Exception):
    pass


def seconds(func, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def naive_loop(client_ids: list[int], as_of: dt.date) -> None:
    """What the engine replaces: one aggregate query and one save per client."""
    thresholds = current_thresholds()
    for client in Client.objects.filter(pk__in=client_ids):
        figures = Purchase.objects.filter(client=client, date__lte=as_of).aggregate(
            first=Min("date"), last=Max("date"), n=Count("id"), total=Sum("amount"),
            s12=Sum("amount", filter=Q(date__gt=as_of - dt.timedelta(days=365))),
        )
        client.first_purchase_date, client.last_purchase_date = figures["first"], figures["last"]
        client.purchase_count, client.total_spent = figures["n"], figures["total"] or Decimal("0")
        client.spend_12m = figures["s12"] or Decimal("0")
        client.status = status_for(
            as_of=as_of, first_purchase=figures["first"], last_purchase=figures["last"],
            closed_at=client.closed_at, thresholds=thresholds,
        )
        client.save()


def vacuum_clients() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {Client._meta.db_table}")


def main() -> int:
    today = timezone.localdate()
    thresholds = current_thresholds()
    clients = Client.objects.count()
    purchases = Purchase.objects.count()
    print(f"{connection.vendor}, {clients:,} clients, {purchases:,} purchases\n")

    workers = settings.LIFECYCLE_WORKERS
    print(f"full runs read the purchases over {workers} connections (LIFECYCLE_WORKERS); autovacuum is off on these")
    print("machines, so the client table is vacuumed before each run as autovacuum would between two nights\n")
    runs = (
        ("full run, first after the load", today, workers), ("full run, same day again", today, workers),
        ("full run, next day", today + dt.timedelta(days=1), workers),
        ("full run, next day again", today + dt.timedelta(days=1), workers),
        ("full run, day after, one connection", today + dt.timedelta(days=2), 1),
        ("full run, back to today", today, workers),
    )
    for label, as_of, count in runs:
        vacuum_clients()
        elapsed, result = seconds(recompute_lifecycle, as_of, thresholds, workers=count)
        print(f"{label:<36} {elapsed:7.1f} s  rows changed {result['rows_changed']:>9,}  status changes {result['status_changes']:>7,}")

    as_of = today + dt.timedelta(days=1)
    elapsed, cuts = seconds(global_cuts, as_of)
    print(f"\n{'global step (mean, quintile cuts)':<36} {elapsed:7.1f} s")
    low = Client.objects.order_by("id").values_list("id", flat=True).first()
    for size in (100_000, 300_000, 1_000_000):
        if size > clients:
            break
        elapsed, _ = seconds(apply_chunk, as_of, thresholds, cuts, (low, low + size))
        print(f"{'chunk of ' + format(size, ',') + ' clients':<36} {elapsed:7.1f} s")

    for label in ("colour alerts, every client", "colour alerts, again"):
        elapsed, changed = seconds(recompute_alerts, timezone.now(), thresholds)
        print(f"{label:<36} {elapsed:7.1f} s  rows changed {changed:>9,}")

    try:
        with transaction.atomic():
            for label in ("automatic follow-ups", "automatic follow-ups, again"):
                elapsed, created = seconds(automatic_followups_create, as_of=today, thresholds=thresholds)
                print(f"{label:<36} {elapsed:7.1f} s  created {created}")
            raise Rollback
    except Rollback:
        pass

    bare = bare_group_by()
    print(f"\nbare GROUP BY over the purchases (client_id, max(date), count, sum): {bare:.1f} s")
    normal_nights(today, bare)

    sample = list(Client.objects.order_by("?").values_list("id", flat=True)[:NAIVE_SAMPLE])
    try:
        with transaction.atomic():
            elapsed, _ = seconds(naive_loop, sample, as_of)
            raise Rollback
    except Rollback:
        pass
    per_client = elapsed / len(sample)
    print(f"\nnaive ORM loop: {len(sample):,} clients in {elapsed:.1f} s = {per_client * 1000:.2f} ms/client"
          f" → {per_client * clients / 60:.1f} min for {clients:,} clients (extrapolated)")

    buyers = list(Client.objects.filter(purchase_count__gt=0).order_by("?").values_list("id", flat=True)[:200])
    samples = []
    try:
        with transaction.atomic():
            for client_id in buyers:
                start = time.perf_counter()
                with transaction.atomic():
                    Purchase.objects.create(client_id=client_id, date=today, amount=Decimal("12.50"))
                    lifecycle_refresh_client(client_id)
                samples.append((time.perf_counter() - start) * 1000)
            raise Rollback
    except Rollback:
        pass
    samples.sort()
    print(f"one purchase + that client's refresh: median {statistics.median(samples):.2f} ms,"
          f" p95 {samples[int(len(samples) * 0.95) - 1]:.2f} ms ({len(samples)} purchases, rolled back)")
    return 0


def bare_group_by() -> float:
    """The yardstick of the issue: the plain aggregate of every purchase, best of two."""
    times = []
    with connection.cursor() as cursor:
        for _ in range(2):
            start = time.perf_counter()
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT client_id, MAX(date), COUNT(*), SUM(amount) FROM {Purchase._meta.db_table}"  # noqa: S608
                " GROUP BY client_id) grouped"
            )
            cursor.fetchone()
            times.append(time.perf_counter() - start)
    return min(times)


def day_of_purchases(day: dt.date, share: float) -> int:
    """`share` of the clients buy on `day`: one purchase each, written set-based, then refreshed
    as the write path refreshes them (in one pass here: the day's cost, not the night's)."""
    from segmentation.engine import clients_refresh
    from segmentation.services import _cuts_for

    table = Purchase._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (client_id, date, amount, currency, payment_method, channel, notes, created_at)
                SELECT id, %s, 10 + id %% 90, %s, '', '', '', now() FROM {Client._meta.db_table}
                WHERE random() < %s RETURNING client_id""",  # noqa: S608 - constant table names
            [day, settings.CURRENCY, share],
        )
        buyers = [client_id for (client_id,) in cursor.fetchall()]
    thresholds = current_thresholds()
    clients_refresh(day, thresholds, buyers, _cuts_for(day, thresholds))
    return len(buyers)


def normal_nights(today: dt.date, bare: float) -> None:
    """The normal night after a day when 0.1 %, 1 % and 10 % of the clients bought, each rolled
    back, next to the bare GROUP BY of the same run: what the night costs grows with the day."""
    from clients.recommendations import recommendations_recompute
    from segmentation.services import followups_and_colours_refresh, lifecycle_recompute, snapshots_take

    lifecycle_recompute(as_of=today, full=True, with_consequences=False)  # the state the nights start from
    followups_and_colours_refresh(as_of=today, full=True)
    if WITH_RECOMMENDATIONS:  # the week's rules, built the night before
        elapsed, _ = seconds(recommendations_recompute, as_of=today, full=True)
        print(f"{'recommendations, rebuild of the rules':<36} {elapsed:7.1f} s")
    vacuum_clients()
    print("\nnormal night after a day of purchases (each rolled back; times in s):")
    print(f"{'buyers':>10} {'lifecycle':>10} {'colours':>9} {'snapshots':>10} {'recommend.':>11} {'night':>8}"
          f" {'x GROUP BY':>11}")
    for share in (0.001, 0.01, 0.1):
        try:
            with transaction.atomic():
                buyers = day_of_purchases(today, share)
                night = today + dt.timedelta(days=1)
                lifecycle, result = seconds(lifecycle_recompute, as_of=night, with_consequences=False)
                assert result["mode"] == "incremental", result["mode"]
                colours, _ = seconds(followups_and_colours_refresh, as_of=night)
                snapshots, _ = seconds(snapshots_take, as_of=night)
                recommendations = seconds(recommendations_recompute, as_of=night)[0] if WITH_RECOMMENDATIONS else 0.0
                total = lifecycle + colours + snapshots + recommendations
                print(f"{buyers:>10,} {lifecycle:>10.2f} {colours:>9.2f} {snapshots:>10.2f} {recommendations:>11.2f}"
                      f" {total:>8.2f} {total / bare:>11.2f}")
                raise Rollback
        except Rollback:
            pass


if __name__ == "__main__":
    sys.exit(main())
