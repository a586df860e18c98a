"""The trash (hidden everywhere, restorable, purged) and the privacy rights (export, erasure)."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from campaigns.consent import consent_record
from campaigns.models import Consent, ConsentSource, Purpose
from clients.models import TRASH_DAYS, Client, FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory, InteractionFactory, PurchaseFactory
from privacy.services import trash_purge
from segmentation.dashboard import dashboard_build
from segmentation.records import client_trash
from segmentation.segments import segment_clients, segment_create
from segmentation.services import lifecycle_recompute

pytestmark = pytest.mark.django_db


def test_a_deleted_client_is_hidden_everywhere_and_its_follow_ups_wait(client, owner, manager):
    kept = ClientFactory(owner=owner, last_name="Quedada")
    gone = ClientFactory(owner=owner, last_name="Borrada", email="borrada@example.com")
    PurchaseFactory(client=gone, amount=Decimal("500"))
    followup = FollowUpFactory(client=gone, assigned_to=owner, due_at=timezone.now() + dt.timedelta(days=1))
    client.force_login(owner)
    assert client.post(reverse("clients:client_delete", args=[gone.pk])).status_code == 302

    assert list(Client.objects.visible_to(owner)) == [kept]
    assert list(Client.objects.visible_to(manager)) == [kept]
    assert client.get(gone.get_absolute_url()).status_code == 404
    listing = client.get(reverse("clients:client_list"), {"q": "Borrada"})
    assert not list(listing.context["table"].data)
    export = b"".join(client.get(reverse("clients:client_list_export", args=["csv"])).streaming_content).decode()
    assert "Borrada" not in export and "Quedada" in export
    assert "Borrada" not in client.get(reverse("clients:agenda")).content.decode()
    assert FollowUp.objects.get(pk=followup.pk).status == FollowUp.State.ON_HOLD
    segment = segment_create(owner=owner, name="Todos", shared=False, query=QueryDict(""))
    assert list(segment_clients(user=owner, segment=segment)) == [kept]
    lifecycle_recompute()  # the night's snapshot leaves it out of the dashboard
    assert dashboard_build(user=owner).total.clients == 1
    trash = client.get(reverse("clients:client_trash"))
    assert [c.pk for c in trash.context["clients"]] == [gone.pk]
    assert AuditEntry.objects.filter(client=gone, action="trash", user=owner).exists()


def test_the_owner_the_gerente_or_the_administrador_restore_it_others_cannot(client, owner, manager, admin_user, outsider):
    gone = ClientFactory(owner=owner)
    followup = FollowUpFactory(client=gone, assigned_to=owner, due_at=timezone.now() + dt.timedelta(days=1))
    for person in (owner, manager, admin_user):
        client_trash(by=owner, client=gone)
        client.force_login(outsider)
        assert client.post(reverse("clients:client_restore", args=[gone.pk])).status_code == 404
        assert client.get(reverse("clients:client_trash")).context["clients"] == []
        client.force_login(person)
        assert client.post(reverse("clients:client_restore", args=[gone.pk])).status_code == 302
        assert Client.objects.visible_to(person).filter(pk=gone.pk).exists()
        assert FollowUp.objects.get(pk=followup.pk).status == FollowUp.State.PENDING
    assert AuditEntry.objects.filter(client=gone, action="restore").count() == 3


def test_the_purge_erases_what_stayed_longer_than_the_trash_keeps_and_keeps_the_sales(owner):
    old = ClientFactory(owner=owner, first_name="Antigua", email="antigua@example.com", tax_id="12345678Z")
    recent = ClientFactory(owner=owner)
    PurchaseFactory(client=old, amount=Decimal("250.00"))
    PurchaseFactory(client=old, amount=Decimal("50.00"))
    lifecycle_recompute()
    client_trash(by=owner, client=old)
    client_trash(by=owner, client=recent)
    Client.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - dt.timedelta(days=TRASH_DAYS + 1))
    assert trash_purge() == 1
    old.refresh_from_db()
    assert old.erased_at is not None and old.first_name == "" and old.email == "" and old.tax_id == ""
    assert old.total_spent == Decimal("300.00") and old.purchases.count() == 2  # the sales stay
    assert Client.objects.get(pk=recent.pk).erased_at is None
    assert trash_purge() == 0


def test_erasure_blanks_every_personal_trace_and_is_audited(client, owner, admin_user):
    record = ClientFactory(owner=owner, first_name="Rosa", last_name="Mar", email="rosa@example.com", phone="600123456",
                           notes="Alérgica al marisco")
    PurchaseFactory(client=record, amount=Decimal("99.00"))
    InteractionFactory(client=record, summary="Habló de su hija Marta", user=owner)
    consent_record(client=record, purpose=Purpose.NEWSLETTER, granted=True, source=ConsentSource.FORM, evidence="Hoja 7")
    client.force_login(owner)
    client.post(reverse("clients:client_edit", args=[record.pk]), {
        "first_name": "Rosa", "last_name": "Mar", "email": "rosa@example.com", "country": "ES", "city": "Vigo", "version": 0,
    })
    assert client.get(reverse("privacy:client_privacy", args=[record.pk])).status_code == 403  # administrador only
    client.force_login(admin_user)
    refused = client.post(reverse("privacy:client_privacy", args=[record.pk]), {})
    assert refused.status_code == 200 and refused.context["form"].errors  # the box must be ticked
    client.post(reverse("privacy:client_privacy", args=[record.pk]), {"confirm": "on"})
    record.refresh_from_db()
    assert record.erased_at and (record.first_name, record.email, record.phone, record.notes, record.city) == ("", "", "", "", "")
    assert str(record.pk) in record.company_name
    assert "Marta" not in record.interactions.get().summary
    assert not Consent.objects.filter(client=record).exists()
    assert all(entry.changes == {} for entry in record.audit_entries.exclude(action="erase"))
    assert record.audit_entries.filter(action="erase", user=admin_user).exists()
    assert record.purchases.get().amount == Decimal("99.00")
    assert not Client.objects.visible_to(admin_user).filter(pk=record.pk).exists()
    assert client.get(reverse("privacy:client_privacy", args=[record.pk])).status_code == 404  # erased for good


def test_the_export_holds_everything_about_the_client_and_is_audited(client, owner, admin_user):
    record = ClientFactory(owner=owner, first_name="Iria", email="iria@example.com")
    PurchaseFactory(client=record, amount=Decimal("42.50"))
    InteractionFactory(client=record, summary="=HYPERLINK(\"http://x\")", user=owner)
    consent_record(client=record, purpose=Purpose.SURVEYS, granted=True, source=ConsentSource.PHONE, evidence="Llamada")
    client.force_login(owner)
    assert client.get(reverse("privacy:client_privacy_export", args=[record.pk, "json"])).status_code == 403
    client.force_login(admin_user)
    data = json.loads(client.get(reverse("privacy:client_privacy_export", args=[record.pk, "json"])).content)
    assert data["client"]["email"] == "iria@example.com"
    assert [p["amount"] for p in data["purchases"]] == ["42.50"]
    assert data["interactions"][0]["summary"].startswith("=HYPERLINK")
    assert data["consents"][0]["purpose"] == "surveys"
    body = client.get(reverse("privacy:client_privacy_export", args=[record.pk, "csv"])).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["record", "id", "field", "value"]
    assert ["client", str(record.pk), "first_name", "Iria"] in rows
    assert any(row[0] == "interactions" and row[3].startswith("'=HYPERLINK") for row in rows)  # formula defused
    assert AuditEntry.objects.filter(client=record, action="export", user=admin_user).count() == 2
    assert client.get(reverse("privacy:client_privacy_export", args=[record.pk, "pdf"])).status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_comercial_deletes_a_client_finds_it_in_the_trash_and_restores_it(live_server, login, owner):
    from playwright.sync_api import expect

    record = ClientFactory(owner=owner, first_name="Olga", last_name="Papelera")
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}")
    page.get_by_role("button", name="Mover a la papelera").click()
    expect(page.get_by_test_id("trash-table")).to_contain_text("Olga Papelera")
    page.goto(f"{live_server.url}/clients/?q=Papelera")
    expect(page.get_by_test_id("client-table")).not_to_contain_text("Olga Papelera")
    page.goto(f"{live_server.url}/clients/")
    page.get_by_test_id("trash-link").click()
    page.get_by_role("button", name="Restaurar").click()
    expect(page.locator("h1")).to_contain_text("Olga Papelera")
    assert Client.objects.visible_to(owner).filter(pk=record.pk).exists()


@pytest.mark.parametrize("size", [1, 8])
def test_the_trash_and_privacy_pages_run_a_constant_number_of_queries(client, owner, admin_user, django_assert_num_queries, size):
    records = [ClientFactory(owner=owner) for _ in range(size)]
    for record in records:
        PurchaseFactory(client=record)
        client_trash(by=owner, client=record)
    client.force_login(owner)
    # session, user, roles (navigation and the access rule), shares, the trashed clients
    with django_assert_num_queries(5):
        assert client.get(reverse("clients:client_trash")).status_code == 200
    client.force_login(admin_user)
    # session, user, roles, the client
    with django_assert_num_queries(4):
        assert client.get(reverse("privacy:client_privacy", args=[records[0].pk])).status_code == 200
