"""The one write path: every change a user or a system makes to a client or to what hangs from it.

Each service is keyword-only and does, in one transaction, everything its change implies: the
write, its audit entry, the client's version when the client's own data changes, and the refresh
of that client's figures, status, colour and automatic follow-ups. Views, the Django admin, the
imports and the commands call these; nothing else writes a client's records. A path that writes
many rows at once (an import, a campaign) is a set-based twin that leaves the same audit entries,
built by the `*_entry` functions below, and refreshes its clients in one engine pass.

They live here, above `clients`, because every write changes what segmentation concludes about
the client (its figures, status and colour), and a lower app never calls a higher one. Erasing a
client touches every app, so it lives above them all (privacy/services.py); a consent is the
campaigns' (campaigns/consent.py).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import salespeople_visible_to
from audit.models import AuditEntry
from audit.services import Action, Subject, as_text, audit_bulk, audit_record, diff, snapshot
from clients.currency import business_amount, is_business
from clients.models import (
    Client,
    ClientShare,
    Contract,
    FollowUp,
    Interaction,
    Product,
    Purchase,
    PurchaseLine,
    client_total_error,
    purchase_amount_error,
)
from clients.recommendations import recommendations_mark
from clients.renewals import can_mark_proposal_sent, can_renew, may_manage_contracts, renewal_defaults
from core import events
from core.money import cents
from segmentation.automation import automatic_followups_create
from segmentation.ideal import fit_refresh_after_edit, fit_refresh_clients
from segmentation.services import (
    alert_refresh_client,
    current_thresholds,
    leave_reason_refresh_client,
    lifecycle_refresh_client,
)

# What the audit history keeps of each record (the client's own: Client.DATA_FIELDS).
CLIENT_SCALAR_FIELDS = tuple(name for name in Client.DATA_FIELDS if name != "interests")
PURCHASE_AUDITED = Purchase.DATA_FIELDS
PURCHASE_PAID = (*PURCHASE_AUDITED, "original_amount", "exchange_rate")  # and, in another currency, as paid
FOLLOWUP_AUDITED = ("kind", "due_at", "assigned_to", "notes")
INTERACTION_AUDITED = ("kind", "direction", "happened_at", "outcome")
CONTRACT_AUDITED = ("title", "start_date", "end_date", "value", "renewal_status", "notes")


class EditConflict(Exception):
    """Someone saved the client after the form was opened: nothing was written."""

    def __init__(self, current_version: int):
        super().__init__(current_version)
        self.current_version = current_version


# What follows a write. Both run inside the caller's transaction: a failure undoes the write.

def _refresh(client_id: int) -> None:
    """Purchases and the client's own data move its figures and status (and so its colour, and
    the welcome call of a client that has just become new)."""
    lifecycle_refresh_client(client_id)


def _recommendations_mark(client_id: int) -> None:
    """Into the trash or out of it: the night gives or takes its recommendations."""
    with connection.cursor() as cursor:
        recommendations_mark(cursor, [client_id])


def _recolour(client_id: int) -> None:
    """Follow-ups, interactions and a restore move the colour alone."""
    alert_refresh_client(client_id)


# Clients

def client_created_entry(client: Client, *, by: User | None, interests=()) -> AuditEntry:
    """The history's record of a new client: the values it was created with."""
    after = snapshot(client, CLIENT_SCALAR_FIELDS)
    if interests:
        after["interests"] = as_text(list(interests))
    return AuditEntry(
        user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.CREATE,
        changes=diff({}, after), version=client.version,
    )


def _source_from_referrer(data: dict, *, client_pk: int | None = None) -> dict:
    """A client referred by another one came through a referral: its source says so. A client
    never refers itself."""
    referrer = data.get("referred_by")
    if referrer is None:
        return data
    if client_pk is not None and referrer.pk == client_pk:
        raise ValidationError({"referred_by": _("A client cannot refer itself.")})
    return {**data, "source": Client.Source.REFERRAL}


@transaction.atomic
def client_create(*, by: User, data: dict, interests=(), owner: User | None = None) -> Client:
    """A new client in `owner`'s portfolio (by default the creator's); the owner never comes from a form."""
    data = _source_from_referrer(data)
    client = Client(owner=owner or by, **data)
    client.full_clean()
    client.save()
    client.interests.set(interests)
    audit_bulk([client_created_entry(client, by=by, interests=interests)])
    fit_refresh_clients([client.pk])
    _refresh(client.pk)
    return client


