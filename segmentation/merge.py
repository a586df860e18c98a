"""Merging two records of one client: the survivor takes everything, the absorbed one is hidden.

One transaction (client_merge): both clients locked in id order (two merges at once cannot
deadlock or both win); the survivor keeps the chosen value of each data field and the union of
the interests; every record that hangs from the absorbed client moves to the survivor, one UPDATE
per kind of record; the figures, status and colour of the survivor are computed again; both get
a MERGE entry in the history; the absorbed client is hidden like the trash (deleted_at) and
points at the survivor (merged_into), so that its old address leads there.

Records of apps above this one (campaigns: consents, recipients, survey answers) are found
through Client's reverse relations, never imported. Where a kind of record may exist once per
client (a unique constraint naming the client), its manager decides which row stays through
`before_client_merge(survivor_id=, absorbed_id=)` (campaigns/models.py: a consent's "no" beats a
"yes"; one recipient per campaign, the one with an answer first). A new such constraint without
that method makes every merge fail loudly rather than half move.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Exists, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import Action, Subject, audit_record, diff, snapshot
from clients.models import Client, ClientShare, FollowUp, NotDuplicate, Purchase, Recommendation, client_total_error
from clients.recommendations import recommendations_mark
from segmentation.models import StatusChange
from segmentation.services import lifecycle_refresh_client

MERGED_FIELDS = tuple(name for name in Client.DATA_FIELDS if name != "interests")
SURVIVOR, ABSORBED = "survivor", "absorbed"

# Relations moved by name below, or left where they are: the status history is the absorbed
# client's own lifecycle (the survivor's refresh records its own), recommendations are recomputed
# nightly, and clients merged earlier into the absorbed one (or referred by it) are pointed at the survivor.
_HANDLED = {ClientShare, FollowUp, Recommendation, StatusChange, Client}


def may_merge(user: User, *clients: Client) -> bool:
    """A gerente or administrador who sees both, or the comercial who owns both (their own
    portfolio, whose records they edit anyway); a colleague's share is not enough."""
    if user.can_manage_portfolios:
        return Client.objects.visible_to(user).filter(pk__in=[c.pk for c in clients]).count() == len(clients)
    return all(client.owner_id == user.pk for client in clients)


def merge_defaults(survivor: Client, absorbed: Client) -> dict[str, str]:
    """The survivor's value of each field, unless it is empty and the absorbed client's is not."""
    return {
        name: ABSORBED if _is_empty(getattr(survivor, name)) and not _is_empty(getattr(absorbed, name)) else SURVIVOR
        for name in MERGED_FIELDS
    }


def _is_empty(value) -> bool:
    return value is None or value == ""


def _lock_both(survivor: Client, absorbed: Client) -> tuple[Client, Client]:
    locked = {c.pk: c for c in Client.objects.select_for_update().filter(pk__in=sorted([survivor.pk, absorbed.pk])).order_by("pk")}
    current = [locked.get(survivor.pk), locked.get(absorbed.pk)]
    if any(c is None or c.deleted_at is not None or c.merged_into_id is not None for c in current):
        raise ValidationError(_("One of these clients was merged or moved to the trash meanwhile: nothing was merged."))
    return current[0], current[1]


@transaction.atomic
def client_merge(*, by: User, survivor: Client, absorbed: Client, values: dict[str, str]) -> Client:
    """Merges `absorbed` into `survivor`; `values` says whose value each data field keeps
    ({field: "survivor" | "absorbed"}; a field not named keeps the survivor's)."""
    if survivor.pk == absorbed.pk:
        raise ValidationError(_("Choose two different clients to merge."))
    if unknown := {name for name, side in values.items() if name not in MERGED_FIELDS or side not in (SURVIVOR, ABSORBED)}:
        raise ValueError(f"Not a merge choice: {sorted(unknown)}")
    survivor, absorbed = _lock_both(survivor, absorbed)
    if not may_merge(by, survivor, absorbed):
        raise PermissionDenied
    totals = Purchase.objects.filter(client_id__in=[survivor.pk, absorbed.pk]).aggregate(total=Sum("amount"))["total"]
    if totals and (message := client_total_error(totals, 0)):
        raise ValidationError(message)

    audited = [*MERGED_FIELDS, "interests"]
    before = snapshot(survivor, audited)
    absorbed_ref = absorbed.client_ref
    # Its reference goes first: the survivor may take it, and references are unique.
    Client.objects.filter(pk=absorbed.pk).update(
        client_ref="", merged_into=survivor, deleted_at=timezone.now(), deleted_by=by, updated_at=timezone.now(),
    )
    for name in MERGED_FIELDS:
        if values.get(name) == ABSORBED:
            setattr(survivor, name, getattr(absorbed, name))
    if survivor.referred_by_id in (survivor.pk, absorbed.pk):  # one referred the other: the same client now
        survivor.referred_by = None
    if not (survivor.first_name or survivor.last_name or survivor.company_name):
        raise ValidationError(_("Keep a name or a company name for the client."))
    survivor.version += 1
    survivor.save(update_fields=[*MERGED_FIELDS, "version", "updated_at"])
    survivor.interests.add(*absorbed.interests.all())

    _records_move(survivor, absorbed)

    changes = diff(before, snapshot(survivor, audited))
    changes["merged_client"] = ["", f"{absorbed} (#{absorbed.pk})"]
    audit_record(
        user=by, client_id=survivor.pk, subject=Subject.CLIENT, object_id=survivor.pk, action=Action.MERGE,
        changes=changes, version=survivor.version,
    )
    audit_record(  # after the move: it stays with the absorbed client
        user=by, client_id=absorbed.pk, subject=Subject.CLIENT, object_id=absorbed.pk, action=Action.MERGE,
        changes={"merged_into": ["", f"{survivor} (#{survivor.pk})"], **({"client_ref": [absorbed_ref, ""]} if absorbed_ref else {})},
    )
    lifecycle_refresh_client(survivor.pk)  # figures, status, the welcome call if new, and the colour
    with connection.cursor() as cursor:
        recommendations_mark(cursor, [absorbed.pk])  # its purchases left: the night drops its recommendations
    survivor.refresh_from_db()
    return survivor


