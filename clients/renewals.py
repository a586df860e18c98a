"""Contracts: who may change them, what can happen to one next, and the renewal portfolio.

Who may create, edit, renew and end a client's contracts (and mark a renewal proposal sent): the
client's owner, the gerente of the owner's team, an administrador. A colleague the client is only
shared with sees the contracts but does not change them. `may_manage_contracts` is the one rule:
the services in segmentation/records.py enforce it and the pages use it to show their buttons.

The renewal portfolio (`renewal_portfolio`) is the contracts ending between today and today +
`days` of the salespeople in the user's charge: a comercial's own clients, a gerente's and their
team's, every client for an administrador (a client that is only shared with the user is not in
their portfolio). Each contract gets its renewal state, derived in the same SELECT:

* renewed / lost: its renewal status says so (contract_renew, contract_end);
* proposal sent: its renewal status is "negotiating" (contract_proposal_sent);
* call booked: the client has a pending follow-up, or this contract's automatic renewal call
  (origin renewal, key = the contract's id) was booked and is pending or done;
* nothing done: none of the above.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from clients.models import Client, Contract, FollowUp, not_in_trash

WINDOWS = (30, 60, 90)
PAGE_LIMIT = 500  # rows shown on the page; the totals and the export count them all


def may_manage_contracts(user: User, client: Client) -> bool:
    """The owner, the gerente of the owner's team, or an administrador."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_administrador or client.owner_id == user.pk:
        return True
    return user.is_gerente and user.managed_teams.filter(members=client.owner_id).exists()


def is_current(contract: Contract, today: dt.date) -> bool:
    """Still running and still open: neither renewed nor lost, and not past its end."""
    return contract.renewal_status in (Contract.Renewal.PENDING, Contract.Renewal.IN_NEGOTIATION) and (
        contract.end_date >= today
    )


def can_renew(contract: Contract) -> bool:
    """Not renewed yet and not ended on purpose."""
    return contract.renewal_status in (Contract.Renewal.PENDING, Contract.Renewal.IN_NEGOTIATION)


def can_end(contract: Contract) -> bool:
    return can_renew(contract)


def can_mark_proposal_sent(contract: Contract) -> bool:
    return contract.renewal_status == Contract.Renewal.PENDING


def renewal_defaults(contract: Contract) -> dict:
    """The renewal's form, prefilled: same title and value, from the day after the old end for a
    term of the same length."""
    term = contract.end_date - contract.start_date
    try:
        start = contract.end_date + dt.timedelta(days=1)
        end = start + term
    except OverflowError:  # a term ending at the calendar's last day: the user picks the dates
        start, end = contract.end_date, contract.end_date
    return {"title": contract.title, "value": contract.value, "start_date": start, "end_date": end}


def contracts_for_page(contracts: list[Contract], today: dt.date | None = None) -> list[dict]:
    """A client's contracts for its page: the current ones first (ending soonest first), then the
    renewed, lost and expired ones (latest first), each with what may be done with it."""
    today = today or timezone.localdate()
    current = sorted((c for c in contracts if is_current(c, today)), key=lambda c: (c.end_date, c.pk))
    past = sorted((c for c in contracts if not is_current(c, today)), key=lambda c: (c.end_date, c.pk), reverse=True)
    return [
        {
            "contract": contract, "current": index < len(current), "can_renew": can_renew(contract),
            "can_end": can_end(contract), "can_mark_proposal_sent": can_mark_proposal_sent(contract),
            "days_left": contract.days_to_end(today),
            "renewal_label": RenewalState.LABELS[RenewalState.OF_STATUS[contract.renewal_status]],
            "badge": RenewalState.BADGES[RenewalState.OF_STATUS[contract.renewal_status]],
        }
        for index, contract in enumerate([*current, *past])
    ]


# The renewal portfolio

class RenewalState:
    NOTHING = "nothing"
    CALL = "call"
    PROPOSAL = "proposal"
    RENEWED = "renewed"
    LOST = "lost"

    CHOICES = (
        (NOTHING, _("Nothing done yet")),
        (CALL, _("Call booked")),
        (PROPOSAL, _("Proposal sent")),
        (RENEWED, _("Renewed")),
        (LOST, pgettext_lazy("renewal", "Lost")),  # a lost renewal, not the client status "lost"
    )
    LABELS = dict(CHOICES)
    BADGES = {
        NOTHING: "text-bg-warning", CALL: "text-bg-primary", PROPOSAL: "text-bg-info", RENEWED: "text-bg-success",
        LOST: "text-bg-danger",
    }
    OPEN = (NOTHING, CALL, PROPOSAL)  # still to be won: their value is at stake
    # A contract's stored renewal status in the same words (the client page has no "call booked").
    OF_STATUS = {
        Contract.Renewal.PENDING: NOTHING, Contract.Renewal.IN_NEGOTIATION: PROPOSAL,
        Contract.Renewal.RENEWED: RENEWED, Contract.Renewal.NOT_RENEWING: LOST,
    }


def portfolio_owner_ids(user: User) -> list[int] | None:
    """Whose contracts are in `user`'s renewal portfolio; None: everyone's (an administrador)."""
    if user.is_administrador:
        return None
    owners = {user.pk}
    if user.is_gerente:
        owners |= set(user.managed_teams.values_list("members", flat=True)) - {None}
    return sorted(owners)


