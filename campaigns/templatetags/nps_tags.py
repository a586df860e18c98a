"""NPS figures in words, each count with its noun in the right plural ("1 promoter", "2 passives")."""

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def nps_mix(figures: dict | None) -> str:
    """"3 promoters, 1 passive, 0 detractors" from nps()'s figures."""
    if not figures:
        return ""
    promoters, passives, detractors = (figures.get(name) or 0 for name in ("promoters", "passives", "detractors"))
    return ", ".join([
        ngettext("%(count)d promoter", "%(count)d promoters", promoters) % {"count": promoters},
        ngettext("%(count)d passive", "%(count)d passives", passives) % {"count": passives},
        ngettext("%(count)d detractor", "%(count)d detractors", detractors) % {"count": detractors},
    ])
