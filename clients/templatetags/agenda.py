"""The agenda's entries: `{% followup_actions followup %}`, a pending follow-up's actions
(clients/partials/agenda_actions.html), and `{% agenda_item followup section %}`, its line (below).

The actions of two follow-ups differ only by their ids (the follow-up's and its client's, in the
addresses). An agenda lists up to 150 entries, and rendering the actions for each took two
thirds of the page's time (0.5 s of 0.7 s at the bench's 100,000 clients). So each request
renders them once per place with placeholder ids and puts each entry's ids into that copy.
"""

from types import SimpleNamespace

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

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


# `{% agenda_item followup section %}`: a follow-up's line in the agenda's list, also above its
# complete form and its "done" message. An agenda lists up to 150 of them, and through a template
# (with the alert dot's) each took half a millisecond: 60 % of the page's time at the bench's
# million clients. Written here once, as the template wrote it (the alert dot's trailing newline
# included, which a browser shows as the space before the name).

DONE, PENDING, CANCELLED, MANUAL = "done", "pending", "cancelled", "manual"


@register.simple_tag
def agenda_item(followup, section: str = "") -> str:
    client, status = followup.client, followup.status
    reason = client.alert_text() if client.alert else ""  # in the dot's title and, while pending, under the line
    late = ""
    if status == PENDING and followup.is_overdue and section != "overdue":
        late = format_html('<span class="badge text-bg-warning" data-testid="late">{}</span> ', _("Late"))
    return format_html(
        '<div class="d-flex justify-content-between gap-2{}">\n'
        '  <a href="{}"{}>{}{}\n{}</a>\n'
        '  <span class="small text-body-secondary text-nowrap">{}{}</span>\n'
        "</div>\n"
        '<div class="small{}">{}{}{}{}</div>\n'
        "{}\n",
        " text-body-secondary" if status in (DONE, CANCELLED) else "",
        client_url(client.pk),
        mark_safe(' class="link-secondary"') if status == DONE else "",  # noqa: S308 - a constant
        format_html('<span data-testid="ticked" aria-label="{}">✓</span> ', _("Done")) if status == DONE else "",
        alert_dot(client, reason),
        client.display_name,
        late,
        formats.date_format(timezone.localtime(followup.due_at), "SHORT_DATETIME_FORMAT"),
        " text-body-secondary" if status != PENDING else "",
        format_html('<span class="badge text-bg-secondary">{}</span> ', _("Cancelled")) if status == CANCELLED else "",
        followup.get_kind_display(),
        format_html(' <span class="badge text-bg-light border">{}</span>', followup.get_origin_display())
        if followup.origin != MANUAL else "",
        format_html(" — {}", followup.notes) if followup.notes else "",
        format_html('<div class="small text-body-secondary" data-testid="alert-reason">{}</div>', reason)
        if client.alert and status == PENDING else "",
    )


@register.simple_tag(takes_context=True)
def followup_entry(context, followup, place: str, section: str = "") -> str:
    """`{% followup_entry followup place section %}`: a follow-up's entry in the agenda's list
    (`place` "list") or in a calendar cell ("calendar"), with its actions while pending, as
    clients/partials/agenda_entry.html writes it for those places. The agenda and the calendar
    write their entries through this tag rather than an include each: a month shows 136 of them,
    and an include with its template took about a third of a millisecond each."""
    actions = followup_actions(context, followup, place, compact=place == "calendar") if followup.status == PENDING else ""
    if place != "calendar":
        return format_html("{}{}\n", agenda_item(followup, section), actions)
    client, status = followup.client, followup.status
    return format_html(
        '<div class="d-flex gap-1 align-items-start">\n'
        '  <div class="flex-grow-1{}">\n'
        '    <span class="text-nowrap">{}</span>\n'
        '    <a href="{}">{}\n{}</a>\n'
        '    <span class="text-body-secondary">· {}</span>\n'
        "  </div>\n"
        "  {}\n"
        "</div>\n",
        " text-decoration-line-through text-body-secondary" if status in (DONE, CANCELLED)
        else " text-danger" if followup.is_overdue else "",
        formats.time_format(timezone.localtime(followup.due_at), "H:i"),
        client_url(client.pk),
        alert_dot(client),
        client.display_name,
        followup.get_kind_display(),
        actions,
    )


@register.simple_tag
def alert_dot(client, reason: str | None = None) -> str:
    """`{% alert_dot client %}`: the client's colour as a dot, its name for screen readers (the
    reason in words, `reason` when the caller has it already, is the dot's title); nothing when
    it has no colour."""
    if not client.alert:
        return ""
    return format_html(
        '<span class="alert-dot {}" data-testid="alert-dot" data-alert="{}" title="{}"></span>'
        '<span class="visually-hidden">{}: </span>',
        client.alert, client.alert, client.alert_text() if reason is None else reason, client.get_alert_display(),
    )


# Per script prefix and URLconf: a client page's address with CLIENT_MARK for its id.
_CLIENT_URLS: dict[tuple, str] = {}


def client_url(pk: int) -> str:
    """Client.get_absolute_url() without a reverse() per line (a sixth of an agenda line's time):
    the address is reversed once per script prefix and URLconf and the id put in its place."""
    key = (get_script_prefix(), get_urlconf())
    if key not in _CLIENT_URLS:
        _CLIENT_URLS[key] = reverse("clients:client_detail", args=[CLIENT_MARK])
    return _CLIENT_URLS[key].replace(CLIENT_MARK, str(pk))


@receiver(setting_changed)
def _client_urls_forget(*, setting: str, **kwargs) -> None:
    """A test's other ROOT_URLCONF: the addresses are reversed again."""
    if setting == "ROOT_URLCONF":
        _CLIENT_URLS.clear()