@transaction.atomic
def client_update(
    *, by: User | None, client: Client, data: dict, interests=None, seen_version: int | None = None,
) -> Client:
    """Saves an edit of the client's own data, unless a person made it over an older version
    (raises EditConflict: a second person's save never overwrites the first one's; a system's
    write, with no version seen, is not refused). A closing date changes the status at once."""
    # FOR NO KEY UPDATE: a purchase being inserted for this client (FOR KEY SHARE) does not deadlock with it.
    current = Client.objects.select_for_update(no_key=True).get(pk=client.pk)
    if seen_version is not None and current.version != seen_version:
        raise EditConflict(current.version)
    if (referrer := data.get("referred_by")) is not None and (referrer.pk == current.pk or referrer.pk != current.referred_by_id):
        data = _source_from_referrer(data, client_pk=current.pk)  # a new referrer: the source follows
    fields = [*data, "interests"] if interests is not None else list(data)
    before = snapshot(current, fields)
    for name, value in data.items():
        setattr(current, name, value)
    current.version += 1
    current.save(update_fields=[*data, "version", "updated_at"])
    if interests is not None:
        current.interests.set(interests)
    audit_record(
        user=by, client_id=current.pk, subject=Subject.CLIENT, object_id=current.pk, action=Action.UPDATE,
        changes=diff(before, snapshot(current, fields)), version=current.version,
    )
    fit_refresh_after_edit(current.pk, fields)
    _refresh(current.pk)
    return current


@transaction.atomic
def client_reassign(*, by: User, client_ids: list[int], new_owner: User) -> int:
    """Hands clients (and the pending follow-ups their owner carried) to another salesperson, in
    one statement each; returns how many clients moved."""
    if not by.can_manage_portfolios:
        raise PermissionDenied
    if not salespeople_visible_to(by).filter(pk=new_owner.pk).exists():
        raise ValidationError(_("You cannot assign clients to this salesperson."))
    clients = Client.objects.visible_to(by).filter(pk__in=client_ids)
    before = dict(clients.values_list("pk", "owner__username"))
    ids = list(before)
    # Only the follow-ups the old owner carried move; a teammate's own follow-ups stay theirs.
    FollowUp.objects.filter(
        client_id__in=ids, status=FollowUp.State.PENDING, assigned_to_id=F("client__owner_id")
    ).update(assigned_to=new_owner)
    # The version stays: the owner is not in the client's form, so an edit opened meanwhile is not stale.
    moved = Client.objects.filter(pk__in=ids).update(owner=new_owner, updated_at=timezone.now())
    audit_bulk([
        AuditEntry(
            user=by, client_id=pk, subject=Subject.CLIENT, object_id=pk, action=Action.REASSIGN,
            changes={"owner": [old or "", new_owner.username]},
        )
        for pk, old in before.items() if old != new_owner.username
    ])
    return moved


@transaction.atomic
def client_share(*, by: User, client: Client, user: User) -> bool:
    """Lets another salesperson see the client; False when it already could."""
    if user.pk == client.owner_id:
        raise ValidationError(_("This salesperson already owns the client."))
    _share, created = ClientShare.objects.get_or_create(client=client, user=user)
    if created:
        audit_record(
            user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.SHARE,
            changes={"shared_with": ["", user.username]},
        )
    return created


@transaction.atomic
def client_unshare(*, by: User, client: Client, user: User) -> bool:
    deleted, _rows = ClientShare.objects.filter(client=client, user=user).delete()
    if deleted:
        audit_record(
            user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.UNSHARE,
            changes={"shared_with": [user.username, ""]},
        )
    return bool(deleted)


@transaction.atomic
def salesperson_deactivate(*, by: User, user: User, heir: User | None = None) -> int:
    """Closes `user`'s account, handing what they carry to `heir` first: their clients (through
    client_reassign, one REASSIGN entry per client) and their pending follow-ups (HAND_OVER
    entries, SEQUENCE + 1 so subscribed calendars move the event). A follow-up of theirs on a
    client someone else owns goes back to that client's owner, who can see it; the heir might
    not. A gerente who still manages a team must give it another gerente first. Returns how many
    clients moved."""
    if not by.is_administrador:
        raise PermissionDenied
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    if team_names := list(user.managed_teams.values_list("name", flat=True)):
        raise ValidationError(
            _("%(person)s manages the team %(teams)s: give the team another manager first.")
            % {"person": user, "teams": ", ".join(team_names)}
        )
    # FOR NO KEY UPDATE, as client_update: purchases being recorded for these clients meanwhile still go in.
    owned = list(Client.objects.not_in_trash().select_for_update(no_key=True).filter(owner=user).values_list("pk", flat=True))
    pending = FollowUp.objects.select_for_update().filter(assigned_to=user, status=FollowUp.State.PENDING)
    carried = list(pending.values_list("pk", "client_id", "client__owner_id"))
    if owned and heir is None:
        raise ValidationError(_("Choose who receives this person's clients and pending follow-ups."))
    if heir is not None and heir.pk == user.pk:
        raise ValidationError(_("Choose someone else to receive the clients."))
    if carried:
        ids = [fid for fid, _client, _owner in carried]
        FollowUp.objects.filter(pk__in=ids, client__owner=user).update(assigned_to=heir, sequence=F("sequence") + 1)
        FollowUp.objects.filter(pk__in=ids).exclude(client__owner=user).update(
            assigned_to_id=Subquery(Client.objects.filter(pk=OuterRef("client_id")).values("owner_id")),
            sequence=F("sequence") + 1,
        )
        # The names as followup_hand_over's entries show them (audit.services.as_text).
        names = {pk: as_text(person) for pk, person in User.objects.in_bulk({o for *_ids, o in carried}).items()}
        audit_bulk([
            AuditEntry(
                user=by, client_id=client_id, subject=Subject.FOLLOWUP, object_id=fid, action=Action.HAND_OVER,
                changes={"assigned_to": [as_text(user), as_text(heir) if owner == user.pk else names[owner]]},
            )
            for fid, client_id, owner in carried
        ])
    moved = client_reassign(by=by, client_ids=owned, new_owner=heir) if owned else 0
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    return moved