def renewal_portfolio(
    *, user: User, days: int, today: dt.date | None = None, owner: User | None = None, team_id: int | None = None,
) -> QuerySet[Contract]:
    """The contracts ending within `days` in `user`'s portfolio (optionally one salesperson's or one
    team's), sorted by end date, each annotated with `renewal_state`; client and salesperson joined."""
    today = today or timezone.localdate()
    contracts = Contract.objects.filter(
        not_in_trash("client__"), end_date__gte=today, end_date__lte=today + dt.timedelta(days=days),
    )
    owner_ids = portfolio_owner_ids(user)
    if owner_ids is not None:
        contracts = contracts.filter(client__owner_id__in=owner_ids)
    if owner is not None:
        contracts = contracts.filter(client__owner=owner)
    if team_id is not None:
        contracts = contracts.filter(client__owner__team_id=team_id)
    pending_followup = FollowUp.objects.filter(client_id=OuterRef("client_id"), status=FollowUp.State.PENDING)
    renewal_call = FollowUp.objects.filter(
        client_id=OuterRef("client_id"), origin=FollowUp.Origin.RENEWAL, origin_key=OuterRef("key"),
        status__in=(FollowUp.State.PENDING, FollowUp.State.DONE),
    )
    return (
        contracts.annotate(key=Cast("id", CharField(max_length=32)))
        .annotate(
            renewal_state=Case(
                When(renewal_status=Contract.Renewal.RENEWED, then=Value(RenewalState.RENEWED)),
                When(renewal_status=Contract.Renewal.NOT_RENEWING, then=Value(RenewalState.LOST)),
                When(renewal_status=Contract.Renewal.IN_NEGOTIATION, then=Value(RenewalState.PROPOSAL)),
                When(Exists(pending_followup) | Exists(renewal_call), then=Value(RenewalState.CALL)),
                default=Value(RenewalState.NOTHING),
                output_field=CharField(),
            )
        )
        .select_related("client", "client__owner")
        .order_by("end_date", "id")
    )


@dataclass
class StateTotal:
    state: str
    label: str
    contracts: int = 0
    value: Decimal = Decimal("0")


@dataclass
class PortfolioTotals:
    states: list[StateTotal]
    contracts: int
    value: Decimal  # of every contract in the window
    at_stake: Decimal  # of those neither renewed nor lost yet


def portfolio_totals(portfolio: QuerySet[Contract]) -> PortfolioTotals:
    """Contracts and value per renewal state, in one GROUP BY."""
    grouped = {
        row["renewal_state"]: row
        for row in portfolio.order_by().values("renewal_state").annotate(n=Count("pk"), v=Sum("value"))
    }
    states = [
        StateTotal(code, str(label), grouped.get(code, {}).get("n", 0), grouped.get(code, {}).get("v") or Decimal("0"))
        for code, label in RenewalState.CHOICES
    ]
    return PortfolioTotals(
        states=states,
        contracts=sum(s.contracts for s in states),
        value=sum((s.value for s in states), Decimal("0")),
        at_stake=sum((s.value for s in states if s.state in RenewalState.OPEN), Decimal("0")),
    )


def renewal_aggregates(renewed: Q, lost: Q) -> dict:
    """The four figures of a renewal rate as aggregates, for the contracts (renewal_outcomes) or
    the night's renewal snapshot (the dashboard): `renewed` and `lost` tell the two apart."""
    return {
        "n_renewed": Count("pk", filter=renewed), "n_lost": Count("pk", filter=lost),
        "renewed_value": Sum("value", filter=renewed), "lost_value": Sum("value", filter=lost),
    }


def renewal_outcomes(*, owner_ids: list[int], since: dt.date, until: dt.date, contracts: QuerySet | None = None) -> dict:
    """Of the contracts of these salespeople's clients that came to term between `since` and
    `until` (both included; a contract ended early counts at the day it ended): how many were
    renewed and lost and their value (renewal_rate gives the rate). `contracts`: only among these."""
    return (contracts if contracts is not None else Contract.objects.all()).filter(
        not_in_trash("client__"), client__owner_id__in=owner_ids, end_date__gte=since, end_date__lte=until,
    ).aggregate(**renewal_aggregates(Q(renewal_status=Contract.Renewal.RENEWED), Q(renewal_status=Contract.Renewal.NOT_RENEWING)))


def renewal_rate(*figures: dict, since: dt.date, until: dt.date) -> dict:
    """The sum of renewal_aggregates' `figures` with the rate renewed ÷ (renewed + lost) in %."""
    renewed, lost = (sum(part[name] for part in figures) for name in ("n_renewed", "n_lost"))
    renewed_value, lost_value = (
        sum((part[name] or 0 for part in figures), Decimal("0")) for name in ("renewed_value", "lost_value")
    )
    decided = renewed + lost
    return {
        "since": since, "until": until, "renewed": renewed, "lost": lost,
        "renewed_value": renewed_value, "lost_value": lost_value,
        "rate": round(renewed * 100 / decided, 1) if decided else None,
    }
