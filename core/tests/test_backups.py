"""`manage.py backup` and `manage.py restore` on the suite's database (SQLite or PostgreSQL): a fresh
backup restored into a new, empty database holds every row of every table."""

import stat
import subprocess
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import User
from audit.models import AuditEntry
from clients.models import Client, Purchase
from clients.tests.factories import ClientFactory, InteractionFactory, PurchaseFactory
from core import backups

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads committed rows only
POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def rows(owner):
    clients = ClientFactory.create_batch(3, owner=owner, first_name="Zoë", last_name="Núñez")
    PurchaseFactory(client=clients[0], amount=Decimal("123.45"))
    PurchaseFactory(client=clients[1])
    InteractionFactory(client=clients[2])
    AuditEntry.objects.create(
        user=owner, client=clients[0], subject=AuditEntry.Subject.CLIENT, object_id=clients[0].pk,
        action=AuditEntry.Action.UPDATE, changes={"city": ["Vigo", "León"]},
    )
    return clients


@pytest.fixture
def new_database(tmp_path):
    """A name for a database that does not exist yet (PostgreSQL: created empty, dropped after;
    SQLite: a new file's path)."""
    if not POSTGRES:
        yield str(tmp_path / "restored.sqlite3")
        return
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_backup(directory: Path) -> Path:
    call_command("backup", dir=str(directory), stdout=StringIO())
    (path,) = directory.iterdir()
    return path


def test_a_fresh_backup_restores_every_row_into_a_new_database(rows, tmp_path, new_database):
    path = run_backup(tmp_path / "backups")

    call_command("restore", str(path), target=new_database, stdout=StringIO())

    original = backups.table_counts()
    restored = backups.table_counts(target=new_database)
    assert restored == original
    assert original[Client._meta.db_table] == 3 and original[Purchase._meta.db_table] == 2
    assert original[User._meta.db_table] >= 2 and original[AuditEntry._meta.db_table] >= 1
    # The values too, not only the counts.
    with backups._connection_to("default", {**connection.settings_dict, "NAME": new_database}) as other:
        with other.cursor() as cursor:
            cursor.execute("SELECT amount FROM clients_purchase WHERE client_id = %s", [rows[0].pk])
            assert Decimal(str(cursor.fetchone()[0])) == Decimal("123.45")  # SQLite's raw cursor gives a float
            cursor.execute("SELECT first_name, last_name, email FROM clients_client WHERE id = %s", [rows[1].pk])
            assert cursor.fetchone() == ("Zoë", "Núñez", rows[1].email)


def test_the_backup_is_timestamped_and_readable_by_its_owner_only(rows, tmp_path):
    path = run_backup(tmp_path / "backups")

    assert path.name.endswith(".dump" if POSTGRES else ".sqlite3")
    assert path.name.split("-")[-1].split(".")[0].endswith("Z")  # UTC, e.g. 20261203T041500Z
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob("*.partial"))


def test_restore_refuses_a_database_that_holds_tables(rows, tmp_path):
    path = run_backup(tmp_path / "backups")

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(path))  # the suite's own database

    assert Client.objects.count() == 3


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "nothing.dump"))


@pytest.mark.skipif(POSTGRES, reason="SQLite's restore reads the file itself")
def test_sqlite_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)

    with pytest.raises(CommandError, match="not a readable SQLite backup"):
        call_command("restore", str(junk), target=str(tmp_path / "new.sqlite3"))


def test_the_password_goes_to_pg_dump_through_the_environment_not_its_arguments(monkeypatch):
    settings_dict = {
        "HOST": "db.example.com", "PORT": 5433, "USER": "cartera", "PASSWORD": "s3cret; rm -rf /",
        "NAME": "cartera", "OPTIONS": {"sslmode": "require"},
    }

    env = backups._libpq_env(settings_dict)

    assert env["PGPASSWORD"] == "s3cret; rm -rf /" and env["PGHOST"] == "db.example.com"
    assert env["PGPORT"] == "5433" and env["PGSSLMODE"] == "require" and env["PGDATABASE"] == "cartera"


def test_an_older_pg_dump_than_the_server_is_refused(monkeypatch):
    monkeypatch.setattr(backups.shutil, "which", lambda program: f"/usr/bin/{program}")
    monkeypatch.setattr(
        backups.subprocess, "run",
        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout="pg_dump (PostgreSQL) 14.11\n"),
    )

    with pytest.raises(backups.BackupError, match="pg_dump 14 is older than the PostgreSQL 15 server"):
        backups._check_client_version("pg_dump", 150020)
    backups._check_client_version("pg_dump", 140005)  # same major: fine
