"""The audit history in words, for the client page: each change as (field, before, after)."""

import datetime as dt

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from clients.models import Client, Contract, FollowUp, Interaction, Purchase

Subject = AuditEntry.Subject
# Changes that are not a field: what a bulk path did to a client, whom it was shared with.
BULK_LABELS = {
    "purchases": gettext_lazy("Purchases added"), "shared_with": gettext_lazy("Shared with"),
    "reason": gettext_lazy("Reason"),  # why a follow-up was rescheduled
    "items": gettext_lazy("Lines"),  # what a purchase was recorded with: product, quantity, price, discount
    "merged_client": gettext_lazy("Merged into this client"),  # the client a merge absorbed (segmentation/merge.py)
}

MODELS = {
    Subject.CLIENT: Client, Subject.PURCHASE: Purchase, Subject.FOLLOWUP: FollowUp,
    Subject.INTERACTION: Interaction, Subject.CONTRACT: Contract,
}


def _shown(model, name: str, text: str) -> str:
    """A stored value in words: the choice's label, a date in the user's format, yes/no."""
    if not text:
        return "—"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a bulk count ("purchases"), or a field since removed: as stored
        return text
    if field.choices:
        return str(dict(field.flatchoices).get(text, text))
    if isinstance(field, models.BooleanField):
        return _("yes") if text == "1" else _("no")
    if isinstance(field, models.DateTimeField):
        try:
            return formats.date_format(dt.datetime.fromisoformat(text), "SHORT_DATETIME_FORMAT")
        except ValueError:
            return text
    if isinstance(field, models.DateField):
        try:
            return formats.date_format(dt.date.fromisoformat(text), "SHORT_DATE_FORMAT")
        except ValueError:
            return text
    return text


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:
        return BULK_LABELS.get(name, name)


def history_rows(entries) -> list[dict]:
    """Entries ready for the page: each change as (field label, before, after) in words."""
    rows = []
    for entry in entries:
        model = MODELS[entry.subject]
        rows.append({
            "entry": entry,
            "changes": [
                (_label(model, name), _shown(model, name, before), _shown(model, name, after))
                for name, (before, after) in entry.changes.items()
            ],
        })
    return rows
