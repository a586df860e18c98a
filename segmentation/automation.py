"""Follow-ups that rules ask for (DOMAIN.md "Rhythm of a day"), each rule switchable with its day count.

* reactivation: a client turned dormant (a StatusChange to dormant dated in the last
  CATCH_UP_DAYS days, so that a missed night is caught up) and is still dormant → a call for the
  owner, due reactivation_due_days after the change. Key: the date of the change.
* renewal: a contract with renewal pending ends between as_of and as_of + renewal_call_days
  (Contract.objects.renewal_due), and the client is not lost → a call for the owner, due on
  as_of. Key: the contract's id.
* welcome: a client is new (alta) → a call for the owner welcome_after_days after the first
  purchase (on as_of when that day has passed). Key: empty — once per client, ever.

A rule never creates the same follow-up twice: candidates are selected with NOT EXISTS against
the follow-ups of that origin and key, and the partial unique constraint followup_automatic_once
(client, origin, origin_key) guards against two runs racing. Each rule is one SELECT of the
candidates (only the clients the rule fires for, not every client) and a bulk INSERT of them.
Follow-ups are due at DUE_TIME local time and carry no creator (created_by is empty).
"""

import datetime as dt

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from clients.models import Client, Contract, FollowUp, Status, not_in_trash
from segmentation.models import StatusChange
from segmentation.rules import Thresholds

CATCH_UP_DAYS = 7
DUE_TIME = dt.time(10, 0)
BATCH_SIZE = 5_000


def _due_at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, DUE_TIME))


def _already(origin: str, key) -> Exists:
    return Exists(FollowUp.objects.filter(client_id=OuterRef("client_id"), origin=origin, origin_key=key))


def _scoped(queryset: QuerySet, client_ids: list[int] | None, field: str = "client_id") -> QuerySet:
    return queryset if client_ids is None else queryset.filter(**{f"{field}__in": client_ids})


SCOPE_LIMIT = 1_000  # beyond this many clients (a large import), the rules run for everyone: same result


def _reactivations(as_of: dt.date, thresholds: Thresholds, client_ids) -> list[FollowUp]:
    changes = (
        _scoped(StatusChange.objects, client_ids)
        .filter(
            not_in_trash("client__"), to_status=Status.DORMANT, date__gt=as_of - dt.timedelta(days=CATCH_UP_DAYS),
            date__lte=as_of, client__status=Status.DORMANT,
        )
        .exclude(from_status=Status.DORMANT)
        .annotate(key=Cast("date", CharField(max_length=32)))
        .filter(~_already(FollowUp.Origin.REACTIVATION, OuterRef("key")))
        .values_list("client_id", "client__owner_id", "date")
        .order_by("client_id", "date")
    )
    # One call per client even if it turned dormant twice within the catch-up window: the latest.
    latest: dict[int, tuple[int, dt.date]] = {}
    for client_id, owner_id, date in changes:
        latest[client_id] = (owner_id, date)
    delay = dt.timedelta(days=thresholds.reactivation_due_days)
    return [
        FollowUp(
            client_id=client_id, assigned_to_id=owner_id, kind=FollowUp.Kind.CALL, due_at=_due_at(date + delay),
            origin=FollowUp.Origin.REACTIVATION, origin_key=date.isoformat(),
        )
        for client_id, (owner_id, date) in latest.items()
    ]


def _renewals(as_of: dt.date, thresholds: Thresholds, client_ids) -> list[FollowUp]:
    contracts = (
        _scoped(Contract.objects.renewal_due(as_of, thresholds.renewal_call_days), client_ids)
        .exclude(client__status=Status.LOST)
        .filter(not_in_trash("client__"))
        .annotate(key=Cast("id", CharField(max_length=32)))
        .filter(~_already(FollowUp.Origin.RENEWAL, OuterRef("key")))
        .values_list("id", "client_id", "client__owner_id")
    )
    return [
        FollowUp(
            client_id=client_id, assigned_to_id=owner_id, kind=FollowUp.Kind.CALL, due_at=_due_at(as_of),
            origin=FollowUp.Origin.RENEWAL, origin_key=str(contract_id),
        )
        for contract_id, client_id, owner_id in contracts
    ]


def _welcomes(as_of: dt.date, thresholds: Thresholds, client_ids) -> list[FollowUp]:
    clients = (
        _scoped(Client.objects.not_in_trash(), client_ids, "id")
        .filter(status=Status.NEW, first_purchase_date__isnull=False)
        .filter(~Exists(FollowUp.objects.filter(client_id=OuterRef("id"), origin=FollowUp.Origin.WELCOME)))
        .values_list("id", "owner_id", "first_purchase_date")
    )
    delay = dt.timedelta(days=thresholds.welcome_after_days)
    return [
        FollowUp(
            client_id=client_id, assigned_to_id=owner_id, kind=FollowUp.Kind.CALL,
            due_at=_due_at(max(first + delay, as_of)), origin=FollowUp.Origin.WELCOME, origin_key="",
        )
        for client_id, owner_id, first in clients
    ]


RULES = (
    (FollowUp.Origin.REACTIVATION, "auto_reactivation_enabled", _reactivations),
    (FollowUp.Origin.RENEWAL, "auto_renewal_enabled", _renewals),
    (FollowUp.Origin.WELCOME, "auto_welcome_enabled", _welcomes),
)


@transaction.atomic
def automatic_followups_create(
    *, as_of: dt.date, thresholds: Thresholds, client_ids: list[int] | None = None,
) -> dict[str, int]:
    """Creates the follow-ups the switched-on rules ask for on `as_of`; returns how many per rule.

    `client_ids`: only these clients (a refresh during the day); None: every client (the nightly run).
    """
    if client_ids is not None and len(client_ids) > SCOPE_LIMIT:
        client_ids = None
    created: dict[str, int] = {}
    for origin, switch, candidates in RULES:
        if not getattr(thresholds, switch):
            created[origin.value] = 0
            continue
        followups = candidates(as_of, thresholds, client_ids)
        FollowUp.objects.bulk_create(followups, batch_size=BATCH_SIZE, ignore_conflicts=True)
        created[origin.value] = len(followups)
    return created
