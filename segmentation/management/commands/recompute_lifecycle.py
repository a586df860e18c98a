import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from clients.models import Status


class Command(BaseCommand):
    help = "Recomputes every client's figures, lifecycle status and classifications (the nightly job)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="evaluation date, YYYY-MM-DD (default: today)")

    def handle(self, *args, as_of: str | None = None, **options):
        from segmentation.nightly import LockHeld, lock_held
        from segmentation.services import lifecycle_recompute

        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError as error:
            raise CommandError(f"--as-of must be a date as YYYY-MM-DD: {error}") from error
        started = time.monotonic()
        try:
            with lock_held():  # the nightly run's lock: two runs at once would record each change twice
                result = lifecycle_recompute(as_of=day)
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
        for code, label in Status.choices:
            self.stdout.write(f"{code:<10} {result['statuses'][code]:>9}  {label}")
        self.stdout.write(
            f"{sum(result['statuses'].values())} clients, {result['rows_changed']} changed, "
            f"{result['status_changes']} status changes in {elapsed:.2f} s"
        )
