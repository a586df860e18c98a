"""Writes that span models: each one atomic, each one named <entity>_<action>."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import salespeople_visible_to
from audit.models import AuditEntry
from audit.services import Action, Subject, audit_bulk, audit_record, diff, snapshot
from clients.models import Client, FollowUp, Interaction, Product, Purchase, PurchaseLine


@dataclass(frozen=True)
class LineData:
    product: Product
    quantity: Decimal
    unit_price: Decimal


@transaction.atomic
def client_create(*, owner: User, instance: Client, interests=()) -> Client:
    """Saves a new client in `owner`'s portfolio; the owner never comes from the form."""
    instance.owner = owner
    instance.full_clean()
    instance.save()
    instance.interests.set(interests)
    audit_record(user=owner, client_id=instance.pk, subject=Subject.CLIENT, object_id=instance.pk, action=Action.CREATE)
    return instance


class EditConflict(Exception):
    """Someone saved the client after the form was opened: nothing was written."""

    def __init__(self, current_version: int):
        super().__init__(current_version)
        self.current_version = current_version


@transaction.atomic
def client_update(*, user: User, client: Client, data: dict, interests, seen_version: int) -> Client:
    """Saves an edit of the client's own data, unless it was made over an older version (raises
    EditConflict: a second person's save never overwrites the first one's). Recorded in the audit
    history with what changed; the computed figures are not written (the nightly job owns them)."""
    current = Client.objects.select_for_update().get(pk=client.pk)
    if current.version != seen_version:
        raise EditConflict(current.version)
    fields = [*data, "interests"]
    before = snapshot(current, fields)
    for name, value in data.items():
        setattr(current, name, value)
    current.version += 1
    current.save(update_fields=[*data, "version", "updated_at"])
    current.interests.set(interests)
    changes = diff(before, snapshot(current, fields))
    audit_record(
        user=user, client_id=current.pk, subject=Subject.CLIENT, object_id=current.pk, action=Action.UPDATE,
        changes=changes, version=current.version,
    )
    return current


@transaction.atomic
def purchase_record(
    *, client: Client, user: User | None, date: date, amount: Decimal | None = None,
    lines: list[LineData] = (), currency: str = "EUR", payment_method: str = "", channel: str = "",
    notes: str = "",
) -> Purchase:
    """A purchase with its lines; without an amount, the amount is the sum of the lines."""
    if amount is None:
        amount = sum((line.quantity * line.unit_price for line in lines), Decimal("0"))
    purchase = Purchase(
        client=client, date=date, amount=amount, currency=currency, payment_method=payment_method,
        channel=channel, notes=notes, created_by=user,
    )
    purchase.full_clean()
    purchase.save()
    PurchaseLine.objects.bulk_create(
        PurchaseLine(purchase=purchase, product=line.product, quantity=line.quantity, unit_price=line.unit_price)
        for line in lines
    )
    audit_record(
        user=user, client_id=client.pk, subject=Subject.PURCHASE, object_id=purchase.pk, action=Action.CREATE,
        changes=diff({}, snapshot(purchase, PURCHASE_AUDITED)),
    )
    return purchase


PURCHASE_AUDITED = ["date", "amount", "currency", "payment_method", "channel", "notes"]


@transaction.atomic
def purchase_update(*, purchase: Purchase, user: User | None = None, **changes) -> Purchase:
    # As stored (a bound ModelForm has already copied its values onto `purchase`).
    before = snapshot(Purchase.objects.get(pk=purchase.pk), PURCHASE_AUDITED)
    for name, value in changes.items():
        setattr(purchase, name, value)
    purchase.full_clean()
    purchase.save()
    audit_record(
        user=user, client_id=purchase.client_id, subject=Subject.PURCHASE, object_id=purchase.pk,
        action=Action.UPDATE, changes=diff(before, snapshot(purchase, PURCHASE_AUDITED)),
    )
    return purchase


