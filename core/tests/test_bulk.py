"""rows_insert writes what bulk_create would (COPY on PostgreSQL, bulk_create elsewhere)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from audit.models import AuditEntry
from clients.models import Client, Status, VolumeTier
from core.bulk import ids_table_create, rows_insert

pytestmark = pytest.mark.django_db


def client_like(owner, n: int) -> Client:
    return Client(
        owner=owner, first_name=f"Ñandú {n}", last_name="O'Connor; \"Tab\"\there", email=f"c{n}@example.com",
        birth_date=dt.date(1980, 2, 29), buys_on_own_initiative=True, status=Status.ACTIVE,
        volume_tier=VolumeTier.HIGH, total_spent=Decimal("1234.56"), notes="line 1\nline 2\\N",
        r_score=5, deleted_at=timezone.now(),
    )


def stored(model, objects) -> list[dict]:
    rows = model.objects.filter(pk__in=[obj.pk for obj in objects]).order_by("pk")
    return [{k: v for k, v in model_to_dict(row).items() if k != "id"} for row in rows]


def test_rows_insert_stores_what_bulk_create_stores(owner):
    copied = [client_like(owner, n) for n in range(3)]
    created = [client_like(owner, n) for n in range(3)]

    rows_insert(Client, copied)
    Client.objects.bulk_create(created)

    assert all(obj.pk and not obj._state.adding for obj in copied)
    assert stored(Client, copied) == stored(Client, created)
    first = Client.objects.get(pk=copied[0].pk)
    assert first.updated_at is not None and first.created_at is not None  # auto_now set as save() would
    assert (first.status, first.notes, first.version) == ("active", "line 1\nline 2\\N", 0)


def test_rows_insert_writes_json_and_the_next_id_follows(owner):
    client = Client.objects.create(owner=owner, first_name="Ana")
    entries = [
        AuditEntry(user=owner, client=client, subject=AuditEntry.Subject.CLIENT, object_id=1, action=AuditEntry.Action.IMPORT,
                   changes={"city": ["", "A Coruña"], "n": [1, None]}),
        AuditEntry(user=owner, client=client, subject=AuditEntry.Subject.CLIENT, object_id=2, action=AuditEntry.Action.IMPORT),
    ]
    rows_insert(AuditEntry, entries)

    assert AuditEntry.objects.get(pk=entries[0].pk).changes == {"city": ["", "A Coruña"], "n": [1, None]}
    assert AuditEntry.objects.get(pk=entries[1].pk).changes == {}
    later = AuditEntry.objects.create(
        user=owner, client=client, subject=AuditEntry.Subject.CLIENT, object_id=3, action=AuditEntry.Action.IMPORT,
    )
    assert later.pk > max(entry.pk for entry in entries)


def test_rows_insert_of_nothing_writes_nothing():
    rows_insert(Client, [])
    assert not Client.objects.exists()


def test_a_country_field_is_written_as_its_code(owner):
    clients = [Client(owner=owner, first_name="Ana", country="BR"), Client(owner=owner, first_name="Rui", country="pt")]
    rows_insert(Client, clients)
    assert list(Client.objects.order_by("pk").values_list("country", flat=True)) == ["BR", "PT"]


def test_ids_table_holds_each_id_once():
    """The scratch table of a recompute over a list of clients (COPY on PostgreSQL)."""
    with connection.cursor() as cursor:
        ids_table_create(cursor, "test_bulk_ids", [5, 3, 5, 2**40])
        cursor.execute("SELECT id FROM test_bulk_ids ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == [3, 5, 2**40]
        cursor.execute("DROP TABLE test_bulk_ids")
