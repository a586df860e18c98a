"""`demo_build()`: the whole demo business in one transaction, then its figures.

Users, teams and the catalogue first; then the clients with their history, block after block
(`demo.blocks`), through COPY on PostgreSQL and bulk_create elsewhere (`demo.writers`); then the
nightly engine fills every client's figures, status and classifications in one set-based run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone

from accounts.models import User
from clients.models import Client, Contract, ExchangeRate, FollowUp, Interaction, Purchase, PurchaseLine, Status
from clients.recommendations import recommendations_recompute
from core.sql import is_postgres, work_mem_set
from demo.blocks import BLOCK_CLIENTS, default_workers, generated_blocks, prepared_blocks
from demo.catalogue import catalogue_create
from demo.clients import Setup
from demo.history import HISTORY_DAYS
from demo.markets import monthly_rates
from demo.people import staff_create
from demo.rows import Bases, Tally
from demo.sampling import Clock, faker_class
from demo.writers import OrmWriter, PostgresBulkLoad, PostgresWriter
from segmentation.engine import recompute_lifecycle
from segmentation.services import after_recompute, current_thresholds, lifecycle_state_record
from segmentation.snapshots import snapshot_backfill

# The tables the clients' blocks fill (their ids handed out here, their indexes rebuilt on PostgreSQL).
LOADED = [Client, Client.interests.through, Purchase, PurchaseLine, Interaction, FollowUp, Contract]


@dataclass
class DemoResult:
    logins: list[tuple[str, str, str, str]]  # username, password, role, team
    tally: Tally
    statuses: dict[str, int]
    elapsed: float


def demo_present() -> bool:
    return User.objects.filter(username="admin").exists()


def compute_figures(as_of: dt.date) -> dict:
    """The nightly engine fills the loaded clients (a load is not a history of status changes),
    then the automatic follow-ups and the colours, as the nightly run leaves them."""
    result = recompute_lifecycle(as_of, current_thresholds(), record_changes=False)
    # A full run: the next night starts from it (segmentation.models.LifecycleState).
    lifecycle_state_record(as_of=as_of, thresholds=current_thresholds(), cuts=result["cuts"], full=True)
    result.update(after_recompute(as_of=as_of, full=True))
    result["recommendations"] = recommendations_recompute(as_of=as_of)
    # A year of history for the dashboard's trends: the end of each of the last 12 months.
    month_start = as_of.replace(day=1)
    for _month in range(12):
        month_end = month_start - dt.timedelta(days=1)
        snapshot_backfill(day=month_end, thresholds=current_thresholds())
        month_start = month_end.replace(day=1)
    return result


def demo_build(
    *, compute_figures: Callable[[dt.date], object] = compute_figures, clients: int = 300, seed: int = 42,
    comerciales: int = 4, workers: int | None = None, block_clients: int = BLOCK_CLIENTS,
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Writes the whole demo business in one transaction (see the module docstring).

    `compute_figures(as_of)` fills the clients' computed fields once the history is written.
    """
    faker_class()  # fail before writing anything
    started = time.monotonic()
    now = timezone.now()
    postgres = is_postgres()

    def progress(message: str) -> None:
        log(f"{message} ({time.monotonic() - started:.1f} s)")

    with transaction.atomic():
        staff, logins = staff_create(comerciales, seed)
        setup = Setup(seed=seed, now=now, time_zone=timezone.get_current_timezone_name(), staff=tuple(staff),
                      categories=catalogue_create())
        clock = Clock(now, setup.time_zone)
        bulk_load = PostgresBulkLoad(LOADED)
        if postgres:
            _postgres_load_start(bulk_load)
        _exchange_rates_write(clock.today)
        progress(f"Users, teams, catalogue and exchange rates ready; writing {clients:,} clients")
        workers = default_workers() if workers is None else workers
        tally = _clients_write(setup, clock, postgres, clients, workers, block_clients, progress)
        if postgres:
            _reset_sequences([Client, Purchase, Interaction])
        compute_figures(dt.date.fromordinal(clock.today))
        progress("Figures, status and classifications computed")
        if postgres:
            bulk_load.restore()
            progress("Indexes and foreign keys rebuilt")
        _renewals_link()
    progress("Committed")
    if postgres:
        _postgres_analyze(LOADED)
        progress("Statistics gathered")
    statuses = dict(Client.objects.order_by().values_list("status").annotate(n=Count("id")))
    return DemoResult(logins=logins, tally=tally, statuses=statuses, elapsed=time.monotonic() - started)


def _exchange_rates_write(today: int) -> None:
    """The rates the demo's purchases were converted at (one a month per currency): the rates page
    lists them, and a purchase recorded in reais or pesos today finds one."""
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=code, valid_from=dt.date.fromordinal(day), rate=Decimal(rate).scaleb(-8))
        for code, months in monthly_rates(today - HISTORY_DAYS + 1, today).items()
        for day, rate in months
    )


def _postgres_load_start(bulk_load: PostgresBulkLoad) -> None:
    with connection.cursor() as cursor:
        work_mem_set(cursor, "256MB")
        # We hand out the ids: keep other writers out until the commit.
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in LOADED)
        cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
    bulk_load.drop()


def _clients_write(
    setup: Setup, clock: Clock, postgres: bool, clients: int, workers: int, block_clients: int,
    progress: Callable[[str], None],
) -> Tally:
    """The clients and their history, block after block; the counts written."""
    bases = Bases(*[(model.objects.aggregate(top=Max("id"))["top"] or 0) + 1 for model in (Client, Purchase, Interaction)])
    writer = PostgresWriter(clock) if postgres else OrmWriter(clock)
    tally = Tally()
    for counts, prepared in prepared_blocks(generated_blocks(setup, clients, workers, block_clients), writer, bases):
        writer.send(prepared)
        tally.add(counts)
        progress(f"  {tally.clients:>10,} clients  {tally.purchases:>11,} purchases")
    return tally


def _renewals_link() -> None:
    """A renewed contract and its new term are written apart: link each new term to the term it
    renews (the client's renewed contract that ended before it starts), as `contract_renew` does."""
    renewed = Contract.objects.filter(
        client_id=OuterRef("client_id"), renewal_status=Contract.Renewal.RENEWED, end_date__lt=OuterRef("start_date")
    ).order_by("-end_date")
    Contract.objects.filter(
        renewed_from__isnull=True, client__in=Contract.objects.filter(renewal_status=Contract.Renewal.RENEWED).values("client")
    ).exclude(renewal_status=Contract.Renewal.RENEWED).update(renewed_from=Subquery(renewed.values("pk")[:1]))


def _postgres_analyze(model_list: list[type[models.Model]]) -> None:
    with connection.cursor() as cursor:
        for model in model_list:
            # VACUUM (outside a transaction only) also drops the row versions the recompute left.
            # Purchases too: their visibility map lets the engine read them from its index alone.
            vacuum = model in (Client, Purchase) and not connection.in_atomic_block
            command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


def _reset_sequences(model_list: list[type[models.Model]]) -> None:
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), model_list):
            cursor.execute(statement)


def status_table(statuses: dict[str, int]) -> list[tuple[str, int]]:
    return [(str(label), statuses.get(code, 0)) for code, label in Status.choices]
