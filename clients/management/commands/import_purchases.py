"""Imports purchases from a CSV: all rows or none, then recomputes the clients they touch.

Columns: client_ref, date (YYYY-MM-DD), amount (dot decimals) and, optionally, quantity and
product (an existing product's exact name; the purchase then gets one line).
"""

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clients.models import Client, Product, Purchase, PurchaseLine

REQUIRED = ["client_ref", "date", "amount"]
OPTIONAL = ["quantity", "product"]
MAX_ERRORS_SHOWN = 50
BATCH_SIZE = 2000
LOOKUP_CHUNK = 900  # ids per IN (...) query, under SQLite's variable limit on any version


@dataclass
class Row:
    line: int
    client_ref: str
    date: dt.date
    amount: Decimal
    quantity: Decimal | None
    product: str


def _decimal(text: str, *, places: int, max_digits: int) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    exponent = value.as_tuple().exponent
    if -exponent > places or len(value.as_tuple().digits) - max(0, -exponent) > max_digits - places:
        raise InvalidOperation
    return value


def parse_row(line: int, record: dict[str, str], today: dt.date) -> tuple[Row | None, list[str]]:
    errors = []
    ref = (record.get("client_ref") or "").strip()
    if not ref:
        errors.append("client_ref is empty")
    date = None
    date_text = (record.get("date") or "").strip()
    try:
        if len(date_text) != 10:  # fromisoformat also takes 20260630 and week dates
            raise ValueError
        date = dt.date.fromisoformat(date_text)
    except ValueError:
        errors.append(f"date {date_text!r} is not a date as YYYY-MM-DD")
    if date is not None and date > today:
        errors.append(f"date {date_text} is in the future")
    amount = None
    try:
        amount = _decimal((record.get("amount") or "").strip(), places=2, max_digits=12)
        if amount < 0:
            errors.append(f"amount {amount} is negative")
    except InvalidOperation:
        errors.append(f"amount {record.get('amount')!r} is not a number with up to 2 decimals and a dot")
    quantity = None
    quantity_text = (record.get("quantity") or "").strip()
    product = (record.get("product") or "").strip()
    if quantity_text:
        try:
            quantity = _decimal(quantity_text, places=3, max_digits=10)
            if quantity <= 0:
                errors.append(f"quantity {quantity} must be positive")
        except InvalidOperation:
            errors.append(f"quantity {quantity_text!r} is not a number with up to 3 decimals and a dot")
        if not product:
            errors.append("quantity needs a product")
    if errors:
        return None, errors
    return Row(line, ref, date, amount, quantity, product), []


class Command(BaseCommand):
    help = "Imports purchases from a CSV (client_ref,date,amount[,quantity,product]); all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="UTF-8 CSV with a header row")
        parser.add_argument(
            "--create-missing-clients", action="store_true",
            help="create a client (named after its reference) for each unknown client_ref",
        )
        parser.add_argument("--owner", help="username of the salesperson who owns the created clients")

    def handle(self, *args, file: str, create_missing_clients: bool = False, owner: str | None = None, **options):
        owner_user = self._owner(owner, create_missing_clients)
        rows, errors = self._read(file)
        refs = sorted({row.client_ref for row in rows})
        clients = self._clients_by_ref(refs)
        products = {p.name: p for p in Product.objects.filter(name__in={row.product for row in rows if row.product})}
        for row in rows:
            if row.client_ref not in clients and not create_missing_clients:
                errors.append(f"line {row.line}: no client with client_ref {row.client_ref!r}")
            if row.product and row.product not in products:
                errors.append(f"line {row.line}: no product named {row.product!r}")
        if errors:
            shown = "\n".join(errors[:MAX_ERRORS_SHOWN])
            more = f"\n… and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
            raise CommandError(f"Nothing imported: {len(errors)} error(s)\n{shown}{more}")
        if not rows:
            self.stdout.write("No purchases in the file; nothing imported.")
            return

        from segmentation.models import StatusChange
        from segmentation.services import lifecycle_recompute_clients

        with transaction.atomic():
            created = self._create_clients([ref for ref in refs if ref not in clients], owner_user)
            clients.update(created)
            purchases = Purchase.objects.bulk_create(
                [Purchase(client_id=clients[row.client_ref], date=row.date, amount=row.amount) for row in rows],
                batch_size=BATCH_SIZE,
            )
            lines = [
                PurchaseLine(
                    purchase=purchase, product=products[row.product], quantity=row.quantity or Decimal("1"),
                    unit_price=(row.amount / (row.quantity or Decimal("1"))).quantize(Decimal("0.01"), ROUND_HALF_UP),
                )
                for purchase, row in zip(purchases, rows, strict=True)
                if row.product
            ]
            PurchaseLine.objects.bulk_create(lines, batch_size=BATCH_SIZE)
            result = lifecycle_recompute_clients(client_ids=sorted(set(clients[ref] for ref in refs)), cause=StatusChange.Cause.IMPORT)
        self.stdout.write(
            f"{len(purchases)} purchases imported for {len(refs)} clients ({len(created)} created); "
            f"{result['status_changes']} status changes"
        )

    def _owner(self, username: str | None, create_missing_clients: bool):
        if not create_missing_clients:
            return None
        if not username:
            raise CommandError("--owner USERNAME is required with --create-missing-clients")
        try:
            return get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No active user {username!r}") from error

    def _read(self, file: str) -> tuple[list[Row], list[str]]:
        today = timezone.localdate()
        rows, errors = [], []
        try:
            with open(file, encoding="utf-8-sig", newline="") as stream:
                reader = csv.DictReader(stream)
                header = [name.strip() for name in reader.fieldnames or []]
                missing = [name for name in REQUIRED if name not in header]
                unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
                if missing or unknown:
                    raise CommandError(
                        f"The header must be {','.join(REQUIRED)}[,{','.join(OPTIONAL)}]; "
                        f"missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'}"
                    )
                reader.fieldnames = header
                for record in reader:
                    line = reader.line_num
                    # Trailing optional cells may be left out; required ones and extra cells may not.
                    if None in record or any(record[name] is None for name in REQUIRED):
                        errors.append(f"line {line}: expected {len(header)} columns")
                        continue
                    record = {name: value or "" for name, value in record.items()}
                    if not any(value.strip() for value in record.values()):
                        continue  # a blank line
                    row, row_errors = parse_row(line, record, today)
                    errors.extend(f"line {line}: {error}" for error in row_errors)
                    if row:
                        rows.append(row)
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {file}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{file} is not UTF-8: {error}") from error
        return rows, errors

    def _clients_by_ref(self, refs: list[str]) -> dict[str, int]:
        found = {}
        for start in range(0, len(refs), LOOKUP_CHUNK):
            found.update(Client.objects.filter(client_ref__in=refs[start:start + LOOKUP_CHUNK]).values_list("client_ref", "id"))
        return found

    def _create_clients(self, refs: list[str], owner) -> dict[str, int]:
        if not refs:
            return {}
        new = [Client(company_name=ref, client_ref=ref, owner=owner) for ref in refs]
        for client in new:
            client.refresh_search_fields()  # bulk_create skips save()
        Client.objects.bulk_create(new, batch_size=BATCH_SIZE)
        return {client.client_ref: client.pk for client in new}