@transaction.atomic
def client_trash(*, by: User | None, client: Client) -> None:
    """Moves the client to the trash: hidden everywhere, its pending follow-ups on hold."""
    Client.objects.filter(pk=client.pk).update(deleted_at=timezone.now(), deleted_by=by)
    _recommendations_mark(client.pk)
    FollowUp.objects.filter(client=client, status=FollowUp.State.PENDING).update(status=FollowUp.State.ON_HOLD)
    audit_record(user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.TRASH)


@transaction.atomic
def client_restore(*, by: User, client: Client) -> None:
    Client.objects.filter(pk=client.pk).update(deleted_at=None, deleted_by=None)
    _recommendations_mark(client.pk)
    FollowUp.objects.filter(client=client, status=FollowUp.State.ON_HOLD).update(status=FollowUp.State.PENDING)
    audit_record(user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.RESTORE)
    _recolour(client.pk)


def _fields_update(model, pk: int, changes: dict, *, by: User | None, fields: tuple, money: str):
    """Changes some of a record's `fields` as stored now (locked), with its audit entry."""
    if unknown := set(changes) - set(fields):
        raise ValueError(f"Not an editable field of a {model._meta.model_name}: {sorted(unknown)}")
    if changes.get(money) is not None:
        changes[money] = cents(changes[money])
    current = model.objects.select_for_update().get(pk=pk)
    before = snapshot(current, fields)
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean()
    current.save(update_fields=list(changes) or None)
    audit_record(
        user=by, client_id=current.client_id, subject=model._meta.model_name, object_id=current.pk,
        action=Action.UPDATE, changes=diff(before, snapshot(current, fields)),
    )
    return current


# Purchases

@dataclass(frozen=True)
class LineData:
    product: Product
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal("0")  # percent off the line

    @property
    def total(self) -> Decimal:
        return PurchaseLine.total_for(self.quantity, self.unit_price, self.discount)

    def as_text(self) -> str:
        """The line as the audit history keeps it: 3 × Product @ 10.00 -5% = 28.50."""
        off = f" -{self.discount.normalize():f}%" if self.discount else ""
        return f"{self.quantity.normalize():f} × {self.product} @ {self.unit_price:.2f}{off} = {self.total:.2f}"


def line_for(
    *, product: Product, quantity: Decimal | None = None, amount: Decimal | None = None,
    unit_price: Decimal | None = None, discount: Decimal | None = None,
) -> LineData:
    """One product bought: its unit price as given, or what was paid over the quantity, or the
    catalogue's price when neither is known (the unit-price rule is PurchaseLine.unit_price_for)."""
    quantity = quantity or Decimal("1")
    discount = discount or Decimal("0")
    if unit_price is None:
        unit_price = PurchaseLine.unit_price_for(amount, quantity, discount) if amount is not None else product.price
    return LineData(product=product, quantity=quantity, unit_price=unit_price, discount=discount)


class AlreadyRecorded(Exception):
    """The submission that carried this key was recorded before (a double click, a resubmitted
    form): nothing new was written; `purchase` is the one recorded then."""

    def __init__(self, purchase: Purchase):
        super().__init__(purchase.pk)
        self.purchase = purchase


def purchase_snapshot(purchase: Purchase) -> dict[str, str]:
    """What the history keeps of a purchase; in another currency, also what was paid and the rate."""
    return snapshot(purchase, PURCHASE_AUDITED if is_business(purchase.currency) else PURCHASE_PAID)


def purchase_created_entry(purchase: Purchase, *, by: User | None, lines: list[LineData] = ()) -> AuditEntry:
    changes = diff({}, purchase_snapshot(purchase))
    if lines:
        # "items", not "lines": that name is the purchase's reverse relation, not a field.
        changes["items"] = ["", " · ".join(line.as_text() for line in lines)]
    return AuditEntry(
        user=by, client_id=purchase.client_id, subject=Subject.PURCHASE, object_id=purchase.pk, action=Action.CREATE,
        changes=changes,
    )


