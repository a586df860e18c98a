"""The private iCalendar feed of a salesperson's follow-ups (RFC 5545, written by hand).

A calendar app (Google Calendar, Outlook, a phone) subscribes to /calendar/<token>.ics without a
session: the token in the URL is the only credential, so rotating or revoking it is how a
salesperson takes the link back.
"""

import datetime as dt
import secrets
from collections.abc import Iterable

from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from clients.models import FollowUp

EVENT_LENGTH = dt.timedelta(minutes=30)
LINE_OCTETS = 75  # RFC 5545 §3.1: a content line is folded at 75 octets, CRLF not included
CRLF = "\r\n"


def calendar_token_rotate(*, user: User) -> str:
    """Gives the user a new feed token; the old link stops working at once."""
    user.calendar_token = secrets.token_urlsafe(32)
    user.save(update_fields=["calendar_token"])
    return user.calendar_token


def calendar_token_revoke(*, user: User) -> None:
    user.calendar_token = None
    user.save(update_fields=["calendar_token"])


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Splits a content line into physical lines of at most 75 UTF-8 octets (RFC 5545 §3.1).

    Continuation lines start with one space, which counts towards their 75 octets; a multi-byte
    character is never cut in two.
    """
    lines: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        if size + width > LINE_OCTETS:
            lines.append(current)
            current, size = " ", 1
        current += char
        size += width
    lines.append(current)
    return CRLF.join(lines)


def unfold(text: str) -> str:
    """The inverse of fold, for readers and tests: CRLF followed by one space disappears."""
    return text.replace(CRLF + " ", "")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(followup: FollowUp, *, stamp: str, base_url: str) -> list[str]:
    summary = f"{followup.get_kind_display()}: {followup.client.display_name}"
    if followup.status == FollowUp.State.DONE:
        summary = f"✓ {summary}"
    description = [followup.notes.strip()] if followup.notes.strip() else []
    if base_url:
        description.append(base_url.rstrip("/") + followup.client.get_absolute_url())
    # A client in the trash takes its follow-ups off the phone too (restored, they come back).
    cancelled = followup.status == FollowUp.State.CANCELLED or followup.client.deleted_at is not None
    status = "CANCELLED" if cancelled else "CONFIRMED"
    lines = [
        "BEGIN:VEVENT",
        f"UID:followup-{followup.pk}@cartera",
        f"DTSTAMP:{stamp}",
        # Same UID, higher SEQUENCE: a calendar app moves or cancels its copy instead of adding one.
        f"SEQUENCE:{followup.sequence}",
        f"DTSTART:{_utc(followup.due_at)}",
        f"DTEND:{_utc(followup.due_at + EVENT_LENGTH)}",
        f"SUMMARY:{escape_text(summary)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape_text(chr(10).join(description))}")
    if base_url:
        lines.append(f"URL:{base_url.rstrip('/')}{followup.client.get_absolute_url()}")
    lines += [f"STATUS:{status}", "TRANSP:OPAQUE", "END:VEVENT"]
    return lines


def followups_ics(user: User, followups: Iterable[FollowUp], *, now: dt.datetime, base_url: str = "") -> str:
    """The VCALENDAR text of the follow-ups, in the user's language (not the request's).

    `followups` should come with their client (select_related): this function runs no query.
    `base_url` ("https://host") adds each client's page to the event; empty leaves it out.
    """
    stamp = _utc(now)
    with translation.override(user.language):
        calendar_name = _("Cartera — %(name)s") % {"name": user}
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Cartera//Agenda//ES",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            f"X-WR-CALNAME:{escape_text(calendar_name)}",
            "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
            "X-PUBLISHED-TTL:PT1H",
        ]
        for followup in followups:
            lines += _event(followup, stamp=stamp, base_url=base_url)
        lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
