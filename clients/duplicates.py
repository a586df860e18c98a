"""Likely duplicates: which clients look like the same person or company.

The rule: two clients (neither in the trash nor merged) are likely the same when they share
* the tax id (Client.tax_key: case, spaces and dashes do not count),
* the e-mail (stored in lower case),
* the phone (Client.phone_key: its last nine digits, whatever prefix or format), or
* the name in the same city: the same folded words in any order ("Pérez Ana" is "ana perez"),
  or the same company name ("Acme" is "Acme (Ana Pérez)").

Every test is an equality or a range on an indexed column (tax_key, email, phone_key,
sort_name, and UPPER(city) for the city), so a check costs a few index probes at a million
clients (about 2 ms on PostgreSQL); there is no fuzzy scan. The page of pairs groups the clients a user sees by each key in
SQL and shows at most PAIRS_SHOWN pairs.
"""

from dataclasses import dataclass, field
from itertools import permutations

from django.db.models import Count, F, Q, Value, Window
from django.db.models.functions import Concat, Upper
from django.utils.translation import gettext as _

from clients.models import Client, NotDuplicate
from clients.text import fold, phone_key, tax_key


class Reason:
    TAX_ID = "tax_id"
    EMAIL = "email"
    PHONE = "phone"
    NAME = "name"
    ALL = (TAX_ID, EMAIL, PHONE, NAME)


MATCHES_SHOWN = 10  # a form's warning lists at most this many matches
PAIRS_SHOWN = 100  # the page of duplicates shows at most this many pairs
ROWS_PER_KEY = 500  # clients read per kind of key for the page (a bounded read whatever the data)
NAME_PERMUTED_WORDS = 4  # up to 4 words every order is tried (24 names); longer names as written


@dataclass
class Match:
    client: Client
    reasons: list[str] = field(default_factory=list)


def name_variants(first_name: str = "", last_name: str = "", company_name: str = "") -> set[str]:
    """The sort_name values a client with this name may be stored under (Client.sort_name)."""
    shown = fold(Client.name_shown(first_name, last_name, company_name))[:255]
    variants = {shown} if shown else set()
    if company_name.strip():
        variants.add(fold(company_name)[:255])  # "Acme" and "Acme (Ana Pérez)" are the same company
    else:
        words = fold(f"{first_name} {last_name}").split()
        if 1 < len(words) <= NAME_PERMUTED_WORDS:
            variants |= {" ".join(order) for order in permutations(words)}
    return variants


def likely_duplicates_of(data: dict, *, exclude_pk: int | None = None) -> list[Match]:
    """The clients that look like the one described by `data` (a client form's cleaned data),
    with the reasons for each; `exclude_pk` is the client being edited. Visibility is the
    caller's to apply (split_by_visibility): this reads every portfolio."""
    keys = {
        Reason.TAX_ID: tax_key(data.get("tax_id") or ""),
        Reason.EMAIL: (data.get("email") or "").strip().lower(),
        Reason.PHONE: phone_key(data.get("phone") or ""),
    }
    column = {Reason.TAX_ID: "tax_key", Reason.EMAIL: "email", Reason.PHONE: "phone_key"}
    rule = Q()
    for reason, value in keys.items():
        if value:
            rule |= Q(**{column[reason]: value})
    city = (data.get("city") or "").strip()
    names = name_variants(data.get("first_name") or "", data.get("last_name") or "", data.get("company_name") or "")
    company = fold(data.get("company_name") or "")
    if city and names:
        same_name = Q(sort_name__in=sorted(names))
        if company:  # "Acme" finds "Acme (Ana Pérez)": a prefix, as a range the sort_name index reads
            prefix = f"{company} ("
            same_name |= Q(sort_name__gte=prefix, sort_name__lt=prefix + "\uffff", sort_name__startswith=prefix)
        rule |= same_name & Q(city_upper=city.upper())
    if not rule:
        return []
    candidates = (
        Client.objects.not_in_trash().filter(merged_into__isnull=True).annotate(city_upper=Upper("city")).filter(rule)
        .exclude(pk=exclude_pk).select_related("owner").order_by("pk")[:MATCHES_SHOWN]
    )
    matches = []
    for client in candidates:
        reasons = [reason for reason, value in keys.items() if value and getattr(client, column[reason]) == value]
        same_name = client.sort_name in names or (company and client.sort_name.startswith(f"{company} ("))
        if city and client.city_upper == city.upper() and same_name:
            reasons.append(Reason.NAME)
        matches.append(Match(client=client, reasons=reasons))
    return matches


