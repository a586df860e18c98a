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
    return instance


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
    return purchase


@transaction.atomic
def purchase_update(*, purchase: Purchase, **changes) -> Purchase:
    for name, value in changes.items():
        setattr(purchase, name, value)
    purchase.full_clean()
    purchase.save()
    return purchase


@transaction.atomic
def purchase_delete(*, purchase: Purchase) -> int:
    """Deletes a purchase recorded by mistake (its lines go with it); returns its client's id."""
    client_id = purchase.client_id
    purchase.delete()
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
    ids = list(clients.values_list("pk", flat=True))
    # Only the follow-ups the old owner carried move; a teammate's own follow-ups stay theirs.
    FollowUp.objects.filter(
        client_id__in=ids, status=FollowUp.State.PENDING, assigned_to_id=F("client__owner_id")
    ).update(assigned_to=new_owner)
    return Client.objects.filter(pk__in=ids).update(owner=new_owner, updated_at=timezone.now())
