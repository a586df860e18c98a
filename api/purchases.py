"""Purchases through the API: one at a time through the form's service (segmentation.records.
purchase_record: the client refreshes exactly as after the form), or up to 1,000 at once, checked
row by row with the same rules and written set-based, the clients touched refreshed in one engine
pass (as an import does). Both honour an Idempotency-Key (api.idempotency)."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from accounts.models import User
from api.problems import from_django, from_pydantic
from api.schemas import PurchaseIn
from audit.services import audit_bulk
from clients.currency import business_amount
from clients.models import (
    QUANTITY_MAX,
    UNIT_PRICE_MAX,
    Client,
    Product,
    Purchase,
    PurchaseLine,
    client_total_error,
    purchase_amount_error,
)
from core import events
from core.money import cents
from segmentation import records
from segmentation.models import StatusChange
from segmentation.services import lifecycle_recompute_clients

MAX_BULK = 1000
ROW = TypeAdapter(PurchaseIn)


@dataclass
class Checked:
    """A purchase whose values passed every check, ready for the service or the bulk write."""

    client: Client | None  # bulk: None, the row's client being data.client (one of the user's)
    data: PurchaseIn
    lines: list[records.LineData]
    errors: list[dict] = field(default_factory=list)
    purchase: Purchase | None = None  # bulk: the row to write, once every check passed


def _shape_errors(data: PurchaseIn, today: dt.date) -> list[dict]:
    """The purchase form's rules that do not need the database (clients/purchase_forms.py)."""
    errors = []
    if data.date > today:
        errors.append({"field": "date", "message": _("A purchase cannot be dated in the future.")})
    elif data.date.year < 1900:
        errors.append({"field": "date", "message": _("The date is before 1900.")})
    if data.amount is not None and data.amount < 0:
        errors.append({"field": "amount", "message": _("The amount cannot be negative.")})
    if not data.lines and data.amount is None:
        errors.append({"field": "amount", "message": _("Add a line, or type the amount of a purchase without lines.")})
    for number, line in enumerate(data.lines):
        at = f"lines.{number}"
        if line.quantity <= 0:
            errors.append({"field": f"{at}.quantity", "message": _("The quantity must be more than zero.")})
        elif line.quantity > QUANTITY_MAX:
            errors.append({"field": f"{at}.quantity", "message": _at_most(QUANTITY_MAX)})
        if line.unit_price is not None and line.unit_price < 0:
            errors.append({"field": f"{at}.unit_price", "message": _("The price cannot be negative.")})
        elif line.unit_price is not None and line.unit_price > UNIT_PRICE_MAX:
            errors.append({"field": f"{at}.unit_price", "message": _at_most(UNIT_PRICE_MAX)})
        if not 0 <= line.discount <= 100:
            errors.append({"field": f"{at}.discount", "message": _("A discount is from 0 to 100.")})
    return errors


def _at_most(limit: Decimal) -> str:
    return _("Ensure this value is less than or equal to %(limit_value)s.") % {"limit_value": limit}


def _lines(data: PurchaseIn, products: dict[int, Product]) -> tuple[list[records.LineData], list[dict]]:
    lines, errors = [], []
    for number, line in enumerate(data.lines):
        product = products.get(line.product)
        if product is None:
            errors.append({"field": f"lines.{number}.product", "message": _("No active product has this id.")})
            continue
        lines.append(records.line_for(
            product=product, quantity=line.quantity, unit_price=line.unit_price, discount=line.discount,
        ))
    return lines, errors


def _products(rows: list[PurchaseIn]) -> dict[int, Product]:
    ids = {line.product for row in rows for line in row.lines}
    return Product.objects.filter(is_active=True).in_bulk(ids) if ids else {}


def check_one(*, client: Client, data: PurchaseIn) -> Checked:
    """The single purchase's checks; the service checks the rest (limits, currency) as for the form."""
    errors = _shape_errors(data, timezone.localdate())
    lines, line_errors = _lines(data, _products([data]))
    return Checked(client=client, data=data, lines=lines, errors=errors + line_errors)


def record_one(*, by: User, checked: Checked, idempotency_key: str | None) -> tuple[Purchase, bool]:
    """The purchase recorded through the form's service, and True; or the one the same key
    recorded before (a request that raced this one), and False."""
    data = checked.data
    try:
        purchase = records.purchase_record(
            client=checked.client, by=by, date=data.date, amount=data.amount, lines=checked.lines,
            currency=data.currency, exchange_rate=data.exchange_rate, payment_method=data.payment_method,
            channel=data.channel, notes=data.notes, idempotency_key=idempotency_key,
        )
    except records.AlreadyRecorded as done:  # the same key's request, committed meanwhile
        return done.purchase, False
    return purchase, True


# Bulk