@transaction.atomic
def clients_not_duplicates(*, by: User, first: Client, second: Client) -> NotDuplicate:
    """Two clients someone checked and found different: never offered as a pair again."""
    low, high = sorted([first.pk, second.pk])
    pair, _created = NotDuplicate.objects.get_or_create(first_id=low, second_id=high, defaults={"by": by})
    return pair


def _records_move(survivor: Client, absorbed: Client) -> None:
    both = {"survivor_id": survivor.pk, "absorbed_id": absorbed.pk}
    _shares_unite(survivor, absorbed)
    _automatic_followups_keep_one(**both)
    FollowUp.objects.filter(client_id=absorbed.pk).update(client_id=survivor.pk, sequence=models.F("sequence") + 1)
    Recommendation.objects.filter(client_id=absorbed.pk).delete()
    Client.objects.filter(merged_into_id=absorbed.pk).update(merged_into_id=survivor.pk)
    # Whom the absorbed client brought, the survivor brought (never itself).
    Client.objects.filter(referred_by_id=absorbed.pk).exclude(pk=survivor.pk).update(referred_by_id=survivor.pk)
    for relation in Client._meta.related_objects:
        model, name = relation.related_model, relation.field.name
        if model in _HANDLED or not relation.one_to_many:
            continue
        manager = model._default_manager
        if hasattr(manager, "before_client_merge"):
            manager.before_client_merge(**both)
        elif _unique_with_client(model, name):
            raise NotImplementedError(f"{model._meta.label} is unique per client: give its manager before_client_merge()")
        manager.filter(**{f"{name}_id": absorbed.pk}).update(**{f"{name}_id": survivor.pk})


def _unique_with_client(model, name: str) -> bool:
    together = [set(fields) for fields in model._meta.unique_together]
    constraints = [set(c.fields) for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    return any(name in fields for fields in together + constraints)


def _shares_unite(survivor: Client, absorbed: Client) -> None:
    """Whoever saw either client sees the survivor: the shares united, and the absorbed client's
    owner, whose follow-ups and history move with it, keeps seeing it through a share."""
    users = set(ClientShare.objects.filter(client_id__in=[survivor.pk, absorbed.pk]).values_list("user_id", flat=True))
    users.add(absorbed.owner_id)
    users.discard(survivor.owner_id)
    ClientShare.objects.filter(client_id=absorbed.pk).delete()
    already = set(ClientShare.objects.filter(client_id=survivor.pk).values_list("user_id", flat=True))
    ClientShare.objects.bulk_create(ClientShare(client_id=survivor.pk, user_id=pk) for pk in sorted(users - already))


def _automatic_followups_keep_one(*, survivor_id: int, absorbed_id: int) -> None:
    """An automatic follow-up exists once per client and trigger (followup_automatic_once): where
    both clients have one for the same trigger, the absorbed client's keeps its history under a
    key of its own and, if still pending, is cancelled (the survivor's does the job). A handful
    of rows at most: one client's automatic calls."""
    same_trigger = FollowUp.objects.filter(
        client_id=survivor_id, origin=models.OuterRef("origin"), origin_key=models.OuterRef("origin_key"),
    )
    twins = FollowUp.objects.filter(client_id=absorbed_id).exclude(origin=FollowUp.Origin.MANUAL).filter(Exists(same_trigger))
    for twin in twins:
        twin.origin_key = f"{twin.origin_key}~{absorbed_id}"[-32:]
        if twin.status in (FollowUp.State.PENDING, FollowUp.State.ON_HOLD):
            twin.status = FollowUp.State.CANCELLED
            twin.cancel_reason = _("Merged into another client, which has the same call.")
        twin.save(update_fields=["origin_key", "status", "cancel_reason"])
