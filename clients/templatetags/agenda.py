"""`{% followup_actions followup %}`: a pending follow-up's actions (clients/partials/agenda_actions.html).

The actions of two follow-ups differ only by their ids (the follow-up's and its client's, in the
addresses). An agenda lists up to 150 entries, and rendering the actions for each took two
thirds of the page's time (0.5 s of 0.7 s at the bench's 100,000 clients). So each request
renders them once per place with placeholder ids and puts each entry's ids into that copy.
"""

from types import SimpleNamespace

from django import template
from django.template.loader import get_template
from django.utils.safestring import mark_safe

register = template.Library()

TEMPLATE = "clients/partials/agenda_actions.html"
# Placeholder ids: numbers no address, token or text of the markup holds.
PK_MARK, CLIENT_MARK = "7319846250001", "7319846250002"


@register.simple_tag(takes_context=True)
def followup_actions(context, followup, place: str = "", compact: bool = False) -> str:
    request = getattr(context, "request", None)
    copies = getattr(request, "_followup_actions", None) if request is not None else None
    if copies is None:
        copies = {}
        if request is not None:
            request._followup_actions = copies
    key = (place, bool(compact))
    if key not in copies:
        stub = SimpleNamespace(pk=PK_MARK, client_id=CLIENT_MARK)
        with context.push(followup=stub, place=place, compact=compact):
            copies[key] = get_template(TEMPLATE).template.render(context)
    markup = copies[key].replace(PK_MARK, str(followup.pk)).replace(CLIENT_MARK, str(followup.client_id))
    return mark_safe(markup)  # noqa: S308 - the template's own escaped output, with integer ids put in
