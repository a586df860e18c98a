"""`manage.py seed_demo`: the demo business (see clients/demo.py). A second run does nothing."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from campaigns.demo import consents_seed
from clients import demo
from clients.recommendations import recommendations_recompute
from segmentation.engine import recompute_lifecycle
from segmentation.services import after_recompute, current_thresholds
from segmentation.snapshots import snapshot_backfill


def compute_figures(as_of) -> dict:
    """The nightly engine fills the loaded clients (a load is not a history of status changes),
    then the automatic follow-ups and the colours, as the nightly run leaves them."""
    result = recompute_lifecycle(as_of, current_thresholds(), record_changes=False)
    result.update(after_recompute(as_of=as_of))
    result["recommendations"] = recommendations_recompute(as_of=as_of)
    # A year of history for the dashboard's trends: the end of each of the last 12 months.
    month_start = as_of.replace(day=1)
    for _month in range(12):
        month_end = month_start - dt.timedelta(days=1)
        snapshot_backfill(day=month_end, thresholds=current_thresholds())
        month_start = month_end.replace(day=1)
    return result


class Command(BaseCommand):
    help = "Loads a realistic demo business: users, teams, catalogue, clients and three years of history."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=300, help="number of clients (default 300)")
        parser.add_argument("--seed", type=int, default=42, help="random seed: the same seed gives the same data")
        parser.add_argument("--comerciales", type=int, default=4, help="number of salespeople (default 4)")
        parser.add_argument(
            "--workers", type=int, default=None,
            help=f"processes generating data ahead (default {demo.default_workers()} here; 0 = a thread)",
        )

    def handle(self, *args, clients: int, seed: int, comerciales: int, workers: int | None, **options):
        if clients < 0 or comerciales < 1 or (workers is not None and workers < 0):
            raise CommandError("--clients must be >= 0, --comerciales >= 1, --workers >= 0.")
        if demo.demo_present():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        try:
            result = demo.demo_build(
                compute_figures=compute_figures, clients=clients, seed=seed, comerciales=comerciales, workers=workers, log=self.stdout.write
            )
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from exc
        consents = consents_seed()
        self.stdout.write(f"Consents to e-mails recorded: {consents:,}")
        tally = result.tally
        self.stdout.write(self.style.SUCCESS(f"\nDemo business loaded in {result.elapsed:.1f} s."))
        for label, value in [
            ("users", len(result.logins)), ("clients", tally.clients), ("purchases", tally.purchases),
            ("purchase lines", tally.lines), ("interactions", tally.interactions), ("follow-ups", tally.followups),
            ("contracts", tally.contracts),
        ]:
            self.stdout.write(f"  {label:<16}{value:>12,}")
        self.stdout.write("Clients per status:")
        for label, value in demo.status_table(result.statuses):
            self.stdout.write(f"  {label:<16}{value:>12,}")
        self.stdout.write("\nDemo logins:")
        self.stdout.write(f"  {'username':<14}{'password':<15}{'role':<15}team")
        for username, password, role, team in result.logins:
            self.stdout.write(f"  {username:<14}{password:<15}{role:<15}{team}")