def _line_errors(lines: list[LineData]) -> list[str]:
    """What does not fit the line columns (SQLite stores it anyway, then cannot read it back)."""
    errors = []
    for number, line in enumerate(lines, start=1):
        row = PurchaseLine(product=line.product, quantity=line.quantity, unit_price=line.unit_price, discount=line.discount)
        try:
            row.clean_fields(exclude=["purchase", "product"])
            if line.quantity <= 0 or line.unit_price < 0 or not 0 <= line.discount <= 100:
                raise ValidationError(_("Use a quantity above zero, a price not below zero and a discount from 0 to 100."))
            if message := purchase_amount_error(line.total):
                raise ValidationError(message)
        except ValidationError as error:
            errors += [_("Line %(number)d: %(error)s") % {"number": number, "error": text} for text in error.messages]
    return errors


def _purchase_for_key(key: str | None) -> Purchase | None:
    return Purchase.objects.filter(idempotency_key=key).first() if key else None


def purchase_event_data(purchase: Purchase, *, client_ref: str | None = None) -> dict:
    """What other systems are told of a recorded purchase (core.events.PURCHASE_RECORDED, the
    webhooks); a bulk write gives each client's reference (read once for all of them)."""
    return {
        "purchase": {
            "id": purchase.pk, "date": purchase.date.isoformat(), "amount": str(purchase.amount),
            "currency": settings.CURRENCY, "paid_amount": str(purchase.original_amount), "paid_currency": purchase.currency,
            "channel": purchase.channel, "payment_method": purchase.payment_method,
        },
        "client": {"id": purchase.client_id, "ref": purchase.client.client_ref if client_ref is None else client_ref},
    }


@transaction.atomic
def purchase_record(
    *, client: Client, by: User | None, date: date, amount: Decimal | None = None, lines: list[LineData] = (),
    currency: str = "", exchange_rate: Decimal | None = None, payment_method: str = "", channel: str = "",
    notes: str = "", idempotency_key: str | None = None,
) -> Purchase:
    """A purchase with its lines (without an amount, the sum of the line totals, each rounded to
    the cent), in the business currency unless another is given.

    In another currency, the amount and the lines are in that currency: the purchase keeps them as
    paid and its amount becomes the converted one, at `exchange_rate` or else at the rates table's
    rate for its date (none: a ValidationError). The limits apply to the converted amount.

    A purchase that would not fit its columns, or the client's figures, is a ValidationError and
    nothing is written. With an `idempotency_key` (a form's one-time token) a second submission
    raises AlreadyRecorded carrying the first purchase, also when both arrive at once.
    """
    if existing := _purchase_for_key(idempotency_key):
        raise AlreadyRecorded(existing)
    if errors := _line_errors(lines):
        raise ValidationError(errors)
    if amount is None:
        amount = sum((line.total for line in lines), Decimal("0"))
    paid, currency = cents(amount), (currency or settings.CURRENCY).upper()
    amount, exchange_rate = business_amount(currency=currency, day=date, paid=paid, rate=exchange_rate)
    if message := purchase_amount_error(amount):
        raise ValidationError(message)
    # Locked before the check: two purchases at once cannot both fit under the limit and overflow it together.
    Client.objects.select_for_update(no_key=True).filter(pk=client.pk).exists()
    recorded = Purchase.objects.filter(client=client).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    if message := client_total_error(recorded, amount):
        raise ValidationError(message)
    purchase = Purchase(
        client=client, date=date, amount=amount, currency=currency, original_amount=paid, exchange_rate=exchange_rate,
        payment_method=payment_method, channel=channel, notes=notes, created_by=by, idempotency_key=idempotency_key,
    )
    # The key's uniqueness is the database's to enforce (below): checked here it would race.
    purchase.full_clean(exclude=["idempotency_key"])
    try:
        with transaction.atomic():
            purchase.save()
    except IntegrityError:
        if existing := _purchase_for_key(idempotency_key):  # the same submission, committed meanwhile
            raise AlreadyRecorded(existing) from None
        raise
    PurchaseLine.objects.bulk_create(
        PurchaseLine(
            purchase=purchase, product=line.product, quantity=line.quantity, unit_price=line.unit_price,
            discount=line.discount,
        )
        for line in lines
    )
    audit_bulk([purchase_created_entry(purchase, by=by, lines=lines)])
    _refresh(client.pk)
    events.emit(events.PURCHASE_RECORDED, purchase_event_data(purchase))
    return purchase


