"""The client's privacy rights (GDPR / LOPDGDD / LGPD): export and erasure, and the nightly purge
of the trash. They touch every app's records, so this app sits above all of them.

* Erasure is irreversible anonymisation: every personal field, note and free text about the
  client is blanked, consents and survey comments go, the audit history keeps who did what but
  not the values; the purchases (dates, amounts, lines) stay, so sales totals do not change.
* The nightly purge erases what stayed in the trash longer than TRASH_DAYS.
* Export: everything held about a client, as JSON or CSV. Export and erasure are for the
  administrador, and both are recorded in the audit history.
"""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from audit.services import audit_record
from campaigns.models import Consent, ConsentChange, Recipient, SurveyAnswer
from clients.exports import neutralise
from clients.models import TRASH_DAYS, Client, FollowUp, PurchaseLine
from segmentation.models import StatusChange

Action, Subject = AuditEntry.Action, AuditEntry.Subject

# Personal fields blanked by an erasure (the name fields get a neutral stand-in).
ERASED_FIELDS = [
    "first_name", "last_name", "client_ref", "tax_id", "tax_key", "email", "phone", "phone_key", "address",
    "city", "region", "postal_code", "contact_hours", "sector", "marital_status", "economic_level", "hobbies",
    "notes", "search_text", "temperature", "prospect_qualification", "preferred_channel", "source",
]


def trash_purge(*, now: dt.datetime | None = None) -> int:
    """Erases the clients that have been in the trash longer than TRASH_DAYS (nightly)."""
    now = now or timezone.now()
    expired = Client.objects.filter(deleted_at__lt=now - dt.timedelta(days=TRASH_DAYS), erased_at__isnull=True)
    erased = 0
    for client in expired.only("pk").iterator(chunk_size=500):
        client_erase(by=None, client=client)
        erased += 1
    return erased


@transaction.atomic
def client_erase(*, by, client: Client) -> None:
    """Irreversible anonymisation; the purchases and the figures computed from them stay."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    now = timezone.now()
    for name in ERASED_FIELDS:
        field = Client._meta.get_field(name)
        setattr(client, name, None if field.null else "")
    client.company_name = _("Erased client %(number)d") % {"number": client.pk}
    client.birth_date = None
    client.buys_on_own_initiative = None
    client.erased_at = now
    client.deleted_at = client.deleted_at or now
    client.version += 1  # a form opened before the erasure is refused, not saved over it
    client.save()  # recomputes the search fields from the blanked values
    client.interests.clear()
    client.shares.all().delete()
    client.interactions.update(summary="—", needs="", objections="", competitor_notes="")
    client.followups.update(notes="")
    client.followups.filter(status__in=[FollowUp.State.PENDING, FollowUp.State.ON_HOLD]).update(status=FollowUp.State.CANCELLED)
    client.contracts.update(title="—")
    client.purchases.update(notes="")
    Consent.objects.filter(client=client).delete()
    ConsentChange.objects.filter(client=client).update(evidence="")
    SurveyAnswer.objects.filter(client=client).update(comment="")
    client.audit_entries.update(changes={})  # who did what stays; the values were personal data
    audit_record(
        user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.ERASE,
        version=client.version,
    )


def _value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def _rows(queryset, exclude=()) -> list[dict]:
    fields = [f.attname for f in queryset.model._meta.concrete_fields if f.attname not in exclude]
    return [{name: _value(value) for name, value in row.items()} for row in queryset.values(*fields)]


def client_data(client: Client) -> dict:
    """Everything held about the client, by kind of record."""
    return {
        "client": _rows(Client.objects.filter(pk=client.pk), exclude=("search_text", "phone_key", "tax_key"))[0]
        | {"interests": [str(category) for category in client.interests.all()]},
        "purchases": _rows(client.purchases.order_by("date", "id")),
        "purchase_lines": _rows(PurchaseLine.objects.filter(purchase__client=client).order_by("id")),
        "interactions": _rows(client.interactions.order_by("happened_at", "id")),
        "followups": _rows(client.followups.order_by("due_at", "id")),
        "contracts": _rows(client.contracts.order_by("start_date", "id")),
        "status_changes": _rows(StatusChange.objects.filter(client=client).order_by("date", "id")),
        "consents": _rows(Consent.objects.filter(client=client).order_by("purpose")),
        "consent_changes": _rows(ConsentChange.objects.filter(client=client).order_by("changed_at", "id")),
        "campaigns_received": _rows(Recipient.objects.filter(client=client).order_by("id")),
        "survey_answers": _rows(SurveyAnswer.objects.filter(client=client).order_by("answered_at", "id")),
        "audit_history": _rows(client.audit_entries.order_by("at", "id")),
    }


def client_export(*, by, client: Client, fmt: str) -> tuple[str, str]:
    """(content, content type) of the export, recorded in the audit history."""
    data = client_data(client)
    audit_record(
        user=by, client_id=client.pk, subject=Subject.CLIENT, object_id=client.pk, action=Action.EXPORT,
        changes={"format": ["", fmt]},
    )
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2), "application/json"
    # CSV: one row per value, so every kind of record fits one sheet: record, id, field, value.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["record", "id", "field", "value"])
    for kind, rows in data.items():
        for row in rows if isinstance(rows, list) else [rows]:
            for name, value in row.items():
                writer.writerow([kind, row.get("id", ""), name, _csv_cell(value)])
    return "\ufeff" + buffer.getvalue(), "text/csv; charset=utf-8"


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return neutralise(str(value))
