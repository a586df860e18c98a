"""The exchange rates administradores keep (Administración → Tipos de cambio), and what a change
of the table does to the purchases in that currency.

A new rate converts the purchases that were waiting for it (in another currency, no rate known
for their date); deleting a mistaken rate sends the purchases that took it back to the table,
which converts them at the rate now in force on their date or leaves them waiting. Either way one
transaction: set-based UPDATEs by chunks of purchase ids, one audit entry per purchase changed
(as a correction of that purchase would leave), then the clients touched recomputed in one engine
pass (as after an import). The read side is clients/currency.py.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import AuditEntry
from audit.services import Action, Subject, as_text
from clients.currency import is_business, waiting_convert, waiting_purchases
from clients.models import ExchangeRate, Purchase
from core.bulk import rows_insert
from segmentation.models import StatusChange
from segmentation.services import lifecycle_recompute_clients

CHUNK = 5_000  # purchases per UPDATE and per batch of audit entries


@transaction.atomic
def exchange_rate_add(*, by: User, currency: str, valid_from: dt.date, rate: Decimal) -> tuple[ExchangeRate, int]:
    """Adds a rate and converts the waiting purchases it covers; returns it and how many."""
    currency = currency.strip().upper()
    if is_business(currency):
        raise ValidationError(_("The business currency is always worth 1: it needs no rate."))
    if ExchangeRate.objects.filter(currency=currency, valid_from=valid_from).exists():
        raise ValidationError(_("There is already a rate for %(currency)s from %(day)s: delete it first.") % {
            "currency": currency, "day": formats.date_format(valid_from, "DATE_FORMAT"),
        })
    added = ExchangeRate(currency=currency, valid_from=valid_from, rate=rate, created_by=by)
    added.full_clean()
    added.save()
    converted = _reprice(by=by, currency=currency, candidates=waiting_purchases(currency=currency).filter(date__gte=valid_from))
    return added, converted


@transaction.atomic
def exchange_rate_delete(*, by: User, rate: ExchangeRate) -> int:
    """Deletes a mistaken rate; the purchases dated in its span that took it follow the table
    again. Returns how many purchases changed."""
    current = ExchangeRate.objects.select_for_update().filter(pk=rate.pk).first()
    if current is None:  # already gone (a second click)
        return 0
    following = ExchangeRate.objects.filter(currency=current.currency, valid_from__gt=current.valid_from).order_by("valid_from").first()
    took_it = Purchase.objects.filter(currency=current.currency, exchange_rate=current.rate, date__gte=current.valid_from)
    if following:
        took_it = took_it.filter(date__lt=following.valid_from)
    current.delete()
    return _reprice(by=by, currency=current.currency, candidates=took_it, reset=True)


def waiting_by_currency() -> dict[str, int]:
    """{currency: purchases waiting for a rate}, counted on the partial index purchase_waiting_for_rate."""
    rows = waiting_purchases().values("currency").annotate(count=Count("pk")).order_by("currency")
    return {row["currency"]: row["count"] for row in rows}


def _reprice(*, by: User, currency: str, candidates: QuerySet, reset: bool = False) -> int:
    ids = sorted(candidates.values_list("pk", flat=True))
    changed, clients = 0, set()
    for start in range(0, len(ids), CHUNK):
        span = Q(pk__gte=ids[start], pk__lte=ids[min(start + CHUNK, len(ids)) - 1], currency=currency)
        before = _money_of(span)
        if reset:
            candidates.filter(span).update(exchange_rate=None, amount=0)
        waiting_convert(currency=currency, where=span)
        entries = []
        for pk, (client_id, amount, rate) in _money_of(span).items():
            _, old_amount, old_rate = before[pk]
            if (amount, rate) == (old_amount, old_rate):
                continue
            changes = {"amount": [as_text(old_amount), as_text(amount)]}
            if rate != old_rate:
                changes["exchange_rate"] = [as_text(old_rate), as_text(rate)]
            entries.append(AuditEntry(
                user=by, client_id=client_id, subject=Subject.PURCHASE, object_id=pk, action=Action.UPDATE, changes=changes,
            ))
            clients.add(client_id)
        rows_insert(AuditEntry, entries)  # COPY on PostgreSQL, as the imports write theirs
        changed += len(entries)
    if clients:
        lifecycle_recompute_clients(client_ids=sorted(clients), cause=StatusChange.Cause.PURCHASE)
    return changed


def _money_of(span: Q) -> dict[int, tuple[int, Decimal, Decimal | None]]:
    rows = Purchase.objects.filter(span).values_list("pk", "client_id", "amount", "exchange_rate").order_by()
    return {pk: (client_id, amount, rate) for pk, client_id, amount, rate in rows}