@dataclass
class BulkResult:
    created: int
    ids: list[int | None]
    errors: list[dict]
    clients_refreshed: int

    @property
    def rejected(self) -> int:
        return sum(1 for pk in self.ids if pk is None)

    def as_dict(self) -> dict:
        return {
            "created": self.created, "rejected": self.rejected, "ids": self.ids, "errors": self.errors,
            "clients_refreshed": self.clients_refreshed,
        }


def bulk_check(*, user: User, rows: list) -> tuple[list[Checked | None], list[dict]]:
    """Every row checked, with the database read a few times for all of them (the visible clients,
    the products, the clients' totals): each row's Checked (None when its shape is wrong) and the
    errors as {"row", "field", "message"}."""
    errors: list[dict] = []
    parsed: list[PurchaseIn | None] = []
    for number, raw in enumerate(rows):
        try:
            parsed.append(ROW.validate_python(raw))
        except PydanticValidationError as error:
            parsed.append(None)
            errors += [{"row": number, **e} for e in from_pydantic(error.errors(include_url=False))]
    good = [row for row in parsed if row is not None]
    client_ids = sorted({row.client for row in good})
    # Their totals only: what the checks need of the clients the user sees, among those named.
    visible = Client.objects.visible_to(user).filter(pk__in=client_ids) if client_ids else Client.objects.none()
    totals = dict(visible.values_list("pk", "total_spent").order_by())
    products = _products(good)
    today = timezone.localdate()
    checked: list[Checked | None] = []
    for number, data in enumerate(parsed):
        if data is None:
            checked.append(None)
            continue
        row_errors = _shape_errors(data, today)
        if data.client not in totals:
            row_errors.append({"field": "client", "message": _("No client you can see has this id.")})
        lines, line_errors = _lines(data, products)
        row_errors += line_errors
        row = Checked(client=None, data=data, lines=lines, errors=row_errors)
        if not row_errors:
            row_errors += _money(row, totals, by=user)
        errors += [{"row": number, **e} for e in row_errors]
        checked.append(row if not row_errors else None)
    return checked, errors


def _money(row: Checked, totals: dict[int, Decimal], *, by: User) -> list[dict]:
    """The row's amount in the business currency, within a purchase's and its client's limits
    (counting the rows before it), and its fields as the model takes them: the purchase to write
    is kept on the row."""
    data = row.data
    paid = cents(data.amount if data.amount is not None else sum((line.total for line in row.lines), Decimal("0")))
    currency = (data.currency or settings.CURRENCY).upper()
    try:
        amount, rate = business_amount(currency=currency, day=data.date, paid=paid, rate=data.exchange_rate)
    except ValidationError as error:
        return from_django(error, "exchange_rate")
    if message := purchase_amount_error(amount) or client_total_error(totals[data.client], amount):
        return [{"field": "amount", "message": message}]
    purchase = Purchase(
        client_id=data.client, date=data.date, amount=amount, currency=currency, original_amount=paid,
        exchange_rate=rate, payment_method=data.payment_method, channel=data.channel, notes=data.notes, created_by=by,
    )
    try:
        purchase.clean_fields(exclude=["client", "created_by", "idempotency_key"])
    except ValidationError as error:
        return from_django(error)
    totals[data.client] += amount
    row.purchase = purchase
    return []


@transaction.atomic
def bulk_record(*, by: User, checked: list[Checked | None]) -> BulkResult:
    """Writes the rows that passed (the caller decided the others may be left out): purchases,
    lines and their creation entries in a few statements, then one engine pass over their clients."""
    kept = [(number, row) for number, row in enumerate(checked) if row is not None]
    ids: list[int | None] = [None] * len(checked)
    if not kept:
        return BulkResult(0, ids, [], 0)
    now = timezone.now()
    purchases = [row.purchase for _number, row in kept]
    for purchase in purchases:
        purchase.created_at = now
    Purchase.objects.bulk_create(purchases, batch_size=500)
    PurchaseLine.objects.bulk_create([
        PurchaseLine(purchase=purchase, product=line.product, quantity=line.quantity, unit_price=line.unit_price, discount=line.discount)
        for purchase, (_number, row) in zip(purchases, kept, strict=True)
        for line in row.lines
    ], batch_size=1000)
    audit_bulk([
        records.purchase_created_entry(purchase, by=by, lines=row.lines)
        for purchase, (_number, row) in zip(purchases, kept, strict=True)
    ])
    for purchase, (number, _row) in zip(purchases, kept, strict=True):
        ids[number] = purchase.pk
    touched = sorted({purchase.client_id for purchase in purchases})
    lifecycle_recompute_clients(client_ids=touched, cause=StatusChange.Cause.PURCHASE)
    refs = dict(Client.objects.filter(pk__in=touched).values_list("pk", "client_ref"))
    events.emit_many(events.PURCHASE_RECORDED, [  # as purchase_record tells them, once for the batch
        records.purchase_event_data(purchase, client_ref=refs[purchase.client_id]) for purchase in purchases
    ])
    return BulkResult(len(purchases), ids, [], len(touched))
