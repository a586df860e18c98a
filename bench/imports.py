"""Times the import of a 100,000-row purchases file (and of a 100,000-row clients file) on the
current database (run through `make bench`). Everything written is rolled back at the end, and
the tables it wrote are vacuumed (the rolled-back rows stay behind as dead rows, and with
autovacuum off every run would slow the next ones down; BENCH_IMPORT_VACUUM=0 skips it).

The purchases file is what a Spanish ERP exports: Windows-1252, semicolons, decimal commas,
day-first dates; 90 % of rows name the client by reference, 10 % by e-mail (in capitals), for
about 30,000 existing clients. Reported: reading, the preview's analysis (as an administrador
sees it), the write with the clients' recompute, and a second import of the same file (which
must create nothing).
"""

import datetime as dt
import os
import random
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from clients.models import Client, Purchase  # noqa: E402
from imports.services import Kind, import_analyse, import_apply, proposed_mapping  # noqa: E402
from imports.spreadsheets import read_table  # noqa: E402

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
CLIENTS = ROWS * 3 // 10
# What an import writes (the refresh included), vacuumed once its rows are rolled back.
WRITTEN_TABLES = [
    "clients_client", "clients_purchase", "clients_purchaseline", "audit_auditentry", "segmentation_statuschange",
    "clients_followup",
]


class Rollback(Exception):
    pass


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    elapsed = time.perf_counter() - start
    print(f"{label:<58} {elapsed:7.2f} s")
    return result, elapsed


def purchases_file() -> bytes:
    rng = random.Random(7)
    known = list(
        Client.objects.exclude(client_ref="").exclude(email="").order_by("?").values_list("client_ref", "email")[:CLIENTS]
    )
    today = timezone.localdate()
    lines = ["Código cliente;Correo;Fecha;Importe;Observaciones"]
    for _ in range(ROWS):
        ref, email = rng.choice(known)
        day = today - dt.timedelta(days=rng.randint(0, 700))
        amount = f"{rng.randint(5, 4000)},{rng.randint(0, 99):02d}"
        if rng.random() < 0.1:
            lines.append(f";{email.upper()};{day:%d/%m/%Y};{amount};pedido web")
        else:
            lines.append(f"{ref};;{day:%d/%m/%Y};{amount};")
    return "\r\n".join(lines).encode("cp1252")


def clients_file() -> bytes:
    """New clients with valid NIEs (X, seven digits, the control letter): a row the check refuses
    would be left out, and the write would time nothing."""
    lines = ["Nombre;Apellidos;NIF;Correo electrónico;Teléfono;Ciudad;Provincia;Código postal"]
    for n in range(ROWS):
        nie = f"X{n:07d}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"
        lines.append(f"Cliente{n};Importado Bench;{nie};bench{n}@example.net;+34 600 {n:06d};León;León;24{n % 1000:03d}")
    return "\r\n".join(lines).encode("cp1252")


def main() -> None:
    admin = User.objects.filter(groups__name=Role.ADMINISTRADOR).first() or User.objects.filter(is_superuser=True).first()
    owner = User.objects.filter(groups__name=Role.COMERCIAL).first()
    print(f"clients in the base: {Client.objects.count():,}; purchases: {Purchase.objects.count():,}")
    data = purchases_file()
    print(f"purchases file: {ROWS:,} rows, {len(data) / 2**20:.1f} MB")
    table, read = timed("read (decode, delimiter, rows)", read_table, data)
    mapping = proposed_mapping(Kind.PURCHASES, table)
    visible = Client.objects.visible_to(admin)
    try:
        with transaction.atomic():
            analysis, analyse = timed(
                "analysis: parse, check, match, duplicates (the preview)",
                import_analyse, table, Kind.PURCHASES, mapping, visible=visible,
            )
            summary = analysis.summary()
            print(f"   {summary['purchases_created']:,} purchases to create for {summary['clients_matched']:,} clients; "
                  f"{summary['bad_rows']} bad rows")
            result, write = timed("write + recompute of the touched clients", import_apply, analysis, owner=owner, created_by=admin)
            print(f"   {result.purchases_created:,} purchases written, {result.status_changes:,} status changes")
            print(f"{'TOTAL 100k purchases (read + analysis + write)':<58} {read + analyse + write:7.2f} s")
            again, _ = timed(
                "same file again: analysis",
                import_analyse, read_table(data), Kind.PURCHASES, mapping, visible=visible,
            )
            print(f"   second import: {again.summary()['purchases_created']} to create, "
                  f"{again.summary()['already_imported']:,} already imported")
            raise Rollback
    except Rollback:
        pass
    data = clients_file()
    table, read = timed(f"clients file ({ROWS:,} rows): read", read_table, data)
    try:
        with transaction.atomic():
            analysis, analyse = timed(
                "clients: analysis", import_analyse, table, Kind.CLIENTS, proposed_mapping(Kind.CLIENTS, table),
                visible=visible,
            )
            result, write = timed("clients: write + recompute", import_apply, analysis, owner=owner, created_by=admin)
            print(f"   {result.clients_created:,} clients created; {analysis.summary()['bad_rows']} bad rows")
            print(f"{'TOTAL 100k clients (read + analysis + write)':<58} {read + analyse + write:7.2f} s")
            raise Rollback
    except Rollback:
        pass
    if os.environ.get("BENCH_IMPORT_VACUUM", "1") != "0" and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            timed("vacuum of the tables written (rolled back)", cursor.execute, f"VACUUM (ANALYZE) {', '.join(WRITTEN_TABLES)}")


if __name__ == "__main__":
    main()
