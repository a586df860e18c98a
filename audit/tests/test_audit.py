"""The audit history (who changed what, when) and no lost edits on the client form."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from clients.models import Client, Purchase
from clients.tests.factories import ClientFactory, PurchaseFactory
from clients.views import HISTORY_ITEMS
from segmentation.records import client_reassign

pytestmark = pytest.mark.django_db


def edit_data(client: Client, **changes) -> dict:
    data = {
        "first_name": client.first_name, "last_name": client.last_name, "company_name": client.company_name,
        "email": client.email, "phone": client.phone, "city": client.city, "country": client.country,
        "version": client.version,
    }
    data.update(changes)
    return data


def test_an_edit_records_who_changed_which_fields(client, owner):
    record = ClientFactory(owner=owner, city="Vigo")
    client.force_login(owner)
    response = client.post(reverse("clients:client_edit", args=[record.pk]), edit_data(record, city="Lugo", phone="600111222"))
    assert response.status_code == 302
    entry = AuditEntry.objects.get(client=record)
    assert (entry.user, entry.subject, entry.action, entry.version) == (owner, "client", "update", 1)
    assert entry.changes == {"city": ["Vigo", "Lugo"], "phone": [record.phone, "+34600111222"]}


def test_the_second_of_two_simultaneous_edits_is_refused_and_shows_the_first(client, owner, manager):
    record = ClientFactory(owner=owner, city="Vigo", notes="")
    form_of_owner = edit_data(record, notes="Prefiere llamadas por la tarde")
    form_of_manager = edit_data(record, city="Ourense")  # both opened version 0
    client.force_login(manager)
    assert client.post(reverse("clients:client_edit", args=[record.pk]), form_of_manager).status_code == 302
    client.force_login(owner)
    refused = client.post(reverse("clients:client_edit", args=[record.pk]), form_of_owner)
    assert refused.status_code == 200
    record.refresh_from_db()
    assert (record.city, record.notes, record.version) == ("Ourense", "", 1)  # nothing overwritten
    content = refused.content.decode()
    assert 'data-testid="edit-conflict"' in content and "Ourense" in content and "Vigo" in content
    assert "Prefiere llamadas por la tarde" in content  # what the owner typed is still in the form
    [(label, before, after)] = refused.context["conflicts"][0]["changes"]
    assert (before, after) == ("Vigo", "Ourense")
    # Saving again, now knowingly over version 1, keeps both changes' fields as the form says.
    again = dict(form_of_owner, version=1, city="Ourense")
    assert client.post(reverse("clients:client_edit", args=[record.pk]), again).status_code == 302
    record.refresh_from_db()
    assert (record.city, record.notes, record.version) == ("Ourense", "Prefiere llamadas por la tarde", 2)


def test_the_nightly_job_does_not_invalidate_an_open_form(client, owner):
    from segmentation.services import lifecycle_recompute

    record = ClientFactory(owner=owner)
    PurchaseFactory(client=record)
    opened = edit_data(record, city="Lugo")
    lifecycle_recompute()  # computed figures change, the version does not
    client.force_login(owner)
    assert client.post(reverse("clients:client_edit", args=[record.pk]), opened).status_code == 302


def test_purchases_and_follow_ups_are_in_the_history(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    today = timezone.localdate()
    client.post(reverse("clients:purchase_create", args=[record.pk]), {"date": today.isoformat(), "amount": "80", "currency": "EUR"})
    purchase = Purchase.objects.get()
    client.post(
        reverse("clients:purchase_edit", args=[record.pk, purchase.pk]),
        {"date": today.isoformat(), "amount": "95.50", "currency": "EUR"},
    )
    client.post(reverse("clients:purchase_delete", args=[record.pk, purchase.pk]))
    client.post(reverse("clients:followup_create", args=[record.pk]), {
        "kind": "call", "due_date": (today + dt.timedelta(days=1)).isoformat(), "due_time": "10:00",
    })
    rows = list(AuditEntry.objects.filter(client=record).order_by("id").values_list("subject", "action", "changes"))
    assert [row[:2] for row in rows] == [
        ("purchase", "create"), ("purchase", "update"), ("purchase", "delete"), ("followup", "create"),
    ]
    assert rows[1][2] == {"amount": ["80.00", "95.50"]}
    assert rows[2][2]["amount"] == ["95.50", ""]


def test_reassignment_and_import_are_recorded_too(owner, teammate, manager):
    from imports.services import Kind, import_analyse, import_apply, proposed_mapping
    from imports.spreadsheets import read_table

    moved = ClientFactory(owner=owner, client_ref="R-1", city="")
    client_reassign(by=manager, client_ids=[moved.pk], new_owner=teammate)
    entry = AuditEntry.objects.get(client=moved)
    assert (entry.user, entry.action, entry.changes) == (manager, "reassign", {"owner": [owner.username, teammate.username]})

    data = f"Referencia;Nombre;Ciudad\nR-1;{moved.first_name};Vigo\nR-2;Nuria;Lugo\n".encode()
    table = read_table(data)
    analysis = import_analyse(table, Kind.CLIENTS, proposed_mapping(Kind.CLIENTS, table), visible=None)
    import_apply(analysis, owner=owner, created_by=manager)
    moved.refresh_from_db()
    assert moved.version == 1  # completed by the import: a form opened before is refused
    # The import leaves the entries the client form leaves: an edit of the fields it filled, a creation.
    completed = AuditEntry.objects.filter(client=moved, action="update").get()
    assert (completed.changes, completed.version) == ({"city": ["", "Vigo"]}, 1)
    created = AuditEntry.objects.get(client__client_ref="R-2", action="create", user=manager)
    assert created.changes["city"] == ["", "Lugo"] and created.changes["first_name"] == ["", "Nuria"]


def test_the_history_shows_to_gerente_and_administrador_only(client, owner, manager, admin_user):
    record = ClientFactory(owner=owner, city="Vigo")
    client.force_login(owner)
    client.post(reverse("clients:client_edit", args=[record.pk]), edit_data(record, city="Lugo"))
    assert b'data-testid="audit-history"' not in client.get(record.get_absolute_url()).content
    for reader in (manager, admin_user):
        client.force_login(reader)
        page = client.get(record.get_absolute_url())
        assert b'data-testid="audit-history"' in page.content
        [row] = page.context["history"]
        assert row["changes"][0][1:] == ("Vigo", "Lugo")


def test_the_history_on_the_page_is_bounded(client, owner, manager):
    record = ClientFactory(owner=owner)
    AuditEntry.objects.bulk_create([
        AuditEntry(client=record, subject="purchase", object_id=n, action="create", changes={"amount": ["", str(n)]})
        for n in range(HISTORY_ITEMS + 5)
    ])
    client.force_login(manager)
    assert len(client.get(record.get_absolute_url()).context["history"]) == HISTORY_ITEMS


def test_a_purchase_amount_shows_as_stored(owner):
    from audit.services import as_text

    assert as_text(Decimal("95.50")) == "95.50"
    assert as_text(dt.date(2026, 3, 1)) == "2026-03-01"
    assert as_text(None) == "" and as_text(True) == "1"


def test_a_creation_keeps_the_values_given_and_a_change_the_values_changed():
    from audit.services import as_text, diff

    assert as_text("León") == "León" and as_text(AuditEntry.Subject.CLIENT) == "client"
    assert diff({}, {"city": "León", "notes": "", "email": "a@b.es"}) == {"city": ["", "León"], "email": ["", "a@b.es"]}
    assert diff({"city": "León", "notes": "x"}, {"city": "Lugo", "notes": "x", "email": ""}) == {"city": ["León", "Lugo"]}
