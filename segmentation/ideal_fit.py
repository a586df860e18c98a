"""The ICP fit of every client, in one UPDATE.

The rule (segmentation/ideal_models.py): the criteria are grouped by attribute; the values of one attribute are
alternatives. A client scores, for each attribute, the weight of the best value it matches (0
when none); its fit is that score over the best score possible (the sum of each attribute's
highest weight), as a whole percentage rounded half up:

    fit = round_half_up(100 × Σ_attribute matched weight / Σ_attribute highest weight)

computed in integers as (200 × score + best) div (2 × best), so PostgreSQL, SQLite and Python give
the same number. No criterion: every fit is NULL. Interests (Client.interests) match when the
client has any of the categories; "company or person" reads whether company_name is set; the
other attributes compare the column with the stored value as written.

The UPDATE writes only the rows whose fit changes (IS DISTINCT FROM), and skips the trash.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping

from django.db import connection

from clients.models import NOT_IN_TRASH_SQL, Client
from core.sql import distinct_from, in_list
from segmentation.ideal_models import Attribute, Criterion, Kind

CLIENTS = Client._meta.db_table
INTERESTS = Client.interests.through._meta.db_table
# The attributes read straight from a column of the client (the others: interest, kind).
COLUMNS = {
    Attribute.SECTOR: "sector", Attribute.ECONOMIC_LEVEL: "economic_level", Attribute.REGION: "region",
    Attribute.CITY: "city", Attribute.COUNTRY: "country", Attribute.CHANNEL: "preferred_channel",
    Attribute.SOURCE: "source", Attribute.PAYMENT_METHOD: "payment_method",
}

Weights = dict[str, dict[str, int]]  # attribute -> value -> weight


def criteria_weights(criteria=None) -> Weights:
    """The criteria as attribute -> value -> weight (all of them, in one query, by default)."""
    rows = Criterion.objects.values_list("attribute", "value", "weight") if criteria is None else criteria
    weights: Weights = defaultdict(dict)
    for attribute, value, weight in rows:
        weights[attribute][value] = int(weight)
    return dict(weights)


def best_score(weights: Weights) -> int:
    return sum(max(values.values()) for values in weights.values() if values)


def fit_from_score(score: int, best: int) -> int:
    """The percentage, rounded half up, as the SQL computes it."""
    return (200 * score + best) // (2 * best)


def _term(attribute: str, values: dict[str, int], params: list) -> str:
    """The weight a client scores on one attribute, as an SQL expression over CLIENTS."""
    if attribute == Attribute.KIND:
        company, person = values.get(Kind.COMPANY, 0), values.get(Kind.PERSON, 0)
        return f"(CASE WHEN {CLIENTS}.company_name <> '' THEN {int(company)} ELSE {int(person)} END)"
    if attribute == Attribute.INTEREST:
        ids = {int(value): weight for value, weight in values.items()}
        cases = " ".join(f"WHEN {pk} THEN {int(weight)}" for pk, weight in ids.items())
        listed = ", ".join(str(pk) for pk in ids)
        subquery = f"SELECT MAX(CASE i.category_id {cases} ELSE 0 END) FROM {INTERESTS} i"  # noqa: S608 - integers
        return f"COALESCE(({subquery} WHERE i.client_id = {CLIENTS}.id AND i.category_id IN ({listed})), 0)"
    column = COLUMNS[attribute]
    cases = []
    for value, weight in values.items():
        cases.append(f"WHEN %s THEN {int(weight)}")
        params.append(value)
    return f"(CASE {CLIENTS}.{column} {' '.join(cases)} ELSE 0 END)"


def fit_expression(weights: Weights) -> tuple[str, list]:
    """The fit of a row of CLIENTS as an SQL expression and its parameters ("NULL" without criteria)."""
    weights = {attribute: values for attribute, values in weights.items() if values}
    best = best_score(weights)
    if not best:
        return "NULL", []
    params: list = []
    score = " + ".join(_term(attribute, values, params) for attribute, values in sorted(weights.items()))
    return f"((200 * ({score}) + {best}) / {2 * best})", params


def fitter(weights: Weights) -> Callable[[Mapping[str, object]], int | None]:
    """The fit of a client with no interests whose columns hold `values` (by column name), as
    fit_expression computes it in SQL, with the criteria read once: a new client's, written with
    its row rather than by an UPDATE after it (an import's 100,000 new rows would each be written
    twice)."""
    weights = {attribute: weighted for attribute, weighted in weights.items() if weighted}
    best = best_score(weights)
    kind = weights.get(Attribute.KIND, {})
    # Interests score nothing (a new client has none); kind reads whether company_name is set.
    columns = [(COLUMNS[a], weighted) for a, weighted in weights.items() if a not in (Attribute.KIND, Attribute.INTEREST)]

    def fit(values: Mapping[str, object]) -> int | None:
        if not best:
            return None
        score = kind.get(Kind.COMPANY if values["company_name"] != "" else Kind.PERSON, 0)
        score += sum(weighted.get(values[column], 0) for column, weighted in columns)
        return fit_from_score(score, best)

    return fit


def fit_recompute(*, weights: Weights | None = None, client_ids: list[int] | None = None) -> int:
    """Writes the fit of every client not in the trash (or of `client_ids`) whose fit changes;
    returns how many rows changed."""
    if client_ids is not None and not client_ids:
        return 0
    if weights is None:
        weights = criteria_weights()
    expression, params = fit_expression(weights)
    where = f"{NOT_IN_TRASH_SQL} AND icp_fit {distinct_from()} {expression}"
    scopes = [("1 = 1", [])] if client_ids is None else in_list("id", client_ids)
    changed = 0
    with connection.cursor() as cursor:
        for scope, ids in scopes:
            sql = f"UPDATE {CLIENTS} SET icp_fit = {expression} WHERE {where} AND {scope}"  # noqa: S608 - values are parameters
            cursor.execute(sql, [*params, *params, *ids])
            changed += cursor.rowcount
    return changed
