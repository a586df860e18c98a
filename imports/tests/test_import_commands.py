"""The import_clients and import_purchases commands: all or nothing, --only-valid, --dry-run, --owner."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from clients.models import Client, Purchase, PurchaseLine
from clients.tests.factories import ClientFactory
from segmentation.models import StatusChange
from segmentation.services import lifecycle_recompute

FIXTURES = Path(__file__).parent / "fixtures"
CLIENTS_FILE = str(FIXTURES / "clients_es_cp1252_semicolon.csv")
PURCHASES_FILE = str(FIXTURES / "purchases_pt_bom.csv")
CLIENTS_BAD = [5, 6, 8, 11, 12]
PURCHASES_BAD = [9, 10, 11, 12, 13, 14, 15, 16, 17]
PURCHASES_BAD_WHEN_CREATING = [9, 10, 11, 12, 13, 14, 16, 17]  # row 15's unknown client P-9 is then created


def run(command: str, *args: str) -> tuple[str, str]:
    """(stdout, stderr) of the command, in English."""
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(command: str, *args: str) -> tuple[str, str]:
    """(the CommandError's message, stderr) of a command that must refuse."""
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command(command, *args, stdout=io.StringIO(), stderr=err)
    return str(error.value), err.getvalue()


def counts() -> tuple[int, int, int]:
    return Client.objects.count(), Purchase.objects.count(), PurchaseLine.objects.count()


def reported_lines(stderr: str) -> set[int]:
    return {int(line.split(",")[0].removeprefix("row ")) for line in stderr.splitlines() if line.startswith("row ")}


# --- All or nothing ------------------------------------------------------------------------------


def test_import_purchases_with_a_bad_row_writes_nothing_and_names_every_bad_row(purchases_base):
    before = counts()

    message, stderr = refused("import_purchases", PURCHASES_FILE)

    assert message.startswith(f"Nothing imported: {len(PURCHASES_BAD)} rows have errors")
    assert reported_lines(stderr) == set(PURCHASES_BAD)
    assert "row 10, column Valor total, value '-5': The amount is negative." in stderr
    assert counts() == before
    assert not StatusChange.objects.exists()


def test_import_clients_with_a_bad_row_writes_nothing_and_names_every_bad_row(owner, clients_base):
    before = list(Client.objects.order_by("pk").values())

    message, stderr = refused("import_clients", CLIENTS_FILE, "--owner", owner.username)

    assert message.startswith(f"Nothing imported: {len(CLIENTS_BAD)} rows have errors")
    assert reported_lines(stderr) == set(CLIENTS_BAD)
    assert "row 8, column País, value 'Atlántida'" in stderr
    assert list(Client.objects.order_by("pk").values()) == before  # not even the empty fields filled


def test_import_purchases_only_valid_writes_the_valid_rows_and_lists_the_skipped_ones(purchases_base):
    out, stderr = run("import_purchases", PURCHASES_FILE, "--only-valid")

    assert f"skipped rows: {', '.join(map(str, PURCHASES_BAD))}" in out
    assert (
        "14 rows, 9 with errors; clients: 0 new, 3 existing (0 completed); purchases: 5 new, 0 already imported" in out
    )
    assert reported_lines(stderr) == set(PURCHASES_BAD)
    assert Purchase.objects.count() == 5
    assert PurchaseLine.objects.count() == 2
    assert sorted(Purchase.objects.values_list("client_id", flat=True)) == sorted(
        [purchases_base["p1"].pk] * 3 + [purchases_base["by_tax"].pk, purchases_base["joao"].pk]
    )


def test_import_clients_only_valid_writes_the_valid_rows_and_lists_the_skipped_ones(owner, clients_base):
    out, _ = run("import_clients", CLIENTS_FILE, "--owner", owner.username, "--only-valid")

    assert "skipped rows: 5, 6, 8, 11, 12" in out
    assert "clients: 3 new, 2 existing (2 completed)" in out
    assert sorted(Client.objects.values_list("client_ref", flat=True)) == ["C-100", "C-101", "C-104", "C-105", "C-109"]
    assert set(Client.objects.filter(client_ref__in=["C-100", "C-105", "C-109"]).values_list("owner", flat=True)) == {
        owner.pk
    }


def test_importing_the_same_files_twice_creates_nothing_the_second_time(owner, clients_base, purchases_base):
    run("import_clients", CLIENTS_FILE, "--owner", owner.username, "--only-valid")
    run("import_purchases", PURCHASES_FILE, "--only-valid", "--create-missing-clients", "--owner", owner.username)
    before = counts()

    clients_out, _ = run("import_clients", CLIENTS_FILE, "--owner", owner.username, "--only-valid")
    purchases_out, _ = run(
        "import_purchases", PURCHASES_FILE, "--only-valid", "--create-missing-clients", "--owner", owner.username
    )

    assert counts() == before
    assert "clients: 0 new, 5 existing (0 completed)" in clients_out
    assert "clients: 0 new, 4 existing (0 completed); purchases: 0 new, 6 already imported" in purchases_out


# --- --dry-run, --owner, --create-missing-clients ---------------------------------------------


def test_dry_run_writes_nothing_and_reports_the_figures(owner, purchases_base):
    before = counts()

    out, stderr = run(
        "import_purchases",
        PURCHASES_FILE,
        "--dry-run",
        "--only-valid",
        "--create-missing-clients",
        "--owner",
        owner.username,
    )

    assert (
        "Dry run, nothing written: 14 rows, 8 with errors; clients: 1 new, 3 existing (0 completed); purchases: 6 new"
        in out
    )
    assert reported_lines(stderr) == set(PURCHASES_BAD_WHEN_CREATING)
    assert counts() == before


def test_dry_run_of_new_clients_without_an_owner_still_reports(clients_base):
    before = list(Client.objects.values())

    out, _ = run("import_clients", CLIENTS_FILE, "--dry-run", "--only-valid")

    assert "Dry run, nothing written" in out and "clients: 3 new" in out
    assert list(Client.objects.values()) == before


def test_dry_run_with_bad_rows_and_without_only_valid_refuses_like_the_real_run(purchases_base):
    message, _ = refused("import_purchases", PURCHASES_FILE, "--dry-run")

    assert message.startswith("Nothing imported: 9 rows have errors")


def test_creating_clients_without_an_owner_fails_cleanly(clients_base, purchases_base):
    before = counts()

    clients_message, _ = refused("import_clients", CLIENTS_FILE, "--only-valid")
    purchases_message, _ = refused("import_purchases", PURCHASES_FILE, "--only-valid", "--create-missing-clients")
    unknown_message, _ = refused("import_clients", CLIENTS_FILE, "--only-valid", "--owner", "nobody")

    assert clients_message == "Nothing imported: --owner USERNAME is needed to create 3 clients."
    assert purchases_message == "Nothing imported: --owner USERNAME is needed to create 1 clients."
    assert unknown_message == "No active user 'nobody'"
    assert counts() == before


def test_create_missing_clients_gives_them_the_owner_and_a_name(owner, purchases_base):
    out, _ = run(
        "import_purchases", PURCHASES_FILE, "--only-valid", "--create-missing-clients", "--owner", owner.username
    )

    created = Client.objects.get(client_ref="P-9")  # row 15: 'Zé Novo' in the Nome column
    assert (created.owner, created.first_name, created.purchase_count, created.total_spent) == (
        owner,
        "Zé Novo",
        1,
        Decimal("50"),
    )
    assert "clients: 1 new" in out
    assert Purchase.objects.count() == 6


def test_a_clients_file_of_existing_clients_needs_no_owner(tmp_path, owner):
    client = ClientFactory(owner=owner, client_ref="R1", phone="")
    path = tmp_path / "clientes.csv"
    path.write_text("Referencia;Nombre;Teléfono\nR1;Ana;600111222\n", encoding="utf-8")

    out, _ = run("import_clients", str(path))

    client.refresh_from_db()
    assert client.phone == "+34600111222"  # in E.164
    assert "clients: 0 new, 1 existing (1 completed)" in out


# --- Figures after an import ---------------------------------------------------------------------


def test_after_an_import_the_touched_clients_are_as_a_full_recompute_leaves_them(tmp_path, owner):
    today = timezone.localdate()
    ClientFactory(owner=owner, client_ref="A")
    ClientFactory(owner=owner, client_ref="B")
    path = tmp_path / "compras.csv"
    path.write_text(
        "Referencia;Fecha;Importe\n"
        f"A;{(today - dt.timedelta(days=120)):%d/%m/%Y};1.000,00\n"
        f"A;{(today - dt.timedelta(days=2)):%Y%m%d};20\n"
        f"B;{(today - dt.timedelta(days=100)).isoformat()};35,5\n"
        f"C;{(today - dt.timedelta(days=10)).isoformat()};9,99\n",
        encoding="utf-8",
    )
    fields = ("client_ref", "purchase_count", "total_spent", "last_purchase_date", "status", "alert")

    run("import_purchases", str(path), "--create-missing-clients", "--owner", owner.username)
    imported = sorted(Client.objects.values_list(*fields))
    lifecycle_recompute()

    assert sorted(Client.objects.values_list(*fields)) == imported
    assert [row[:5] for row in imported] == [
        ("A", 2, Decimal("1020.00"), today - dt.timedelta(days=2), "active"),
        ("B", 1, Decimal("35.50"), today - dt.timedelta(days=100), "dormant"),
        ("C", 1, Decimal("9.99"), today - dt.timedelta(days=10), "new"),
    ]
    assert set(StatusChange.objects.values_list("cause", flat=True)) == {"import"}


# --- Files that cannot be imported --------------------------------------------------------------


def test_a_pdf_renamed_csv_is_refused_with_a_clear_message(db):
    message, _ = refused("import_purchases", str(FIXTURES / "not_a_table.csv"))

    assert message == "This is not a CSV or Excel (.xlsx) file."
    assert counts() == (0, 0, 0)


def test_a_missing_file_is_refused(tmp_path, db):
    message, _ = refused("import_clients", str(tmp_path / "nope.csv"))

    assert message == f"No such file: {tmp_path / 'nope.csv'}"


def test_a_file_without_the_needed_columns_is_refused_with_what_it_lacks(tmp_path, db):
    path = tmp_path / "compras.csv"
    path.write_text("Referencia;Notas\nR1;x\n", encoding="utf-8")

    message, _ = refused("import_purchases", str(path))

    assert message.startswith("Nothing imported: ")
    assert "purchase date" in message.lower() and "amount" in message.lower()
    assert counts() == (0, 0, 0)
