""""Suggest from my best clients": the attribute values over-represented among the top clients.

The top clients are the loyal buyers with the highest 12-month spend: among the clients not in
the trash that are new or active, bought at least twice and buy frequently or habitually
(frequency class), the best TOP_SHARE by spend_12m (ties at the cut included). Each attribute
value's share among them is set against its share among all the clients not in the trash:

    lift = (top clients with the value / top clients) / (clients with the value / clients)

A value is proposed when at least MIN_TOP_CLIENTS and MIN_TOP_SHARE of the top clients have it
and its lift is at least MIN_LIFT; its weight is round(2 × lift), within 1..MAX_WEIGHT. At most
PER_ATTRIBUTE values per attribute, the strongest first. One grouped query per attribute (and
three for the top clients' cut): a constant number whatever the number of clients.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, CharField, Count, Q, Value, When
from django.utils.translation import gettext as _

from clients.models import Client, FrequencyClass, Status
from icp.models import MAX_WEIGHT, Attribute, Kind

TOP_SHARE = Decimal("0.2")
MIN_TOP_CLIENTS = 3  # of the top clients with the value
MIN_TOP_SHARE = Decimal("0.2")
MIN_LIFT = Decimal("1.5")
PER_ATTRIBUTE = 3
MIN_POPULATION = 5  # top clients needed for any suggestion


@dataclass(frozen=True)
class Suggestion:
    attribute: str
    value: str
    top: int  # top clients with the value
    top_total: int
    all: int  # clients with the value
    all_total: int

    @property
    def top_share(self) -> Decimal:
        return Decimal(self.top) / self.top_total

    @property
    def all_share(self) -> Decimal:
        return Decimal(self.all) / self.all_total

    @property
    def lift(self) -> Decimal:
        return self.top_share / self.all_share

    @property
    def weight(self) -> int:
        return max(1, min(MAX_WEIGHT, int((2 * self.lift).quantize(Decimal("1"), ROUND_HALF_UP))))

    @property
    def evidence(self) -> str:
        """"42 % of top clients vs 11 % of all: 3.8×"."""
        return _("%(top)s %% of top clients vs %(all)s %% of all: %(lift)s×") % {
            "top": _percent(self.top_share), "all": _percent(self.all_share),
            "lift": f"{self.lift.quantize(Decimal('0.1'), ROUND_HALF_UP)}",
        }


def _percent(share: Decimal) -> str:
    return str((share * 100).quantize(Decimal("1"), ROUND_HALF_UP))


@dataclass
class Suggestions:
    top_total: int
    all_total: int
    items: list[Suggestion]

    @property
    def enough(self) -> bool:
        return self.top_total >= MIN_POPULATION


def _loyal() -> Q:
    return Q(
        status__in=[Status.NEW, Status.ACTIVE], purchase_count__gte=2, spend_12m__gt=0,
        frequency_class__in=[FrequencyClass.FREQUENT, FrequencyClass.HABITUAL],
    )


def top_clients_rule() -> Q | None:
    """The rule that picks the top clients (None: no loyal buyer)."""
    loyal = Client.objects.not_in_trash().filter(_loyal())
    count = loyal.count()
    if not count:
        return None
    rank = max(1, math.ceil(count * TOP_SHARE))
    cut = loyal.order_by("-spend_12m", "id").values_list("spend_12m", flat=True)[rank - 1]
    return _loyal() & Q(spend_12m__gte=cut)


_KIND = Case(When(company_name="", then=Value(Kind.PERSON)), default=Value(Kind.COMPANY), output_field=CharField())
_COLUMNS = {
    Attribute.SECTOR: "sector", Attribute.ECONOMIC_LEVEL: "economic_level", Attribute.REGION: "region",
    Attribute.CITY: "city", Attribute.COUNTRY: "country", Attribute.CHANNEL: "preferred_channel",
    Attribute.SOURCE: "source", Attribute.PAYMENT_METHOD: "payment_method",
}


def criteria_suggest() -> Suggestions:
    """The suggested criteria, strongest first within each attribute (attributes in their order)."""
    top_rule = top_clients_rule()
    clients = Client.objects.not_in_trash()
    if top_rule is None:
        return Suggestions(top_total=0, all_total=0, items=[])
    totals = clients.aggregate(all=Count("pk"), top=Count("pk", filter=top_rule))
    result = Suggestions(top_total=totals["top"], all_total=totals["all"], items=[])
    if not result.enough:
        return result
    for attribute in Attribute.values:
        if attribute == Attribute.INTEREST:
            through = Client.interests.through.objects.filter(client__deleted_at__isnull=True)
            rows = (
                through.values_list("category_id")
                .annotate(all=Count("client_id"), top=Count("client_id", filter=_prefixed(top_rule, "client__")))
                .order_by()
            )
        else:
            key = "kind" if attribute == Attribute.KIND else _COLUMNS[attribute]
            grouped = clients.annotate(kind=_KIND) if attribute == Attribute.KIND else clients
            rows = (
                grouped.exclude(**{key: ""}).values_list(key)
                .annotate(all=Count("pk"), top=Count("pk", filter=top_rule)).order_by()
            )
        found = [
            Suggestion(attribute, str(value), top, result.top_total, every, result.all_total)
            for value, every, top in rows if top
        ]
        kept = [
            s for s in found
            if s.top >= MIN_TOP_CLIENTS and s.top_share >= MIN_TOP_SHARE and s.lift >= MIN_LIFT
        ]
        kept.sort(key=lambda s: (-s.lift, -s.top, s.value))
        result.items.extend(kept[:PER_ATTRIBUTE])
    return result


def _prefixed(rule: Q, prefix: str) -> Q:
    """`rule` on the related client (its lookups prefixed)."""
    prefixed = Q()
    prefixed.connector, prefixed.negated = rule.connector, rule.negated
    for child in rule.children:
        if isinstance(child, Q):
            prefixed.children.append(_prefixed(child, prefix))
        else:
            key, value = child
            prefixed.children.append((prefix + key, value))
    return prefixed
