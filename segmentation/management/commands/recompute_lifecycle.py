import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from redis.exceptions import RedisError

from campaigns.nps import nps_snapshot_take
from clients.models import Status


class Command(BaseCommand):
    help = (
        "Recomputes every client's figures, lifecycle status and classifications (the nightly job): what moved "
        "since the last run, or everything with --full (and on a first run or after new thresholds)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="evaluation date, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--full", action="store_true",
            help="read every purchase (as after new thresholds) instead of the night's changes since the last run",
        )
        parser.add_argument(
            "--verify", action="store_true",
            help="change nothing: list every stored value that differs from a full recompute (exit 1 if any)",
        )

    def handle(self, *args, as_of: str | None = None, verify: bool = False, full: bool = False, **options):
        from segmentation.nightly import LockHeld, lock_held
        from segmentation.services import lifecycle_recompute

        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError as error:
            raise CommandError(f"--as-of must be a date as YYYY-MM-DD: {error}") from error
        if verify:
            return self._verify(day)
        started = time.monotonic()
        try:
            with lock_held():  # the nightly run's lock: two runs at once would record each change twice
                result = lifecycle_recompute(as_of=day, full=full)
                nps_snapshot_take(day=day or timezone.localdate())  # with the day's other snapshots
        except LockHeld:
            raise CommandError(
                "Another lifecycle recompute is under way (the nightly run or this command holds its lock); "
                "nothing was changed. Run it again when that one has finished."
            ) from None
        except RedisError as error:
            raise CommandError(
                f"Redis (REDIS_URL), which holds the run's lock, cannot be reached: {error}. Nothing was changed."
            ) from None
        elapsed = time.monotonic() - started
        if "statuses" not in result:  # the incremental night does not count everyone: the count is for you
            from django.db import connection

            from segmentation.engine import clients_per_status

            with connection.cursor() as cursor:
                result["statuses"] = clients_per_status(cursor)
        for code, label in Status.choices:
            self.stdout.write(f"{code:<10} {result['statuses'][code]:>9}  {label}")
        self.stdout.write(
            f"{sum(result['statuses'].values())} clients, {result['rows_changed']} changed, "
            f"{result['status_changes']} status changes in {elapsed:.2f} s ({result['mode']} run)"
        )

    def _verify(self, day: dt.date | None) -> None:
        from django.utils import timezone

        from segmentation.engine import lifecycle_differences
        from segmentation.services import current_thresholds

        day = day or timezone.localdate()
        differences = lifecycle_differences(day, current_thresholds())
        for difference in differences:
            self.stdout.write(
                f"client {difference.client_id}: {difference.column} stored {_shown(difference.stored)}, "
                f"a full recompute gives {_shown(difference.computed)}"
            )
        clients = len({difference.client_id for difference in differences})
        if differences:
            raise CommandError(f"{len(differences)} differences in {clients} clients on {day.isoformat()}")
        self.stdout.write(f"Every client's stored figures, status and classes match a full recompute on {day.isoformat()}.")


def _shown(value) -> str:
    return "(empty)" if value is None or value == "" else str(value)
