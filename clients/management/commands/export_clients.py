"""Exports every client with its computed figures to a UTF-8 CSV (codes, ISO dates, dot decimals)."""

import csv
from contextlib import nullcontext

from django.core.management.base import BaseCommand
from django.utils import timezone

from clients.models import Client

HEADER = [
    "client_ref", "first_name", "last_name", "company_name", "email", "owner", "status", "first_purchase_date",
    "last_purchase_date", "days_since_last_purchase", "purchase_count", "total_spent", "spend_12m", "average_basket",
    "volume_tier", "frequency_class", "rfm_segment", "alert",
]
# Typed by people: a leading = + - @ tab or CR would run as a formula in a spreadsheet.
FREE_TEXT = {"client_ref", "first_name", "last_name", "company_name", "email", "owner"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000


def spreadsheet_safe(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def client_row(client: Client, today) -> list[str]:
    last = client.last_purchase_date
    values = {
        "client_ref": client.client_ref, "first_name": client.first_name, "last_name": client.last_name,
        "company_name": client.company_name, "email": client.email, "owner": client.owner.username,
        "status": client.status,
        "first_purchase_date": client.first_purchase_date.isoformat() if client.first_purchase_date else "",
        "last_purchase_date": last.isoformat() if last else "",
        "days_since_last_purchase": str((today - last).days) if last else "",
        "purchase_count": str(client.purchase_count), "total_spent": f"{client.total_spent:.2f}",
        "spend_12m": f"{client.spend_12m:.2f}", "average_basket": f"{client.average_basket:.2f}",
        "volume_tier": client.volume_tier, "frequency_class": client.frequency_class,
        "rfm_segment": client.rfm_segment, "alert": client.alert,
    }
    return [spreadsheet_safe(values[name]) if name in FREE_TEXT else values[name] for name in HEADER]


class Command(BaseCommand):
    help = "Exports every client and its computed figures as CSV (UTF-8), streamed."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, output: str | None = None, **options):
        today = timezone.localdate()
        clients = Client.objects.select_related("owner").order_by("id").iterator(chunk_size=CHUNK_SIZE)
        count = 0
        target = open(output, "w", encoding="utf-8", newline="") if output else nullcontext(self.stdout)
        with target as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(HEADER)
            for client in clients:
                writer.writerow(client_row(client, today))
                count += 1
        if output:
            self.stderr.write(f"{count} clients written to {output}")
