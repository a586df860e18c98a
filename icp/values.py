"""A criterion's value as stored and as a person reads or types it (a choice's label, a country's
name, a category's name; sector, region and city as written on the records)."""

from django.db import connection
from django.db.models import Count
from django.utils.translation import gettext as _
from django_countries import countries

from clients.models import NOT_IN_TRASH_SQL, Category, Channel, Client, PaymentMethod
from core.sql import is_postgres
from segmentation.ideal_models import Attribute, Kind

FREE_TEXT = {Attribute.SECTOR, Attribute.REGION, Attribute.CITY}
COMMON_VALUES = 40  # the free-text values offered while typing: the most common ones
_CHOICES = {
    Attribute.ECONOMIC_LEVEL: Client.EconomicLevel.choices, Attribute.CHANNEL: Channel.choices,
    Attribute.SOURCE: Client.Source.choices, Attribute.PAYMENT_METHOD: PaymentMethod.choices, Attribute.KIND: Kind.choices,
}


class Vocabulary:
    """Every attribute's known values, read once (the categories: one query) for a page or a form."""

    def __init__(self) -> None:
        self.choices: dict[str, list[tuple[str, str]]] = {
            attribute: [(code, str(label)) for code, label in choices] for attribute, choices in _CHOICES.items()
        }
        self.choices[Attribute.COUNTRY] = [(code, str(name)) for code, name in countries]
        self.choices[Attribute.INTEREST] = [(str(pk), name) for pk, name in Category.objects.values_list("pk", "name")]

    def label(self, attribute: str, value: str) -> str:
        for code, label in self.choices.get(attribute, ()):
            if code == value:
                return label
        return value

    def parse(self, attribute: str, typed: str) -> str | None:
        """The stored value of what was typed (a label or a code, in any case); None if unknown."""
        typed = typed.strip()
        if attribute in FREE_TEXT:
            return typed or None
        folded = typed.casefold()
        for code, label in self.choices.get(attribute, ()):
            if folded in (code.casefold(), label.casefold()):
                return code
        return None

    def common_values(self) -> dict[str, list[str]]:
        """The most common sector, region and city values on the records (a query each; on
        PostgreSQL one, over a sample of a large table's pages: _sampled_common_values)."""
        if is_postgres():
            return _sampled_common_values()
        found = {}
        for attribute in sorted(FREE_TEXT):
            column = str(attribute)
            found[column] = list(
                Client.objects.not_in_trash().exclude(**{column: ""}).values_list(column, flat=True)
                .annotate(n=Count("pk")).order_by("-n", column)[:COMMON_VALUES]
            )
        return found

    def datalists(self) -> list[dict]:
        """Per attribute, the values to offer while typing (labels, or the records' common values)."""
        common = self.common_values()
        lists = []
        for attribute, label in Attribute.choices:
            options = common.get(attribute) if attribute in FREE_TEXT else [lbl for _c, lbl in self.choices[attribute]]
            lists.append({"attribute": attribute, "label": label, "options": options})
        return lists


SAMPLE_ROWS = 50_000  # about as many clients as the common values of a large table are counted on


def _sampled_common_values() -> dict[str, list[str]]:
    """The most common sector, region and city values, on PostgreSQL in one pass grouped three
    ways; on a table of more than twice SAMPLE_ROWS clients (PostgreSQL's estimate) counted on
    the share of its pages that holds about SAMPLE_ROWS of them (TABLESAMPLE SYSTEM, the same
    pages each time). Suggestions while typing need the common values, not their exact counts:
    counted over every client, they were three sorts of a million rows (2.1 s at a million)."""
    columns = sorted(str(attribute) for attribute in FREE_TEXT)
    table = connection.ops.quote_name(Client._meta.db_table)
    selected = ", ".join(connection.ops.quote_name(column) for column in columns)
    sets = ", ".join(f"({connection.ops.quote_name(column)})" for column in columns)
    percent = (
        "(SELECT CASE WHEN reltuples > 2 * %(rows)s THEN 100 * %(rows)s / reltuples ELSE 100 END"
        " FROM pg_class WHERE oid = %(table)s::regclass)"
    )
    counts: dict[str, list[tuple[int, str]]] = {column: [] for column in columns}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selected}, GROUPING({selected}), COUNT(*) FROM {table} TABLESAMPLE SYSTEM ({percent}) REPEATABLE (0)"  # noqa: S608 - quoted names
            f" WHERE {NOT_IN_TRASH_SQL} GROUP BY GROUPING SETS ({sets})",
            {"rows": SAMPLE_ROWS, "table": Client._meta.db_table},
        )
        for *values, grouping, n in cursor.fetchall():
            # GROUPING(a, b, c): a bit set, the first column highest, for each column not grouped.
            for index, column in enumerate(columns):
                if not grouping & (1 << (len(columns) - 1 - index)) and values[index]:
                    counts[column].append((-n, values[index]))
    return {column: [value for _n, value in sorted(found)[:COMMON_VALUES]] for column, found in counts.items()}


def unknown_value_message(attribute: str, typed: str) -> str:
    return _("“%(value)s” is not a value Cartera knows for %(attribute)s: choose one from the list.") % {
        "value": typed, "attribute": str(Attribute(attribute).label).lower(),
    }