@transaction.atomic
def purchase_correct(*, purchase: Purchase, by: User | None, **changes) -> Purchase:
    """Corrects a purchase's date, amount, currency, exchange rate, payment method, channel or notes.

    `amount` is what was paid, in the purchase's currency (the new one, if it changes); it is
    converted again at the `exchange_rate` given, else at the one it had in the same currency,
    else (an `exchange_rate` of None, or a new currency) at the table's for its date. Money given
    as it is stored changes nothing: a purchase waiting for a rate keeps waiting while its notes
    are corrected.
    Its lines stay as recorded: they are what was sold (the recommendations learn from them), so a
    wrong line is fixed by deleting the purchase and recording it again, both in the history."""
    if unknown := set(changes) - {*PURCHASE_AUDITED, "exchange_rate"}:
        raise ValueError(f"Not an editable field of a purchase: {sorted(unknown)}")
    current = Purchase.objects.select_for_update().get(pk=purchase.pk)
    before = purchase_snapshot(current)
    money = {name: changes.pop(name) for name in ("amount", "currency", "exchange_rate") if name in changes}
    paid_now = current.amount if current.original_amount is None else current.original_amount
    currency = (money.get("currency") or current.currency).upper()
    if currency != current.currency and money.get("exchange_rate") == current.exchange_rate:
        money.pop("exchange_rate")  # the old currency's rate, sent back as it was: nothing about the new one
    if (
        money.get("amount") is not None and cents(money["amount"]) != paid_now
        or currency != current.currency
        # A business-currency purchase has no rate to change (its stored 1 and a blank field agree).
        or "exchange_rate" in money and not is_business(currency) and money["exchange_rate"] != current.exchange_rate
    ):
        paid = cents(paid_now if money.get("amount") is None else money["amount"])
        rate = money.get("exchange_rate", current.exchange_rate if currency == current.currency else None)
        amount, rate = business_amount(currency=currency, day=changes.get("date") or current.date, paid=paid, rate=rate)
        Client.objects.select_for_update(no_key=True).filter(pk=current.client_id).exists()
        others = Purchase.objects.filter(client_id=current.client_id).exclude(pk=current.pk)
        recorded = others.aggregate(total=Sum("amount"))["total"] or Decimal("0")
        if message := purchase_amount_error(amount) or client_total_error(recorded, amount):
            raise ValidationError(message)
        changes.update(amount=amount, currency=currency, original_amount=paid, exchange_rate=rate)
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean(exclude=["idempotency_key"])
    current.save(update_fields=list(changes) or None)
    audit_record(
        user=by, client_id=current.client_id, subject=Subject.PURCHASE, object_id=current.pk, action=Action.UPDATE,
        changes=diff(before, purchase_snapshot(current)),
    )
    _refresh(current.client_id)
    return current


@transaction.atomic
def purchase_delete(*, purchase: Purchase, by: User | None) -> int:
    """Deletes a purchase recorded by mistake (its lines go with it); returns its client's id."""
    # As stored, not as the caller last saw it; already gone (a second click): nothing to do.
    current = Purchase.objects.select_for_update().filter(pk=purchase.pk).first()
    if current is None:
        return purchase.client_id
    client_id, purchase_id = current.client_id, current.pk
    before = purchase_snapshot(current)
    current.delete()
    audit_record(
        user=by, client_id=client_id, subject=Subject.PURCHASE, object_id=purchase_id, action=Action.DELETE,
        changes={name: [value, ""] for name, value in before.items() if value},
    )
    _refresh(client_id)
    return client_id


# Follow-ups and interactions

def _assignee_for(client: Client, by: User | None) -> User:
    """Who carries out a follow-up: the salesperson scheduling it, or the owner when a manager or
    the system does."""
    if by is not None and (by.is_comercial or by.pk == client.owner_id):
        return by
    return client.owner


def followup_created_entry(followup: FollowUp, *, by: User | None) -> AuditEntry:
    return AuditEntry(
        user=by, client_id=followup.client_id, subject=Subject.FOLLOWUP, object_id=followup.pk, action=Action.CREATE,
        changes=diff({}, snapshot(followup, FOLLOWUP_AUDITED)),
    )


def _followup_insert(
    *, client: Client, by: User | None, kind: str, due_at: datetime, notes: str,
    origin: str = FollowUp.Origin.MANUAL, origin_key: str = "",
) -> FollowUp:
    followup = FollowUp(
        client=client, kind=kind, due_at=due_at, notes=notes, assigned_to=_assignee_for(client, by), created_by=by,
        origin=origin, origin_key=origin_key,
    )
    followup.full_clean()
    followup.save()
    audit_bulk([followup_created_entry(followup, by=by)])
    return followup


@transaction.atomic
def followup_schedule(
    *, client: Client, by: User | None, kind: str, due_at: datetime, notes: str = "",
    origin: str = FollowUp.Origin.MANUAL, origin_key: str = "",
) -> FollowUp | None:
    """A follow-up scheduled by a person, or by a rule (`origin` and the `origin_key` of what
    triggered it: a rule's follow-up is created once, later calls return None)."""
    if origin != FollowUp.Origin.MANUAL and client.followups.filter(origin=origin, origin_key=origin_key).exists():
        return None
    followup = _followup_insert(
        client=client, by=by, kind=kind, due_at=due_at, notes=notes, origin=origin, origin_key=origin_key,
    )
    _recolour(client.pk)
    return followup


def _followup_pending_locked(followup: FollowUp, **where) -> FollowUp:
    """The follow-up as stored now, locked until the transaction ends, or a ValidationError when
    it is no longer pending: of two changes at once (a double click, two tabs) the second waits for
    the first and is then refused, so it writes nothing."""
    current = FollowUp.objects.select_for_update().filter(pk=followup.pk, **where).first()
    if current is None or current.status != FollowUp.State.PENDING:
        raise ValidationError(_("This follow-up is no longer pending."))
    return current


