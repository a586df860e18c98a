"""`manage.py seed_demo`: the demo business (see demo/build.py). A second run does nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from campaigns.nps import nps_snapshot_take
from demo.blocks import default_workers
from demo.build import demo_build, demo_present, status_table
from demo.consents import consents_seed
from demo.origins import origins_seed
from demo.profile import profile_seed
from demo.sampling import DemoError
from demo.surveys import surveys_seed
from segmentation.snapshots import flow_snapshot_take


class Command(BaseCommand):
    help = "Loads a realistic demo business: users, teams, catalogue, clients and three years of history."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=300, help="number of clients (default 300)")
        parser.add_argument("--seed", type=int, default=42, help="random seed: the same seed gives the same data")
        parser.add_argument("--comerciales", type=int, default=4, help="number of salespeople (default 4)")
        parser.add_argument(
            "--workers", type=int, default=None,
            help=f"processes generating data ahead (default {default_workers()} here; 0 = a thread)",
        )

    def handle(self, *args, clients: int, seed: int, comerciales: int, workers: int | None, **options):
        if clients < 0 or comerciales < 1 or (workers is not None and workers < 0):
            raise CommandError("--clients must be >= 0, --comerciales >= 1, --workers >= 0.")
        if demo_present():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        try:
            result = demo_build(clients=clients, seed=seed, comerciales=comerciales, workers=workers, log=self.stdout.write)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        consents = consents_seed()
        self.stdout.write(f"Consents to e-mails recorded: {consents:,}")
        self.stdout.write(f"NPS survey answers recorded: {surveys_seed():,}")
        nps_snapshot_take(day=timezone.localdate())  # the dashboard's NPS reads the night's count of them
        origins = origins_seed()
        flow_snapshot_take(day=timezone.localdate())  # the dashboard's flows read the night's count of those changes
        self.stdout.write(f"Ideal client profile: {profile_seed()} criteria suggested from the best clients")
        self.stdout.write(
            f"Sources detailed: {origins['details']:,}; referrals: {origins['referrals']:,};"
            f" status changes over the last year: {origins['status_changes']:,}"
        )
        if connection.vendor == "postgresql":
            # What the steps above wrote (consents, answers, referrals, status changes: millions of
            # rows at a million clients) has no statistics yet, and autovacuum may be off or late:
            # a planner guessing 535 consents where there are 340,000 took 3 s to draft a campaign.
            # VACUUM too, as autovacuum would have done (it is off on the bench machines): without
            # the visibility map no index-only scan avoids the heap (the agenda's capped counts
            # read 1,000 heap rows each: 20 ms instead of 2 at a million clients). VACUUM cannot
            # run inside a transaction (a test's): there, statistics alone.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        tally = result.tally
        self.stdout.write(self.style.SUCCESS(f"\nDemo business loaded in {result.elapsed:.1f} s."))
        for label, value in [
            ("users", len(result.logins)), ("clients", tally.clients), ("purchases", tally.purchases),
            ("purchase lines", tally.lines), ("interactions", tally.interactions), ("follow-ups", tally.followups),
            ("contracts", tally.contracts),
        ]:
            self.stdout.write(f"  {label:<16}{value:>12,}")
        self.stdout.write("Clients per status:")
        for label, value in status_table(result.statuses):
            self.stdout.write(f"  {label:<16}{value:>12,}")
        self.stdout.write("\nDemo logins:")
        self.stdout.write(f"  {'username':<14}{'password':<15}{'role':<15}team")
        for username, password, role, team in result.logins:
            self.stdout.write(f"  {username:<14}{password:<15}{role:<15}{team}")
