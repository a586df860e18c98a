"""Percentages, month names and capped counts written as the reader's language writes them."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.sql import COUNT_CAP

register = template.Library()


@register.filter
def percent(value: float | int | None, decimals: int = 1) -> str:
    """`value` (already in %) with its sign: "12,5 %" in Spanish, "12,5%" in Brazilian
    Portuguese, "12.5%" in English. The pattern is the translators' (the space is a no-break one)."""
    if value is None or value == "":
        return ""
    # Translators: a percentage, e.g. "12.5%". Spanish writes a no-break space before the sign.
    return _("%(number)s%%") % {"number": floatformat(value, f"{decimals}g")}


# Month names. Django's own pt_BR catalogue capitalises them ("Dezembro de 2026") where
# Portuguese writes "dezembro de 2026". Our catalogues, which Django reads after its own so that
# they win, translate these msgids (Django's, for the `F` date format and every DATE_FORMAT /
# YEAR_MONTH_FORMAT): every date the app renders — the dashboard, the snapshots, the agenda, the
# morning summary — follows from this one place. Declared here so that makemessages keeps them.
MONTH_NAMES = (
    gettext_noop("January"), gettext_noop("February"), gettext_noop("March"), gettext_noop("April"),
    gettext_noop("May"), gettext_noop("June"), gettext_noop("July"), gettext_noop("August"),
    gettext_noop("September"), gettext_noop("October"), gettext_noop("November"), gettext_noop("December"),
)


@register.filter
def capped(value: int | None, cap: int = COUNT_CAP) -> str:
    """A count from core.sql.capped_counts: "999+" above the cap, the number otherwise."""
    if value is None:
        return ""
    if value > cap:
        return f"{formats.localize(cap)}+"
    return formats.localize(value)