def reason_text(reason: str, city: str = "") -> str:
    return {
        Reason.TAX_ID: _("same tax id"),
        Reason.EMAIL: _("same e-mail"),
        Reason.PHONE: _("same phone"),
        Reason.NAME: _("similar name in %(city)s") % {"city": city},
    }[reason]


def hidden_match_text(reason: str) -> str:
    """What a user learns of a match in a portfolio they cannot see: the reason, nothing else."""
    return {
        Reason.TAX_ID: _("A client with this tax id already exists in another salesperson's portfolio: ask your gerente."),
        Reason.EMAIL: _("A client with this e-mail already exists in another salesperson's portfolio: ask your gerente."),
        Reason.PHONE: _("A client with this phone already exists in another salesperson's portfolio: ask your gerente."),
        Reason.NAME: _(
            "A client with a very similar name in this city already exists in another salesperson's portfolio: "
            "ask your gerente."
        ),
    }[reason]


def split_by_visibility(user, matches: list[Match]) -> tuple[list[Match], list[str]]:
    """(the matches `user` may open, the reasons of those they may not): the hidden ones are
    reduced to their reasons so that no name, id or detail of another portfolio leaks."""
    if not matches:
        return [], []
    visible_ids = set(Client.objects.visible_to(user).filter(pk__in=[m.client.pk for m in matches]).values_list("pk", flat=True))
    shown = [m for m in matches if m.client.pk in visible_ids]
    hidden = []
    for match in matches:
        if match.client.pk not in visible_ids:
            hidden += [reason for reason in match.reasons if reason not in hidden]
    return shown, [reason for reason in Reason.ALL if reason in hidden]


# The page of pairs

@dataclass
class Pair:
    first: Client
    second: Client
    reasons: list[str]

    def reason_texts(self) -> list[str]:
        return [reason_text(reason, self.first.city) for reason in self.reasons]


def _keyed_rows(clients, key: str) -> list[tuple[int, str]]:
    """(id, key) of the clients sharing `key` with another one, in key order: one window query."""
    if key == Reason.NAME:
        clients = clients.exclude(city="").annotate(dup_key=Concat(Upper("city"), Value("\x1f"), "sort_name"))
    else:
        column = {Reason.TAX_ID: "tax_key", Reason.EMAIL: "email", Reason.PHONE: "phone_key"}[key]
        clients = clients.exclude(**{column: ""}).annotate(dup_key=F(column))
    shared = clients.annotate(n=Window(Count("id"), partition_by=[F("dup_key")])).filter(n__gt=1)
    return list(shared.values_list("pk", "dup_key").order_by("dup_key", "pk")[:ROWS_PER_KEY])


def duplicate_pairs(user, *, limit: int = PAIRS_SHOWN) -> list[Pair]:
    """Pairs of likely duplicates among the clients `user` sees, with their reasons, less the
    pairs someone marked as different. Within a group sharing a key each client is paired with
    the group's oldest (the natural survivor), not with every other: n - 1 pairs, not n²."""
    clients = Client.objects.visible_to(user).filter(merged_into__isnull=True)  # the trash is already left out
    reasons: dict[tuple[int, int], list[str]] = {}
    for key in Reason.ALL:
        groups: dict[str, list[int]] = {}
        for pk, value in _keyed_rows(clients, key):
            groups.setdefault(value, []).append(pk)
        for ids in groups.values():
            for other in ids[1:]:
                reasons.setdefault((ids[0], other), []).append(key)
    if not reasons:
        return []
    ids = sorted({pk for pair in reasons for pk in pair})
    checked = set(
        NotDuplicate.objects.filter(first_id__in=ids, second_id__in=ids).values_list("first_id", "second_id")
    )
    pairs = sorted(pair for pair in reasons if pair not in checked)[:limit]
    shown = Client.objects.select_related("owner").in_bulk({pk for pair in pairs for pk in pair})
    return [Pair(first=shown[a], second=shown[b], reasons=reasons[(a, b)]) for a, b in pairs]
