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
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import salespeople_visible_to
from audit.models import AuditEntry
from audit.services import Action, Subject, as_text, audit_bulk, audit_record, diff, snapshot
from clients.models import Client, ClientShare, Contract, FollowUp, Interaction, Product, Purchase, PurchaseLine
from core.money import cents
from segmentation.automation import automatic_followups_create
from segmentation.services import alert_refresh_client, current_thresholds, lifecycle_refresh_client

# What the audit history keeps of each record (the client's own: Client.DATA_FIELDS).
CLIENT_SCALAR_FIELDS = tuple(name for name in Client.DATA_FIELDS if name != "interests")
PURCHASE_AUDITED = Purchase.DATA_FIELDS
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


@transaction.atomic
def client_create(*, by: User, data: dict, interests=(), owner: User | None = None) -> Client:
    """A new client in `owner`'s portfolio (by default the creator's); the owner never comes from a form."""
    client = Client(owner=owner or by, **data)
    client.full_clean()
    client.save()
    client.interests.set(interests)
    audit_bulk([client_created_entry(client, by=by, interests=interests)])
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
        names = dict(User.objects.filter(pk__in={owner for *_ids, owner in carried}).values_list("pk", "username"))
        audit_bulk([
            AuditEntry(
                user=by, client_id=client_id, subject=Subject.FOLLOWUP, object_id=fid, action=Action.HAND_OVER,
                changes={"assigned_to": [user.username, heir.username if owner == user.pk else names[owner]]},
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
    FollowUp.objects.filter(client=client, status=FollowUp.State.PENDING).update(status=FollowUp.State.ON_HOLD)
    audit_record(user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.TRASH)


@transaction.atomic
def client_restore(*, by: User, client: Client) -> None:
    Client.objects.filter(pk=client.pk).update(deleted_at=None, deleted_by=None)
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


def line_for(*, product: Product, quantity: Decimal | None = None, amount: Decimal | None = None) -> LineData:
    """One product bought: its unit price is what was paid over the quantity, or the catalogue's
    price when the amount is not known (the unit-price rule is PurchaseLine.unit_price_for)."""
    quantity = quantity or Decimal("1")
    unit_price = PurchaseLine.unit_price_for(amount, quantity) if amount is not None else product.price
    return LineData(product=product, quantity=quantity, unit_price=unit_price)


def purchase_created_entry(purchase: Purchase, *, by: User | None) -> AuditEntry:
    return AuditEntry(
        user=by, client_id=purchase.client_id, subject=Subject.PURCHASE, object_id=purchase.pk, action=Action.CREATE,
        changes=diff({}, snapshot(purchase, PURCHASE_AUDITED)),
    )


@transaction.atomic
def purchase_record(
    *, client: Client, by: User | None, date: date, amount: Decimal | None = None, lines: list[LineData] = (),
    currency: str = "", payment_method: str = "", channel: str = "", notes: str = "",
) -> Purchase:
    """A purchase with its lines (without an amount, the sum of the lines), in the business
    currency unless another is given."""
    if amount is None:
        amount = sum((line.quantity * line.unit_price for line in lines), Decimal("0"))
    purchase = Purchase(
        client=client, date=date, amount=cents(amount), currency=currency or settings.CURRENCY,
        payment_method=payment_method, channel=channel, notes=notes, created_by=by,
    )
    purchase.full_clean()
    purchase.save()
    PurchaseLine.objects.bulk_create(
        PurchaseLine(purchase=purchase, product=line.product, quantity=line.quantity, unit_price=line.unit_price)
        for line in lines
    )
    audit_bulk([purchase_created_entry(purchase, by=by)])
    _refresh(client.pk)
    return purchase


@transaction.atomic
def purchase_correct(*, purchase: Purchase, by: User | None, **changes) -> Purchase:
    """Corrects a purchase's date, amount, currency, payment method, channel or notes."""
    current = _fields_update(Purchase, purchase.pk, changes, by=by, fields=PURCHASE_AUDITED, money="amount")
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
    before = snapshot(current, PURCHASE_AUDITED)
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


def _followup_close(*, followup: FollowUp, client: Client, by: User, interaction: Interaction) -> None:
    # Locked and checked again inside the transaction: two completions of one follow-up (a double
    # click, two tabs) record one outcome; the second is told it is no longer pending.
    pending = FollowUp.objects.select_for_update().filter(
        pk=followup.pk, client=client, status=FollowUp.State.PENDING
    ).exists()
    if not pending:
        raise ValidationError(_("This follow-up is no longer pending."))
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
    """Writes what was said, closes the follow-up it answers and schedules the next step, all or nothing."""
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
    current = _fields_update(Contract, contract.pk, changes, by=by, fields=CONTRACT_AUDITED, money="value")
    _after_contract(current.client_id)
    return current
