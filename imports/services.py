"""Importing clients and purchases from a spreadsheet.

`import_analyse` reads every row of a table (parses, validates, matches existing clients) and
writes nothing; `import_apply` writes what an analysis found in one transaction, then brings the
touched clients' figures, statuses and colours up to date. The web flow (upload → preview →
confirm, in the background) and the `import_clients` / `import_purchases` commands share them.

Matching: a row is an existing client when its reference, else its tax id (letters and digits,
upper case), else its e-mail (lower case) is that client's. Existing clients are never
overwritten: a clients file only fills their empty fields. A purchase already recorded for the
same client, date and amount is not recorded again (counted: two identical purchases in the file
are two purchases the first time, none the second), so importing a file twice creates nothing.
"""

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from audit.services import Action, Subject, as_text
from clients.catalogue import products_create_missing
from clients.currency import is_business
from clients.identifiers import country_code, tax_id_error, tax_id_normal
from clients.models import (
    UNIT_PRICE_MAX,
    Client,
    Product,
    Purchase,
    PurchaseLine,
    client_total_error,
    not_in_trash,
)
from clients.phones import e164
from clients.recommendations import recommendations_mark
from clients.text import fold, phone_key, tax_key
from core import events
from core.bulk import default_values, rows_insert, values_insert
from core.money import cents
from core.sql import in_list, lookup_chunks
from imports.currencies import rows_convert
from imports.spreadsheets import Table, map_headers, parse_date, parse_decimal
from segmentation import records
from segmentation.ideal import fit_refresh_clients
from segmentation.ideal_fit import COLUMNS as FIT_COLUMNS
from segmentation.ideal_fit import criteria_weights, fitter
from segmentation.models import StatusChange
from segmentation.services import lifecycle_recompute_clients

LOOKUP_CHUNK = 900  # values per IN (...) query, under SQLite's variable limit on any version
COPY_BATCH = 10_000  # purchases per write, and per step of the progress bar
MAX_AMOUNT_DIGITS = 10  # before the decimal mark: Purchase.amount is 12 digits with 2 decimals
MAX_QUANTITY_DIGITS = 7
NEW_PRODUCTS_SHOWN = 5  # names of the new products the preview lists


class Kind(models.TextChoices):
    CLIENTS = "clients", gettext_lazy("Clients")
    PURCHASES = "purchases", gettext_lazy("Purchases")


CLIENT_FIELDS = [
    "client_ref", "first_name", "last_name", "company_name", "tax_id", "email", "phone",
    "address", "city", "region", "postal_code", "country", "sector",
]
PURCHASE_FIELDS = [
    "client_ref", "tax_id", "email", "company_name", "first_name", "last_name", "date", "amount", "quantity", "product",
    "currency", "exchange_rate",
]
NAME_FIELDS = ["first_name", "last_name", "company_name"]
KEY_FIELDS = ["client_ref", "tax_id", "email"]  # in matching order

DEFAULT_COUNTRY = Client._meta.get_field("country").default  # of a row that names none


def fields_for(kind: str) -> list[str]:
    return CLIENT_FIELDS if kind == Kind.CLIENTS else PURCHASE_FIELDS


def field_label(name: str) -> str:
    if name in ("date", "amount"):
        return {"date": _("Purchase date"), "amount": _("Amount")}[name]
    if name == "quantity":
        return str(PurchaseLine._meta.get_field("quantity").verbose_name).capitalize()
    if name == "product":
        return str(PurchaseLine._meta.get_field("product").verbose_name).capitalize()
    if name in ("currency", "exchange_rate"):
        return str(Purchase._meta.get_field(name).verbose_name).capitalize()
    return str(Client._meta.get_field(name).verbose_name).capitalize()


def mapping_problems(kind: str, mapping: dict[str, int]) -> list[str]:
    """What the mapping lacks for the file to be importable at all."""
    problems = []
    if kind == Kind.CLIENTS:
        if not any(name in mapping for name in NAME_FIELDS):
            problems.append(_("No column is a first name, last name or company name."))
    else:
        for name in ("date", "amount"):
            if name not in mapping:
                problems.append(_("No column is mapped to “%(field)s”.") % {"field": field_label(name)})
        if not any(name in mapping for name in KEY_FIELDS):
            problems.append(_("No column identifies the client (reference, tax id or e-mail)."))
    return problems