def _followup_close(*, followup: FollowUp, client: Client, by: User, interaction: Interaction) -> None:
    followup.status = FollowUp.State.DONE
    followup.closed_by = interaction
    followup.completed_at = timezone.now()
    followup.save(update_fields=["status", "closed_by", "completed_at"])
    audit_record(
        user=by, client_id=client.pk, subject=Subject.FOLLOWUP, object_id=followup.pk, action=Action.COMPLETE,
        changes={"status": [FollowUp.State.PENDING, FollowUp.State.DONE]},
    )


@transaction.atomic
def interaction_record(
    *, client: Client, by: User | None, interaction: Interaction, closes: FollowUp | None = None,
    next_kind: str = "", next_due_at: datetime | None = None, next_notes: str = "",
) -> tuple[Interaction, FollowUp | None]:
    """Writes what was said, closes the follow-up it answers and schedules the next step, all or nothing.

    The follow-up is locked before anything is written: of two recordings that close it at once,
    the second writes no interaction and no next step (ValidationError)."""
    if closes is not None:
        _followup_pending_locked(closes, client=client)
    interaction.client = client
    interaction.user = by
    interaction.full_clean()
    interaction.save()
    audit_record(
        user=by, client_id=client.pk, subject=Subject.INTERACTION, object_id=interaction.pk, action=Action.CREATE,
        changes=diff({}, snapshot(interaction, INTERACTION_AUDITED)),
    )
    if closes is not None:
        _followup_close(followup=closes, client=client, by=by, interaction=interaction)
    next_followup = None
    if next_due_at is not None:
        next_followup = _followup_insert(
            client=client, by=by, kind=next_kind or FollowUp.Kind.CALL, due_at=next_due_at, notes=next_notes,
        )
    leave_reason_refresh_client(client.pk)  # a lost client's competitor or objection is its reason
    _recolour(client.pk)
    return interaction, next_followup


def followup_complete(
    *, followup: FollowUp, by: User, interaction: Interaction, next_kind: str = "",
    next_due_at: datetime | None = None, next_notes: str = "",
) -> tuple[Interaction, FollowUp | None]:
    """Completing a follow-up is recording the interaction that answers it."""
    return interaction_record(
        client=followup.client, by=by, interaction=interaction, closes=followup, next_kind=next_kind,
        next_due_at=next_due_at, next_notes=next_notes,
    )



# Follow-ups that move: rescheduled, postponed, handed over, cancelled, their note edited.
# Anyone who can see the client (Client.objects.visible_to) may do these; the callers fetch the
# follow-up through that rule. Only a pending follow-up changes: each service locks it and
# refuses one that was completed, cancelled or put on hold meanwhile (ValidationError).

class Postpone:
    TOMORROW = "tomorrow"
    NEXT_MONDAY = "monday"
    ALL = (TOMORROW, NEXT_MONDAY)


def _followup_change(
    current: FollowUp, *, by: User | None, action: str, changes: dict, extra: dict | None = None, moves: bool = True,
) -> FollowUp:
    """Writes `changes` to the locked follow-up with its audit entry (before/after, plus `extra`),
    raises its calendar SEQUENCE when the event moves for the calendar apps, and recolours."""
    fields = list(changes)
    before = snapshot(current, fields)
    for name, value in changes.items():
        setattr(current, name, value)
    if moves:
        current.sequence += 1
        fields.append("sequence")
    current.full_clean()
    current.save(update_fields=fields)
    audit_record(
        user=by, client_id=current.client_id, subject=Subject.FOLLOWUP, object_id=current.pk, action=action,
        changes={**diff(before, snapshot(current, list(changes))), **(extra or {})},
    )
    _recolour(current.client_id)
    return current


@transaction.atomic
def followup_reschedule(*, followup: FollowUp, by: User | None, due_at: datetime, reason: str = "") -> FollowUp:
    """Moves a pending follow-up to another date and time; the reason, if given, goes to the history.
    Already there (a double submit): nothing is written."""
    current = _followup_pending_locked(followup)
    if current.due_at == due_at:
        return current
    extra = {"reason": ["", reason.strip()]} if reason.strip() else None
    return _followup_change(current, by=by, action=Action.RESCHEDULE, changes={"due_at": due_at}, extra=extra)


def postpone_to(due_at: datetime, to: str, *, today: date) -> datetime:
    """Tomorrow or next Monday (counted from `today`, a Monday's next Monday being a week on), at the
    follow-up's own time of day."""
    days = 1 if to == Postpone.TOMORROW else 7 - today.weekday()
    day = date.fromordinal(today.toordinal() + days)
    return timezone.make_aware(datetime.combine(day, timezone.localtime(due_at).time()))


