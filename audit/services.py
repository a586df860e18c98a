"""Recording the audit history (audit/models.py); clients/history.py reads it for the client page."""

import datetime as dt
import functools
from decimal import Decimal

from django.db import models
from django.utils import timezone

from audit.models import AuditEntry

Subject = AuditEntry.Subject
Action = AuditEntry.Action


def as_text(value) -> str:
    """A field's value as the history keeps it: codes for choices, ISO dates, names for relations."""
    if type(value) is str:  # the usual case, first: an import audits millions of values
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        # In the business's time zone, whether the value came from a form or from the database.
        value = timezone.localtime(value) if timezone.is_aware(value) else value
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
    for name, many_to_many in _kinds(type(instance), tuple(fields)):
        if many_to_many:
            values[name] = as_text(list(getattr(instance, name).all())) if instance.pk else ""
        else:
            values[name] = as_text(getattr(instance, name))
    return values


@functools.cache
def _kinds(model: type[models.Model], fields: tuple[str, ...]) -> list[tuple[str, bool]]:
    """(name, is many-to-many) of each field, looked up once per model and field list."""
    return [(name, model._meta.get_field(name).many_to_many) for name in fields]


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    if not before:  # a creation (an import builds 100,000 of them): every value that is not empty
        return {name: ["", value] for name, value in after.items() if value != ""}
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