def proposed_mapping(kind: str, table: Table) -> dict[str, int]:
    return map_headers(table.headers, fields_for(kind))


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str  # the file's header of the column at fault ("" for the row as a whole)
    value: str
    message: str

    def as_list(self) -> list:
        return [self.line, self.column, self.value, self.message]


@dataclass(slots=True)
class NewClient:
    line: int
    values: dict[str, str]


@dataclass(slots=True)
class PurchaseRow:
    line: int
    client: int | str  # an existing client's id, or the key of a client this import creates
    date: dt.date
    amount: Decimal
    quantity: Decimal | None
    product_id: int | None
    new_product: str = ""  # the folded name of a product this import creates
    currency: str = ""  # what was paid, in which currency, at which rate (imports/currencies.py)
    paid: Decimal | None = None
    exchange_rate: Decimal | None = None


@dataclass
class Analysis:
    kind: str
    rows: int = 0
    problems: list[str] = field(default_factory=list)  # the file as a whole cannot be imported
    errors: list[RowError] = field(default_factory=list)
    # Imported all the same: a wrong tax id or phone of a client already held (its data is not overwritten).
    warnings: list[RowError] = field(default_factory=list)
    new_clients: dict[str, NewClient] = field(default_factory=dict)  # by matching key
    client_updates: dict[int, dict[str, str]] = field(default_factory=dict)  # empty fields to fill
    matched: set[int] = field(default_factory=set)
    purchases: list[PurchaseRow] = field(default_factory=list)
    already_imported: int = 0
    needs_owner: bool = False  # new clients and nobody chosen to own them
    new_products: dict[str, str] = field(default_factory=dict)  # folded name → the file's first spelling

    @property
    def bad_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})

    @property
    def importable(self) -> bool:
        return not self.problems

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "bad_rows": len(self.bad_lines),
            "errors": len(self.errors),
            "clients_created": len(self.new_clients),
            "clients_matched": len(self.matched),
            "clients_completed": len(self.client_updates),
            "purchases_created": len(self.purchases),
            "already_imported": self.already_imported,
            "products_created": len(self.new_products),
            "new_products": sorted(self.new_products.values(), key=fold)[:NEW_PRODUCTS_SHOWN],
        }


@dataclass(slots=True)  # one per row of a file of up to IMPORT_MAX_ROWS: no __dict__ each
class _Row:
    line: int
    cells: dict[str, str]  # field → stripped text of its column
    errors: list[RowError] = field(default_factory=list)
    # Tax id or phone that does not pass its country's check: a row error for a client this import
    # creates, a warning for one already held (decided once the row is matched: `settle`).
    doubtful: dict[str, RowError] = field(default_factory=dict)
    warnings: list[RowError] = field(default_factory=list)

    def error(self, name: str, headers: dict[str, str], message: str) -> None:
        self.errors.append(RowError(self.line, headers.get(name, ""), str(self.cells.get(name, "")), message))

    def settle(self, *, held: bool) -> None:
        """A doubtful value of a client already held is not written (a warning); of a new one, an error."""
        (self.warnings if held else self.errors).extend(self.doubtful.values())
        if held:
            for name in self.doubtful:
                self.cells[name] = ""


