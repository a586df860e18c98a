"""Cursor pagination on the id order: stable while rows are added (a new row lands after the ones
already read) and one indexed range read per page however deep, unlike page numbers or offsets.
The cursor is opaque to the caller: the last id read, encoded."""

import base64
import binascii
import json

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from api.problems import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if not isinstance(after, int) or after < 0:
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid([{"field": "cursor", "message": _("This cursor is not one this API gave: start again without it.")}]) from None


def page(queryset: QuerySet, *, cursor: str | None, limit: int | None) -> dict:
    """{"items": up to `limit` rows after the cursor, in id order; "next_cursor": the next page's or None}."""
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid([{"field": "limit", "message": _("Ask for 1 to %(max)d items a page.") % {"max": MAX_LIMIT}}])
    if cursor:
        queryset = queryset.filter(pk__gt=decode(cursor))
    rows = list(queryset.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(rows[-1].pk) if more else None}
