"""Recording and reading the audit history (audit/models.py)."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry

Subject = AuditEntry.Subject
Action = AuditEntry.Action
# Changes that are not a field: what a bulk path did to a client.
BULK_LABELS = {"purchases": gettext_lazy("Purchases added")}


def as_text(value) -> str:
    """A field's value as the history keeps it: codes for choices, ISO dates, names for relations."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple, set, models.QuerySet)):
        return ", ".join(sorted(str(item) for item in value))
    return str(value)


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, str]:
    """{field: text} of `instance`'s fields (many-to-many fields included, once it has a pk)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = as_text(list(getattr(instance, name).all())) if instance.pk else ""
        else:
            values[name] = as_text(getattr(instance, name))
    return values


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    return {name: [before.get(name, ""), value] for name, value in after.items() if before.get(name, "") != value}


def audit_record(
    *, user, client_id: int, subject: str, object_id: int, action: str, changes: dict | None = None,
    version: int | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        user=user, client_id=client_id, subject=subject, object_id=object_id, action=action,
        changes=changes or {}, version=version,
    )


def audit_bulk(entries: list[AuditEntry]) -> None:
    """Bulk paths (a reassignment, an import) write their rows in one go."""
    AuditEntry.objects.bulk_create(entries, batch_size=2000)


def _model(subject: str):
    from clients.models import Client, FollowUp, Purchase

    return {Subject.CLIENT: Client, Subject.PURCHASE: Purchase, Subject.FOLLOWUP: FollowUp}[subject]


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
        model = _model(entry.subject)
        rows.append({
            "entry": entry,
            "changes": [
                (_label(model, name), _shown(model, name, before), _shown(model, name, after))
                for name, (before, after) in entry.changes.items()
            ],
        })
    return rows