@transaction.atomic
def purchase_delete(*, purchase: Purchase, user: User | None = None) -> int:
    """Deletes a purchase recorded by mistake (its lines go with it); returns its client's id."""
    client_id, purchase_id = purchase.client_id, purchase.pk
    before = snapshot(purchase, PURCHASE_AUDITED)
    purchase.delete()
    audit_record(
        user=user, client_id=client_id, subject=Subject.PURCHASE, object_id=purchase_id, action=Action.DELETE,
        changes={name: [value, ""] for name, value in before.items() if value},
    )
    return client_id


def _assignee_for(client: Client, user: User) -> User:
    """Who carries out a follow-up: the salesperson scheduling it, or the owner when a manager does."""
    if user.is_comercial or user.pk == client.owner_id:
        return user
    return client.owner


@transaction.atomic
def followup_schedule(
    *, client: Client, user: User, kind: str, due_at: datetime, notes: str = ""
) -> FollowUp:
    followup = FollowUp(
        client=client, kind=kind, due_at=due_at, notes=notes, assigned_to=_assignee_for(client, user),
        created_by=user,
    )
    followup.full_clean()
    followup.save()
    audit_record(
        user=user, client_id=client.pk, subject=Subject.FOLLOWUP, object_id=followup.pk, action=Action.CREATE,
        changes=diff({}, snapshot(followup, ["kind", "due_at", "assigned_to", "notes"])),
    )
    return followup


@transaction.atomic
def interaction_record(
    *, client: Client, user: User, interaction: Interaction, closes: FollowUp | None = None,
    next_kind: str = "", next_due_at: datetime | None = None, next_notes: str = "",
) -> tuple[Interaction, FollowUp | None]:
    """Writes what was said, closes the follow-up it answers and schedules the next step, all or nothing."""
    interaction.client = client
    interaction.user = user
    interaction.full_clean()
    interaction.save()
    if closes is not None:
        if closes.client_id != client.pk or closes.status != FollowUp.State.PENDING:
            raise ValidationError(_("This follow-up is no longer pending."))
        closes.status = FollowUp.State.DONE
        closes.closed_by = interaction
        closes.completed_at = timezone.now()
        closes.save(update_fields=["status", "closed_by", "completed_at"])
        audit_record(
            user=user, client_id=client.pk, subject=Subject.FOLLOWUP, object_id=closes.pk, action=Action.COMPLETE,
            changes={"status": [FollowUp.State.PENDING, FollowUp.State.DONE]},
        )
    next_followup = None
    if next_due_at is not None:
        next_followup = followup_schedule(
            client=client, user=user, kind=next_kind or FollowUp.Kind.CALL, due_at=next_due_at, notes=next_notes
        )
    return interaction, next_followup


@transaction.atomic
def clients_reassign(*, actor: User, client_ids: list[int], new_owner: User) -> int:
    """Hands clients (and their pending follow-ups) to another salesperson in one statement each."""
    if not actor.can_manage_portfolios:
        raise PermissionDenied
    if not salespeople_visible_to(actor).filter(pk=new_owner.pk).exists():
        raise ValidationError(_("You cannot assign clients to this salesperson."))
    clients = Client.objects.visible_to(actor).filter(pk__in=client_ids)
    owners = dict(clients.values_list("pk", "owner__username"))
    ids = list(owners)
    # Only the follow-ups the old owner carried move; a teammate's own follow-ups stay theirs.
    FollowUp.objects.filter(
        client_id__in=ids, status=FollowUp.State.PENDING, assigned_to_id=F("client__owner_id")
    ).update(assigned_to=new_owner)
    moved = Client.objects.filter(pk__in=ids).update(owner=new_owner, updated_at=timezone.now())
    audit_bulk([
        AuditEntry(
            user=actor, client_id=pk, subject=Subject.CLIENT, object_id=pk, action=Action.REASSIGN,
            changes={"owner": [old or "", new_owner.username]},
        )
        for pk, old in owners.items() if old != new_owner.username
    ])
    return moved
