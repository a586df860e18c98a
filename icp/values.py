"""A criterion's value as stored and as a person reads or types it (a choice's label, a country's
name, a category's name; sector, region and city as written on the records)."""

from django.db.models import Count
from django.utils.translation import gettext as _
from django_countries import countries

from clients.models import Category, Channel, Client, PaymentMethod
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
        """The most common sector, region and city values on the records (a query each)."""
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


def unknown_value_message(attribute: str, typed: str) -> str:
    return _("“%(value)s” is not a value Cartera knows for %(attribute)s: choose one from the list.") % {
        "value": typed, "attribute": str(Attribute(attribute).label).lower(),
    }
