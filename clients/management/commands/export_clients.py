"""Exports every client with its computed figures to a UTF-8 CSV (codes, ISO dates, dot decimals).

The figures (status, 12-month spend, classes…) are those of the last lifecycle recompute, which
evaluated them on a day of its own (`recompute_lifecycle --as-of`). The export states that day in
its `evaluated_on` column and counts days_since_last_purchase to it, so that a row agrees with
itself: a client "active" on that day is not shown as 400 days without a purchase. Rows are read in
chunks and written as they come: memory stays flat whatever the number of clients.
"""

import csv
import datetime as dt
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clients.exports import neutralise
from clients.models import Client
from segmentation.models import DailySnapshot

HEADER = [
    "client_ref", "first_name", "last_name", "company_name", "email", "owner", "status", "first_purchase_date",
    "last_purchase_date", "days_since_last_purchase", "purchase_count", "total_spent", "spend_12m", "average_basket",
    "volume_tier", "frequency_class", "rfm_segment", "alert", "evaluated_on",
]
# Typed by people: a leading = + - @ tab or CR would run as a formula in a spreadsheet.
FREE_TEXT = {"client_ref", "first_name", "last_name", "company_name", "email", "owner"}
CHUNK_SIZE = 2000


def last_evaluation_day() -> dt.date | None:
    """The day the last full recompute evaluated the figures on: each run replaces its day's
    snapshot rows (segmentation.snapshots), so the newest row carries that day."""
    return DailySnapshot.objects.order_by("-id").values_list("date", flat=True).first()


def client_row(client: Client, as_of: dt.date) -> list[str]:
    last = client.last_purchase_date
    values = {
        "client_ref": client.client_ref, "first_name": client.first_name, "last_name": client.last_name,
        "company_name": client.company_name, "email": client.email, "owner": client.owner.username,
        "status": client.status,
        "first_purchase_date": client.first_purchase_date.isoformat() if client.first_purchase_date else "",
        "last_purchase_date": last.isoformat() if last else "",
        "days_since_last_purchase": str((as_of - last).days) if last else "",
        "purchase_count": str(client.purchase_count), "total_spent": f"{client.total_spent:.2f}",
        "spend_12m": f"{client.spend_12m:.2f}", "average_basket": f"{client.average_basket:.2f}",
        "volume_tier": client.volume_tier, "frequency_class": client.frequency_class,
        "rfm_segment": client.rfm_segment, "alert": client.alert, "evaluated_on": as_of.isoformat(),
    }
    return [neutralise(values[name]) if name in FREE_TEXT else values[name] for name in HEADER]


class Command(BaseCommand):
    help = "Exports every client and its computed figures as CSV (UTF-8), streamed."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument(
            "--as-of", help="day the figures are evaluated on, YYYY-MM-DD (default: the last recompute's, else today)",
        )

    def handle(self, *args, output: str | None = None, as_of: str | None = None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else last_evaluation_day() or timezone.localdate()
        except ValueError as error:
            raise CommandError(f"--as-of must be a date as YYYY-MM-DD: {error}") from error
        # The trash (and merged-away clients, which sit there) is hidden from every export.
        clients = Client.objects.not_in_trash().select_related("owner").order_by("id").iterator(chunk_size=CHUNK_SIZE)
        count = 0
        target = open(output, "w", encoding="utf-8", newline="") if output else nullcontext(self.stdout)
        with target as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(HEADER)
            for client in clients:
                writer.writerow(client_row(client, day))
                count += 1
        if output:
            self.stderr.write(f"{count} clients written to {output} (figures evaluated on {day.isoformat()})")