def followup_postpone(*, followup: FollowUp, by: User | None, to: str, today: date | None = None) -> FollowUp:
    """Postpones a pending follow-up to tomorrow or to next Monday, keeping its time of day."""
    if to not in Postpone.ALL:
        raise ValueError(f"Unknown postponement: {to!r}")
    due_at = postpone_to(followup.due_at, to, today=today or timezone.localdate())
    return followup_reschedule(followup=followup, by=by, due_at=due_at)


def followup_handover_candidates(*, client: Client, by: User):
    """Whom a follow-up of `client` may be handed to: the client's owner and the gerente of the
    owner's team; a gerente or administrador may also choose any salesperson they see."""
    rule = Q(pk=client.owner_id) | Q(managed_teams__members=client.owner_id)
    if by.can_manage_portfolios:
        rule |= Q(pk__in=salespeople_visible_to(by).values("pk"))
    return User.objects.filter(rule, is_active=True).distinct().order_by("first_name", "last_name", "username")


@transaction.atomic
def followup_hand_over(*, followup: FollowUp, by: User, to: User) -> FollowUp:
    """Gives a pending follow-up to a colleague (followup_handover_candidates). One who cannot see
    the client yet gets it shared with them, or the call would lead to a page they may not open."""
    current = _followup_pending_locked(followup)
    if current.assigned_to_id == to.pk:
        return current  # already theirs (a double submit): nothing to write
    client = Client.objects.get(pk=current.client_id)
    if not followup_handover_candidates(client=client, by=by).filter(pk=to.pk).exists():
        raise ValidationError(_("You cannot hand this follow-up to that salesperson."))
    if not Client.objects.visible_to(to).filter(pk=client.pk).exists():
        client_share(by=by, client=client, user=to)
    return _followup_change(current, by=by, action=Action.HAND_OVER, changes={"assigned_to": to})


@transaction.atomic
def followup_cancel(*, followup: FollowUp, by: User | None, reason: str) -> FollowUp:
    """Cancels a pending follow-up; the reason is kept on it and in the history."""
    if not reason.strip():
        raise ValidationError(_("Say why the follow-up is cancelled."))
    current = _followup_pending_locked(followup)
    return _followup_change(
        current, by=by, action=Action.CANCEL,
        changes={"status": FollowUp.State.CANCELLED, "cancel_reason": reason.strip()},
    )


@transaction.atomic
def followup_note_update(*, followup: FollowUp, by: User | None, notes: str) -> FollowUp:
    """Edits a pending follow-up's note (the event stays where it is: no new SEQUENCE)."""
    current = _followup_pending_locked(followup)
    return _followup_change(current, by=by, action=Action.UPDATE, changes={"notes": notes.strip()}, moves=False)


# Contracts

def _after_contract(client_id: int) -> None:
    """A contract ending soon asks for a renewal call and turns the client red until one is booked."""
    automatic_followups_create(as_of=timezone.localdate(), thresholds=current_thresholds(), client_ids=[client_id])
    _recolour(client_id)


@transaction.atomic
def contract_create(
    *, client: Client, by: User | None, title: str, start_date: date, end_date: date, value: Decimal = Decimal("0"),
    renewal_status: str = Contract.Renewal.PENDING, notes: str = "",
) -> Contract:
    _contracts_check(by, client)
    contract = Contract(
        client=client, title=title, start_date=start_date, end_date=end_date, value=cents(value),
        renewal_status=renewal_status, notes=notes,
    )
    contract.full_clean()
    contract.save()
    audit_record(
        user=by, client_id=client.pk, subject=Subject.CONTRACT, object_id=contract.pk, action=Action.CREATE,
        changes=diff({}, snapshot(contract, CONTRACT_AUDITED)),
    )
    _after_contract(client.pk)
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, by: User | None, **changes) -> Contract:
    _contracts_check(by, contract.client)
    current = _fields_update(Contract, contract.pk, changes, by=by, fields=CONTRACT_AUDITED, money="value")
    _after_contract(current.client_id)
    return current


# A contract's renewal: renewed into a new term, ended on purpose, or a proposal sent. Each locks the
# contract and refuses one whose renewal was settled meanwhile (ValidationError).

CONTRACT_END_AUDITED = ("renewal_status", "end_date", "ended_on", "end_reason", "notes")


def _contracts_check(by: User | None, client: Client) -> None:
    """The owner, their gerente or an administrador (clients.renewals.may_manage_contracts); `by`
    None is the system (an import, a command)."""
    if by is not None and not may_manage_contracts(by, client):
        raise PermissionDenied("Only the owner, their manager or an administrator changes a client's contracts.")


def _contract_open_locked(contract: Contract) -> Contract:
    current = Contract.objects.select_for_update().get(pk=contract.pk)
    if not can_renew(current):
        raise ValidationError(_("This contract was already renewed or ended."))
    return current