def import_analyse(
    table: Table, kind: str, mapping: dict[str, int], *, visible: models.QuerySet | None,
    owner_chosen: bool = True, create_missing_clients: bool = False, create_missing_products: bool = False,
    today: dt.date | None = None, progress: Callable[[int], None] | None = None,
) -> Analysis:
    """Every row parsed, checked and matched against the clients in `visible`; nothing written.

    `visible` is what the importer may see (None: every client, for the commands): a row matching
    a client outside it is an error, never a silent update or a duplicate in another portfolio.
    A product not in the catalogue (by folded name) is counted in `new_products`; it is a row
    error unless `create_missing_products`, and then import_apply creates it.
    """
    analysis = Analysis(kind=kind, rows=len(table.rows), problems=mapping_problems(kind, mapping))
    if analysis.problems:
        return analysis
    headers = {name: table.headers[index] for name, index in mapping.items()}
    rows = []
    for line, values in table.rows:
        cells = {name: (values[index] if index < len(values) else "") for name, index in mapping.items()}
        rows.append(_Row(line, cells))
    today = today or timezone.localdate()
    for row in rows:
        _check_common(row, headers)
        if kind == Kind.PURCHASES:
            _check_purchase(row, headers, today)
        elif not any(row.cells.get(name) for name in NAME_FIELDS):
            row.errors.append(RowError(row.line, "", "", _("A client needs a first name, a last name or a company name.")))
    if kind == Kind.PURCHASES:
        rows_convert(rows, headers)
    if progress:
        progress(len(rows) // 2)
    matches = _matches(rows, visible)
    if kind == Kind.CLIENTS:
        _plan_clients(analysis, rows, headers, matches)
    else:
        _plan_purchases(analysis, rows, headers, matches, create_missing_clients, create_missing_products)
    if analysis.new_clients and not owner_chosen:
        analysis.needs_owner = True
        analysis.problems.append(_("Choose the salesperson who will own the new clients."))
    for row in rows:
        analysis.errors.extend(row.errors)
        analysis.warnings.extend(row.warnings)
    if progress:
        progress(len(rows))
    return analysis


def _check_common(row: _Row, headers: dict[str, str]) -> None:
    """Lengths, the e-mail, the country, the tax id and the phone (by the row's country, in their
    normal form when valid): the checks of every client field in either kind."""
    cells = row.cells
    if cells.get("email"):
        cells["email"] = cells["email"].lower()
        try:
            validate_email(cells["email"])
        except ValidationError:
            row.error("email", headers, _("This is not a valid e-mail address."))
    if cells.get("country"):
        if code := country_code(cells["country"]):
            cells["country"] = code
        else:
            row.error("country", headers, _("Unknown country: write its name (España, Portugal, Brasil…) or its code (ES, PT, BR…)."))
            return
    _check_identifiers(row, headers)
    for name, value in cells.items():
        if name in ("date", "amount", "quantity", "product", "country", "currency", "exchange_rate"):
            continue
        limit = Client._meta.get_field(name).max_length
        if len(value) > limit:
            row.error(name, headers, _("Longer than %(limit)d characters.") % {"limit": limit})


def _check_identifiers(row: _Row, headers: dict[str, str]) -> None:
    cells = row.cells
    country = cells.get("country") or DEFAULT_COUNTRY
    if cells.get("tax_id"):
        if normal := tax_id_normal(cells["tax_id"], country):
            cells["tax_id"] = normal  # its match key is then the stored clients' one
        else:
            row.doubtful["tax_id"] = RowError(row.line, headers.get("tax_id", ""), cells["tax_id"], tax_id_error(country))
    if cells.get("phone"):
        if number := e164(cells["phone"], country):
            cells["phone"] = number
        else:
            row.doubtful["phone"] = RowError(row.line, headers.get("phone", ""), cells["phone"], _("This cannot be a phone number: write it with its area code, or with + and the country code."))


def _check_purchase(row: _Row, headers: dict[str, str], today: dt.date) -> None:
    cells = row.cells
    try:
        date = parse_date(cells["date"])
        if date > today:
            row.error("date", headers, _("The date is in the future."))
        elif date.year < 1900:
            row.error("date", headers, _("The date is before 1900."))
        cells["date"] = date
    except ValueError as error:
        row.error("date", headers, str(error) if cells["date"] else _("The date is empty."))
    try:
        amount = parse_decimal(cells["amount"])
        if amount < 0:
            row.error("amount", headers, _("The amount is negative."))
        elif _too_precise(amount, places=2, digits=MAX_AMOUNT_DIGITS):
            row.error("amount", headers, _("Use at most 2 decimals and %(digits)d digits before them.") % {"digits": MAX_AMOUNT_DIGITS})
        cells["amount"] = amount
    except ValueError as error:
        row.error("amount", headers, str(error) if cells["amount"] else _("The amount is empty."))
    if cells.get("quantity"):
        try:
            quantity = parse_decimal(cells["quantity"])
            if quantity <= 0:
                row.error("quantity", headers, _("The quantity must be more than zero."))
            elif _too_precise(quantity, places=3, digits=MAX_QUANTITY_DIGITS):
                row.error("quantity", headers, _("Use at most 3 decimals and %(digits)d digits before them.") % {"digits": MAX_QUANTITY_DIGITS})
            cells["quantity"] = quantity
        except ValueError as error:
            row.error("quantity", headers, str(error))
    amount, quantity = cells.get("amount"), cells.get("quantity")
    if not row.errors and isinstance(quantity, Decimal) and amount / quantity > UNIT_PRICE_MAX:
        # The line's unit price is the amount over the quantity: it must fit its column too.
        row.error("quantity", headers, _("The amount over this quantity gives a unit price above %(max)s.") % {
            "max": formats.number_format(UNIT_PRICE_MAX, 2, use_l10n=True, force_grouping=True),
        })
    if not _keys(cells):
        row.errors.append(RowError(row.line, "", "", _("The row has no client reference, tax id or e-mail.")))


def _too_precise(value: Decimal, *, places: int, digits: int) -> bool:
    """More decimals than `places` (trailing zeros aside), or more than `digits` before the mark."""
    decimals = max(0, -value.normalize().as_tuple().exponent)
    whole = abs(int(value))
    return decimals > places or (len(str(whole)) if whole else 0) > digits


def _keys(cells: dict[str, str]) -> list[tuple[str, str]]:
    """(field, normalised value) for the row's non-empty keys, in matching order."""
    keys = []
    if cells.get("client_ref"):
        keys.append(("client_ref", cells["client_ref"]))
    if cells.get("tax_id") and (key := tax_key(cells["tax_id"])):
        keys.append(("tax_id", key))
    if cells.get("email"):
        keys.append(("email", cells["email"].lower()))
    return keys


_COLUMN = {"client_ref": "client_ref", "tax_id": "tax_key", "email": "email"}
VISIBLE, HIDDEN, TRASHED = "visible", "hidden", "trashed"  # what a matching client is to the importer


def _matches(rows: list[_Row], visible: models.QuerySet | None) -> dict[tuple[str, str], tuple[int, str]]:
    """{(field, key): (client id, VISIBLE / HIDDEN / TRASHED)} for every key of the rows found in the base."""
    wanted: dict[str, set[str]] = {name: set() for name in KEY_FIELDS}
    for row in rows:
        if not row.errors:
            for name, key in _keys(row.cells):
                wanted[name].add(key)
    found: dict[tuple[str, str], int] = {}
    with connection.cursor() as cursor:
        for name, keys in wanted.items():
            column = _COLUMN[name]
            for condition, params in in_list(column, sorted(keys)):
                # The oldest client wins when a tax id or an e-mail is on several (decided here: an
                # ORDER BY id would lead PostgreSQL to walk the primary key instead of the key's index).
                # "<> ''" lets PostgreSQL use the partial indexes (reference, tax key) with a long list.
                # A client merged into another is not a match: its survivor, which holds its keys, is.
                cursor.execute(
                    f"SELECT {column}, id FROM {CLIENT_TABLE} "  # noqa: S608 - constant names, values as parameters
                    f"WHERE {condition} AND merged_into_id IS NULL AND {column} <> ''",
                    params,
                )
                for key, pk in cursor.fetchall():
                    found[(name, key)] = min(pk, found.get((name, key), pk))
    ids = sorted(set(found.values()))
    seen, trashed = set(), set()
    for chunk in lookup_chunks(ids):
        trashed.update(Client.objects.filter(pk__in=chunk).exclude(not_in_trash()).values_list("pk", flat=True))
        if visible is not None:
            seen.update(visible.filter(pk__in=chunk).values_list("pk", flat=True))
    if visible is None:
        seen = set(ids) - trashed
    return {key: (pk, VISIBLE if pk in seen else TRASHED if pk in trashed else HIDDEN) for key, pk in found.items()}


def _match(row: _Row, headers: dict[str, str], matches) -> int | None:
    """The existing client of the row (an error if the importer cannot see it, or it is in the trash)."""
    for name, key in _keys(row.cells):
        if (name, key) in matches:
            pk, state = matches[(name, key)]
            if state == TRASHED:
                row.error(name, headers, _("This client is in the trash: restore it before importing."))
                return None
            if state == HIDDEN:
                row.error(name, headers, _("A client in another salesperson's portfolio already has this value."))
                return None
            return pk
    return None


def _plan_clients(analysis: Analysis, rows: list[_Row], headers: dict[str, str], matches) -> None:
    fillable = [name for name in CLIENT_FIELDS if name in headers and name != "country"]
    matched_values: dict[int, dict[str, str]] = {}
    matched_rows: dict[int, _Row] = {}
    first_line: dict[tuple[str, str], int] = {}  # keys of the clients this file creates → their row
    for row in rows:
        if row.errors:
            continue
        pk = _match(row, headers, matches)
        if row.errors:
            continue
        row.settle(held=pk is not None)
        if row.errors:
            continue
        if pk is not None:
            analysis.matched.add(pk)
            matched_rows.setdefault(pk, row)
            matched_values.setdefault(pk, {}).update({k: v for k, v in row.cells.items() if v and k in fillable})
            continue
        keys = _keys(row.cells)
        earlier = next((first_line[key] for key in keys if key in first_line), None)
        if earlier is not None:
            row.errors.append(RowError(row.line, "", "", _("The same client as row %(line)d.") % {"line": earlier}))
            continue
        for key in keys:
            first_line[key] = row.line
        analysis.new_clients[f"line:{row.line}"] = NewClient(row.line, row.cells)
    # A reference is unique: never given to a second client (one in the base or created here).
    claimed = {key for name, key in matches if name == "client_ref"} | {
        new.values["client_ref"] for new in analysis.new_clients.values() if new.values.get("client_ref")
    }
    ids = sorted(matched_values)
    for chunk in lookup_chunks(ids):
        for current in Client.objects.filter(pk__in=chunk).values("pk", *{*fillable, "tax_id", "country"}):
            _warn_held_tax_id(matched_rows[current["pk"]], headers, current["tax_id"], current["country"])
            blanks = {name: value for name, value in matched_values[current["pk"]].items() if not current[name]}
            if "client_ref" in blanks:
                if blanks["client_ref"] in claimed:
                    del blanks["client_ref"]
                else:
                    claimed.add(blanks["client_ref"])
            if blanks:
                analysis.client_updates[current["pk"]] = blanks


def _warn_held_tax_id(row: _Row, headers: dict[str, str], tax_id: str, country: str) -> None:
    """A client already held whose tax id does not pass its country's check: imported, and said."""
    if tax_id and "tax_id" not in row.doubtful and tax_id_normal(tax_id, country) is None:
        message = _("The tax id on file for this client is wrong: %(reason)s") % {"reason": tax_id_error(country)}
        row.warnings.append(RowError(row.line, headers.get("tax_id", ""), tax_id, message))


def _plan_purchases(
    analysis: Analysis, rows: list[_Row], headers: dict[str, str], matches, create_missing: bool, create_products: bool,
) -> None:
    products = {}
    if "product" in headers:
        wanted = {fold(row.cells["product"]) for row in rows if row.cells.get("product")}
        products = {fold(name): pk for pk, name in Product.objects.values_list("pk", "name") if fold(name) in wanted}
    name_limit = Product._meta.get_field("name").max_length
    pending = []
    for row in rows:
        if row.errors:
            continue
        pk = _match(row, headers, matches)
        product_id, new_product = None, ""
        if row.cells.get("product"):
            product_id = products.get(fold(row.cells["product"]))
            if product_id is None and len(row.cells["product"]) > name_limit:
                row.error("product", headers, _("Longer than %(limit)d characters.") % {"limit": name_limit})
            elif product_id is None:
                new_product = fold(row.cells["product"])
                if not row.errors:
                    analysis.new_products.setdefault(new_product, " ".join(row.cells["product"].split()))
                if not create_products:
                    row.error("product", headers, _("No product with this name in the catalogue (leave the column out to import the amounts alone)."))
        if row.errors:
            continue
        if pk is None:
            name, key = _keys(row.cells)[0]
            if not create_missing:
                row.error(name, headers, _("No client has this value (the option to create missing clients is off)."))
                continue
            row.settle(held=False)
            if row.errors:
                continue
            new_key = f"{name}:{key}"
            if new_key not in analysis.new_clients:
                values = {k: v for k, v in row.cells.items() if k in CLIENT_FIELDS and v}
                if not any(values.get(k) for k in NAME_FIELDS):
                    values["company_name"] = row.cells[name]
                analysis.new_clients[new_key] = NewClient(row.line, values)
            pk = new_key
        else:
            analysis.matched.add(pk)
        quantity = row.cells.get("quantity") or None
        pending.append(PurchaseRow(
            row.line, pk, row.cells["date"], row.cells["amount"], quantity if product_id or new_product else None,
            product_id, new_product, row.cells["currency"], row.cells["paid"], row.cells["exchange_rate"],
        ))
    recorded = _recorded(pending)
    for purchase in pending:
        key = (purchase.client, purchase.date, purchase.amount)
        if recorded[key] > 0:
            recorded[key] -= 1
            analysis.already_imported += 1
        else:
            analysis.purchases.append(purchase)
    _check_client_totals(analysis, rows, headers)


def _check_client_totals(analysis: Analysis, rows: list[_Row], headers: dict[str, str]) -> None:
    """A row that would take its client's purchases past what the client's figures hold is a row
    error (the figures are recomputed from all the purchases after the import)."""
    ids = sorted({p.client for p in analysis.purchases if isinstance(p.client, int)})
    totals: dict[int | str, Decimal] = {}
    for chunk in lookup_chunks(ids):
        totals.update(Client.objects.filter(pk__in=chunk).values_list("pk", "total_spent"))
    by_line = {row.line: row for row in rows}
    kept = []
    for purchase in analysis.purchases:
        recorded = totals.get(purchase.client, Decimal("0"))
        if message := client_total_error(recorded, purchase.amount):
            by_line[purchase.line].error("amount", headers, message)
            continue
        totals[purchase.client] = recorded + purchase.amount
        kept.append(purchase)
    analysis.purchases = kept


def _recorded(pending: list[PurchaseRow]) -> Counter:
    """How many purchases each (client, date, amount) of the file already has."""
    recorded: Counter = Counter()
    existing = [p for p in pending if isinstance(p.client, int)]
    if not existing:
        return recorded
    ids = sorted({p.client for p in existing})
    first, last = min(p.date for p in existing), max(p.date for p in existing)
    for chunk in lookup_chunks(ids):
        rows = Purchase.objects.filter(client_id__in=chunk, date__range=(first, last))
        recorded.update(rows.values_list("client_id", "date", "amount").order_by())
    return recorded


@dataclass
class ImportResult:
    clients_created: int
    clients_completed: int
    purchases_created: int
    status_changes: int
    client_ids: list[int]


def import_apply(
    analysis: Analysis, *, owner, created_by=None, progress: Callable[[int], None] | None = None,
    product_category: str = "",
) -> ImportResult:
    """Writes the analysis's valid rows, all in one transaction, then recomputes those clients:
    the set-based twin of client_create and purchase_record (segmentation/records.py), with the
    same audit entries and the same figures.

    The caller decides whether rows with errors may be left out (`analysis.errors` empty or
    "only the valid rows" chosen); rows with errors are never written. The products the valid
    rows name and the catalogue lacks are created first, in `product_category` (by default
    "Imported products" in the active language), through the catalogue's bulk write.

    The rows are written as plain values (core.bulk.values_insert: COPY on PostgreSQL), their
    audit entries with them, and no model instance per row; the touched clients are then
    refreshed in one engine pass (lifecycle_recompute_clients).
    """
    assert analysis.importable, analysis.problems
    counter = _Progress(progress)
    user_id = created_by.pk if created_by is not None else None
    with transaction.atomic():
        now = timezone.now()  # one time for every row
        created = _clients_create(analysis.new_clients, owner, user_id=user_id, now=now)
        counter.add(len(created))
        completed = _clients_complete(analysis.client_updates)
        with connection.cursor() as cursor:  # a sector filled in moves their peers: their room to grow
            recommendations_mark(cursor, [client.pk for client in completed])
        _audit_completed(completed, analysis.client_updates, user=created_by)
        # Those completed (a sector, a city filled in) fit the profile anew (the new ones are written with their fit).
        fit_refresh_clients([client.pk for client in completed])
        new_products = _products_create(analysis, product_category)
        purchase_clients, recorded = _purchases_create(analysis.purchases, created, new_products, user_id, counter, now)
        touched = sorted(set(created.values()) | purchase_clients)
        changes = 0
        # A new client without purchases is written as a prospect with no figures and no colour,
        # what a recompute gives it (a file has no closing date, follow-up or interaction to change
        # that): only the clients with purchases are recomputed. The night still recommends to
        # every new one (room to grow among its sector's peers).
        if purchase_clients:
            changes = lifecycle_recompute_clients(client_ids=sorted(purchase_clients), cause=StatusChange.Cause.IMPORT)["status_changes"]
        if without_purchases := sorted(set(created.values()) - purchase_clients):
            with connection.cursor() as cursor:
                recommendations_mark(cursor, without_purchases)
        _purchases_announce(recorded)
    return ImportResult(len(created), len(analysis.client_updates), len(analysis.purchases), changes, touched)


@dataclass
class _Progress:
    report: Callable[[int], None] | None
    done: int = 0

    def add(self, rows: int) -> None:
        self.done += rows
        if self.report:
            self.report(self.done)


CLIENT_TABLE = Client._meta.db_table
CLIENT_COLUMNS = [field.attname for field in Client._meta.concrete_fields if not field.primary_key]
AUDIT_COLUMNS = ["at", "user_id", "client_id", "subject", "object_id", "action", "changes", "version"]
PURCHASE_COLUMNS = [
    "client_id", "date", "amount", "currency", "original_amount", "exchange_rate", "created_by_id", "created_at",
    "payment_method", "channel", "notes", "idempotency_key",
]
LINE_COLUMNS = ["purchase_id", "product_id", "quantity", "unit_price", "discount"]


@functools.cache
def _country_text(code: str) -> str:
    """A country code as the audit history keeps it (through the field, as a client's snapshot)."""
    return as_text(Client(country=code).country)


def _clients_create(new_clients: dict[str, NewClient], owner, *, user_id, now) -> dict[str, int]:
    """The new clients and their creation entries (client_created_entry's), from plain values:
    the defaults of a new client once, each row's fields and search keys (refresh_search_fields')
    over them, and their fit to the ideal profile. Returns their ids by matching key."""
    if not new_clients:
        return {}
    template = Client(owner=owner)
    base = default_values(Client, CLIENT_COLUMNS, now=now, owner=owner)
    at = {name: index for index, name in enumerate(CLIENT_COLUMNS)}
    # The history's defaults: every audited field a row cannot set, as a new client holds it.
    defaults = records.client_created_entry(template, by=None).changes
    audited = [(name, name in CLIENT_FIELDS, defaults.get(name, ["", ""])[1]) for name in records.CLIENT_SCALAR_FIELDS]
    fit, fit_columns = fitter(criteria_weights()), ("company_name", *FIT_COLUMNS.values())
    rows, texts = [], []
    folded: dict[str, str] = {}  # the search text folds each value once (a city, a surname recur)

    def fold_once(value: str) -> str:
        if (text := folded.get(value)) is None:
            text = folded[value] = fold(value)
        return text

    for new in new_clients.values():
        values = {name: new.values[name] if name in new.values else base[at[name]] for name in CLIENT_FIELDS}
        values["email"] = values["email"].strip().lower()
        first, last, company = values["first_name"], values["last_name"], values["company_name"]
        row = base.copy()
        for name, value in values.items():
            row[at[name]] = value
        # refresh_search_fields' fold of the values joined: their folds joined (the space between two
        # values is where folding collapses spaces anyway), each distinct value folded once.
        parts = (first, last, company, values["email"], values["tax_id"], values["client_ref"], values["city"])
        row[at["search_text"]] = " ".join(text for part in parts if (text := fold_once(part)))
        row[at["sort_name"]] = fold(Client.name_shown(first, last, company))[:255]
        row[at["phone_key"]] = phone_key(values["phone"])
        row[at["tax_key"]] = tax_key(values["tax_id"])
        row[at["icp_fit"]] = fit({name: row[at[name]] for name in fit_columns})
        rows.append(row)
        values["country"] = _country_text(values["country"]) if values["country"] else ""
        texts.append({name: ["", text] for name, per_row, default in audited if (text := values[name] if per_row else default)})
    ids = values_insert(Client, CLIENT_COLUMNS, rows)
    version, action, subject = base[at["version"]], Action.CREATE.value, Subject.CLIENT.value
    stamp = connection.ops.adapt_datetimefield_value(now)
    values_insert(AuditEntry, AUDIT_COLUMNS, [
        (stamp, user_id, pk, subject, pk, action, json.dumps(changes), version) for pk, changes in zip(ids, texts, strict=True)
    ])
    return dict(zip(new_clients, ids, strict=True))


def _products_create(analysis: Analysis, category: str) -> dict[str, int]:
    names = sorted({row.new_product for row in analysis.purchases if row.new_product})
    if not names:
        return {}
    category = category or settings.IMPORT_PRODUCT_CATEGORY or _("Imported products")
    return products_create_missing(names=[analysis.new_products[name] for name in names], category_name=category)


def _purchases_create(
    rows: list[PurchaseRow], created: dict[str, int], new_products: dict[str, int], user_id, counter: _Progress, now,
) -> tuple[set[int], list[dict]]:
    """The purchases, their lines and their creation entries (purchase_created_entry's), from
    plain values; returns the ids of their clients and what other systems are told of each
    purchase (records.purchase_event_data's, the client's reference still to fill in)."""
    business, stamp = settings.CURRENCY, connection.ops.adapt_datetimefield_value(now)
    values, entries = [], []
    for row in rows:
        client_id = created[row.client] if isinstance(row.client, str) else row.client
        amount, currency = cents(row.amount), row.currency or business
        paid, rate = cents(row.amount if row.paid is None else row.paid), row.exchange_rate or 1
        values.append((client_id, row.date, amount, currency, paid, rate, user_id, stamp, "", "", "", None))
        # The audit entry's changes as purchase_snapshot gives them (payment method, channel and notes empty).
        changes = {"date": ["", row.date.isoformat()], "amount": ["", f"{amount:f}"], "currency": ["", currency]}
        if not is_business(currency):
            changes["original_amount"] = ["", f"{paid:f}"]
            changes["exchange_rate"] = ["", as_text(rate)]
        entries.append((client_id, json.dumps(changes)))
    ids: list[int] = []
    for start in range(0, len(values), COPY_BATCH):
        ids += values_insert(Purchase, PURCHASE_COLUMNS, values[start:start + COPY_BATCH])
        counter.add(len(values[start:start + COPY_BATCH]))
    quantity_one, discount = Decimal("1"), Decimal("0")
    values_insert(PurchaseLine, LINE_COLUMNS, [
        (
            pk, row.product_id or new_products[row.new_product], row.quantity or quantity_one,
            PurchaseLine.unit_price_for(row.amount if row.paid is None else row.paid, row.quantity or quantity_one),
            discount,
        )
        for pk, row in zip(ids, rows, strict=True)
        if row.product_id or row.new_product
    ])
    subject, action = Subject.PURCHASE.value, Action.CREATE.value
    values_insert(AuditEntry, AUDIT_COLUMNS, [
        (stamp, user_id, client_id, subject, pk, action, changes, None)
        for pk, (client_id, changes) in zip(ids, entries, strict=True)
    ])
    recorded = [
        {
            "purchase": {
                "id": pk, "date": row.date.isoformat(), "amount": str(value[2]), "currency": business,
                "paid_amount": str(value[4]), "paid_currency": value[3], "channel": "", "payment_method": "",
            },
            "client": {"id": value[0], "ref": ""},
        }
        for pk, row, value in zip(ids, rows, values, strict=True)
    ]
    return {client_id for client_id, _changes in entries}, recorded


def _purchases_announce(recorded: list[dict]) -> None:
    """Tells other systems of each purchase written (core.events.PURCHASE_RECORDED, as
    purchase_record does), with the clients' references read a chunk at a time."""
    if not recorded:
        return
    ids = sorted({data["client"]["id"] for data in recorded})
    refs: dict[int, str] = {}
    for chunk in lookup_chunks(ids):
        refs.update(Client.objects.filter(pk__in=chunk).values_list("pk", "client_ref"))
    for data in recorded:
        data["client"]["ref"] = refs.get(data["client"]["id"], "")
    events.emit_many(events.PURCHASE_RECORDED, recorded)


def _audit_completed(completed: list[Client], updates: dict, *, user) -> None:
    """Each client completed, with the fields it filled, in the audit history (as client_update's)."""
    rows_insert(AuditEntry, [
        AuditEntry(
            user=user, client_id=client.pk, subject=AuditEntry.Subject.CLIENT, object_id=client.pk,
            action=AuditEntry.Action.UPDATE, changes={name: ["", value] for name, value in updates[client.pk].items()},
            version=client.version,
        )
        for client in completed
    ])


def _clients_complete(updates: dict[int, dict[str, str]]) -> list[Client]:
    """Fills the empty fields the file gives (never overwrites); returns the clients completed."""
    done: list[Client] = []
    if not updates:
        return done
    names = sorted({name for values in updates.values() for name in values})
    ids = sorted(updates)
    for start in range(0, len(ids), LOOKUP_CHUNK):
        clients = list(Client.objects.filter(pk__in=ids[start:start + LOOKUP_CHUNK]))
        for client in clients:
            for name, value in updates[client.pk].items():
                setattr(client, name, value)
            client.refresh_search_fields()
            client.version += 1  # a form opened before the import is refused, not saved over it
        Client.objects.bulk_update(clients, [*names, "search_text", "sort_name", "phone_key", "tax_key", "email", "version"])
        done += clients
    return done
