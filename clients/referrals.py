"""Referrals: who brought whom (Client.referred_by), read under the access rule.

A referrer's page lists the clients it brought that the viewer may see, with what they spend; the
best referrers page ranks the referrers the viewer may see by the clients they brought (those the
viewer may see too) and by their revenue. Each is one grouped query whatever the portfolio's size.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from clients.models import Client, Status, portfolio_scope, trashed_ids

REFERRALS_SHOWN = 50  # on the referrer's page
REFERRERS_SHOWN = 100  # on the best referrers page


@dataclass
class Referrals:
    clients: list[Client]
    count: int
    spend_12m: Decimal
    total_spent: Decimal


def referrals_of(client: Client, *, visible) -> Referrals:
    """The clients `client` brought among `visible` (Client.objects.visible_to(viewer)), the
    biggest spenders first, with their count and revenue (all of them, not only those listed)."""
    referred = visible.filter(referred_by_id=client.pk)
    clients = list(referred.order_by("-spend_12m", "-total_spent", "id")[:REFERRALS_SHOWN + 1])
    if len(clients) <= REFERRALS_SHOWN:  # all of them listed: no second query for the totals
        return Referrals(
            clients=clients, count=len(clients), spend_12m=sum((c.spend_12m for c in clients), Decimal("0")),
            total_spent=sum((c.total_spent for c in clients), Decimal("0")),
        )
    totals = referred.aggregate(n=Count("pk"), spend=Sum("spend_12m"), total=Sum("total_spent"))
    return Referrals(
        clients=clients[:REFERRALS_SHOWN], count=totals["n"], spend_12m=totals["spend"], total_spent=totals["total"],
    )


ORDERS = {
    "clients": ("-referred", "-spend_12m", "referred_by_id"),
    "revenue": ("-spend_12m", "-referred", "referred_by_id"),
}


def best_referrers(*, user, order: str = "clients") -> list[dict]:
    """The referrers `user` may see, ranked by the clients they brought that `user` may see (or
    by those clients' 12-month revenue): {"client": referrer, "referred", "active", "spend_12m",
    "total_spent"}. One grouped query over the referred clients, one for the referrers' names."""
    scope = portfolio_scope(user)
    visible = Client.objects.visible_in(scope)
    if scope is not None and scope.owners is None:
        # Every client not in the trash is visible: exclude the few trashed referrers rather
        # than match a million visible ids (1.7 s at a million clients).
        referred = visible.filter(referred_by__isnull=False).exclude(referred_by__in=trashed_ids())
    else:
        referred = visible.filter(referred_by__in=visible.values("pk"))
    rows = list(
        referred
        .values("referred_by_id")
        .annotate(
            referred=Count("pk"), active=Count("pk", filter=Q(status__in=[Status.NEW, Status.ACTIVE])),
            spend_12m=Sum("spend_12m"), total_spent=Sum("total_spent"),
        )
        .order_by(*ORDERS.get(order, ORDERS["clients"]))[:REFERRERS_SHOWN]
    )
    referrers = Client.objects.select_related("owner").in_bulk([row["referred_by_id"] for row in rows])
    return [{"client": referrers[row["referred_by_id"]], **row} for row in rows if row["referred_by_id"] in referrers]