def _renewal_call_cancel(contract: Contract, *, by: User | None, reason: str) -> None:
    """Cancels the contract's pending automatic renewal call (at most one: followup_automatic_once):
    the renewal is settled, so the call is no longer on anyone's agenda. Cancelled rather than
    completed: a completed follow-up is one answered by a recorded conversation (closed_by), and
    the renewal may have been agreed without that call; a cancelled one with its reason tells the
    truth, and the calendar feed shows it cancelled (a higher SEQUENCE)."""
    calls = FollowUp.objects.select_for_update().filter(
        client_id=contract.client_id, origin=FollowUp.Origin.RENEWAL, origin_key=str(contract.pk),
        status=FollowUp.State.PENDING,
    )
    for call in calls:
        call.status, call.cancel_reason, call.sequence = FollowUp.State.CANCELLED, reason, call.sequence + 1
        call.save(update_fields=["status", "cancel_reason", "sequence"])
        audit_record(
            user=by, client_id=call.client_id, subject=Subject.FOLLOWUP, object_id=call.pk, action=Action.CANCEL,
            changes={"status": [FollowUp.State.PENDING, FollowUp.State.CANCELLED], "cancel_reason": ["", reason]},
        )


@transaction.atomic
def contract_renew(
    *, contract: Contract, by: User | None, title: str | None = None, start_date: date | None = None,
    end_date: date | None = None, value: Decimal | None = None, notes: str = "",
) -> Contract:
    """Renews a contract: a new term (by default clients.renewals.renewal_defaults: same title and
    value, from the day after the old end for as long as the old term) that renews it; the old one
    is renewed and its pending renewal call cancelled."""
    _contracts_check(by, contract.client)
    old = _contract_open_locked(contract)
    terms = {**renewal_defaults(old), **{
        name: given for name, given in
        (("title", title), ("start_date", start_date), ("end_date", end_date), ("value", value)) if given is not None
    }}
    renewal = Contract(client_id=old.client_id, renewed_from=old, notes=notes, **{**terms, "value": cents(terms["value"])})
    renewal.full_clean()
    renewal.save()
    audit_record(
        user=by, client_id=old.client_id, subject=Subject.CONTRACT, object_id=renewal.pk, action=Action.CREATE,
        changes=diff({}, snapshot(renewal, [*CONTRACT_AUDITED, "renewed_from"])),
    )
    before = snapshot(old, ["renewal_status"])
    old.renewal_status = Contract.Renewal.RENEWED
    old.save(update_fields=["renewal_status"])
    audit_record(
        user=by, client_id=old.client_id, subject=Subject.CONTRACT, object_id=old.pk, action=Action.RENEW,
        changes=diff(before, snapshot(old, ["renewal_status"])),
    )
    _renewal_call_cancel(old, by=by, reason=_("Contract renewed"))
    _after_contract(old.client_id)
    return renewal


@transaction.atomic
def contract_end(
    *, contract: Contract, by: User | None, ended_on: date, reason: str, notes: str = "",
) -> Contract:
    """Ends a contract on purpose: the renewal is lost, with the reason; the end date moves to
    `ended_on` when that is earlier (never before the start); its pending renewal call is cancelled."""
    _contracts_check(by, contract.client)
    if reason not in Client.CloseReason.values:
        raise ValidationError(_("Choose why the contract ends."))
    current = _contract_open_locked(contract)
    if ended_on < current.start_date:
        start = formats.date_format(current.start_date, "SHORT_DATE_FORMAT")
        raise ValidationError(_("A contract cannot end before it starts (%(start)s).") % {"start": start})
    before = snapshot(current, CONTRACT_END_AUDITED)
    current.renewal_status = Contract.Renewal.NOT_RENEWING
    current.ended_on, current.end_reason = ended_on, reason
    current.end_date = min(current.end_date, ended_on)
    if notes.strip():
        current.notes = f"{current.notes}\n{notes.strip()}".strip()
    current.full_clean()
    current.save(update_fields=list(CONTRACT_END_AUDITED))
    audit_record(
        user=by, client_id=current.client_id, subject=Subject.CONTRACT, object_id=current.pk, action=Action.END,
        changes=diff(before, snapshot(current, CONTRACT_END_AUDITED)),
    )
    _renewal_call_cancel(current, by=by, reason=_("Contract ended"))
    _after_contract(current.client_id)
    return current


@transaction.atomic
def contract_proposal_sent(*, contract: Contract, by: User | None) -> Contract:
    """The renewal proposal was sent: the contract leaves "nothing done yet" (and so the renewal
    window of the automatic calls and the red alert); a booked renewal call stays on the agenda."""
    _contracts_check(by, contract.client)
    current = Contract.objects.select_for_update().get(pk=contract.pk)
    if not can_mark_proposal_sent(current):
        raise ValidationError(_("Only a contract with nothing done yet can be marked as proposal sent."))
    before = snapshot(current, ["renewal_status"])
    current.renewal_status = Contract.Renewal.IN_NEGOTIATION
    current.save(update_fields=["renewal_status"])
    audit_record(
        user=by, client_id=current.client_id, subject=Subject.CONTRACT, object_id=current.pk, action=Action.UPDATE,
        changes=diff(before, snapshot(current, ["renewal_status"])),
    )
    _after_contract(current.client_id)
    return current
