"""Analysing and applying imports (imports/services.py) on the messy files people really have.

The fixture files under fixtures/ hold planted errors at known rows (the file's own line numbers,
header = line 1, quoted line breaks counted): each test names exactly those rows.
"""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook

from clients.models import Client, Purchase, PurchaseLine
from clients.tests.factories import ClientFactory, ProductFactory, PurchaseFactory
from imports.services import Kind, import_analyse, import_apply, proposed_mapping
from imports.spreadsheets import read_table
from segmentation.services import lifecycle_recompute

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2026, 6, 30)  # the fixtures' dates are before it, except the planted future one

# clients_es_cp1252_semicolon.csv: Windows-1252, ";", CRLF, Spanish headers.
CLIENTS_BAD = {
    5: ("Correo electrónico", "ana@@example.es"),  # not an e-mail
    6: ("", ""),  # no name at all
    8: ("País", "Atlántida"),  # no country we know (names in Spanish, Portuguese or English pass)
    11: ("", ""),  # same tax id as row 2 (12.345.678-z == 12345678Z)
    12: ("Código postal", "1234567890ABCDEFG"),  # longer than 16
}
# purchases_pt_bom.csv: UTF-8 with BOM, ",", Portuguese headers, a quoted line break in rows 3-4.
PURCHASES_PT_BAD = {
    9: ("Data da compra", "2025-02-30"),
    10: ("Valor total", "-5"),
    11: ("Valor total", "12,345"),
    12: ("Data da compra", ""),
    13: ("Valor total", ""),
    14: ("Produto", "Chá Verde"),
    15: ("Código do cliente", "P-9"),  # unknown client (and creating them is off)
    16: ("Data da compra", "2099-01-01"),
    17: ("", ""),  # no reference, tax id or e-mail
}
# purchases_mixed_formats.csv: Windows-1252, ";", English headers, decimal comma and point.
MIXED_BAD = {
    9: ("Order date", "2025-13-01"),
    10: ("Total", "abc"),
    11: ("Qty", "0"),
    13: ("Total", "1.234,567"),
}


def table_of(name_or_bytes):
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (FIXTURES / name_or_bytes).read_bytes()
    return read_table(data)


def analyse(source, kind, *, visible=None, today=TODAY, **options):
    table = table_of(source)
    return import_analyse(table, kind, proposed_mapping(kind, table), visible=visible, today=today, **options)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def errors_by_line(analysis) -> dict[int, tuple[str, str]]:
    return {error.line: (error.column, error.value) for error in analysis.errors}


def messages_by_line(analysis) -> dict[int, str]:
    return {error.line: error.message for error in analysis.errors}


FIGURES = ("purchase_count", "total_spent", "first_purchase_date", "last_purchase_date", "status", "alert")


def figures(ids) -> dict[int, tuple]:
    return {
        row["pk"]: tuple(row[name] for name in FIGURES)
        for row in Client.objects.filter(pk__in=ids).values("pk", *FIGURES)
    }


# --- The clients file ---------------------------------------------------------------------


def test_the_spanish_clients_file_reports_exactly_its_planted_bad_rows(clients_base):
    analysis = analyse("clients_es_cp1252_semicolon.csv", Kind.CLIENTS)

    assert analysis.problems == []
    assert set(analysis.bad_lines) == set(CLIENTS_BAD)
    assert errors_by_line(analysis) == CLIENTS_BAD
    assert analysis.summary() == {
        "rows": 10,
        "bad_rows": 5,
        "errors": 5,
        "clients_created": 3,
        "clients_matched": 2,
        "clients_completed": 2,
        "purchases_created": 0,
        "already_imported": 0,
        "products_created": 0,
        "new_products": [],
    }
    with translation.override("en"):
        same_client = messages_by_line(analyse("clients_es_cp1252_semicolon.csv", Kind.CLIENTS))[11]
    assert same_client == "The same client as row 2."


def test_the_spanish_clients_file_creates_the_new_clients_and_fills_only_empty_fields(owner, clients_base):
    analysis = analyse("clients_es_cp1252_semicolon.csv", Kind.CLIENTS)

    result = import_apply(analysis, owner=owner)

    assert (result.clients_created, result.clients_completed, result.purchases_created) == (3, 2, 0)
    jose = Client.objects.get(client_ref="C-100")
    assert (
        jose.first_name,
        jose.last_name,
        jose.tax_id,
        jose.email,
        jose.city,
        jose.country,
        jose.sector,
        jose.owner,
    ) == (
        "José",
        "Muñoz",
        "12345678Z",
        "jose.munoz@example.es",
        "Córdoba",
        "ES",
        "Hostelería",
        owner,
    )
    pedro = Client.objects.get(client_ref="C-105")
    assert pedro.address.splitlines() == ["Avda. del Puerto 3", "Bajo B"]  # a quoted line break
    elena = Client.objects.get(client_ref="C-109")  # spaces around every value
    assert (elena.first_name, elena.last_name, elena.city, elena.country) == ("Elena", "Soto", "Cádiz", "PT")
    nandu = Client.objects.get(pk=clients_base["nandu"].pk)  # matched by 'b-1234567 8'
    assert (nandu.client_ref, nandu.company_name, nandu.email, nandu.phone, nandu.city, nandu.postal_code) == (
        "C-101",
        "Cafés Ñandú",
        "info@nandu.es",
        "+34954000111",  # in E.164
        "Madrid",
        "41001",
    )
    maria = Client.objects.get(pk=clients_base["maria"].pk)  # matched by the e-mail, whatever its case
    assert (maria.client_ref, maria.phone, maria.city, maria.email) == (
        "C-104",
        "+34622333444",
        "Granada",
        "maria.gomez@example.com",
    )
    assert not Client.objects.filter(client_ref__in=["C-102", "C-103", "C-106", "C-108"]).exists()
    assert not Client.objects.filter(first_name="Luis").exists()
    assert Client.objects.count() == 5


def test_importing_the_clients_file_twice_creates_nothing_the_second_time(owner, clients_base):
    import_apply(analyse("clients_es_cp1252_semicolon.csv", Kind.CLIENTS), owner=owner)
    before = list(Client.objects.order_by("pk").values())

    again = analyse("clients_es_cp1252_semicolon.csv", Kind.CLIENTS)
    result = import_apply(again, owner=owner)

    assert (again.new_clients, again.client_updates, result.clients_created) == ({}, {}, 0)
    # Row 11 (the tax id of row 2) now simply meets the client row 2 created.
    assert set(again.bad_lines) == set(CLIENTS_BAD) - {11}
    assert len(again.matched) == 5
    after = list(Client.objects.order_by("pk").values())
    assert [{k: v for k, v in row.items() if k != "updated_at"} for row in after] == [
        {k: v for k, v in row.items() if k != "updated_at"} for row in before
    ]


def test_a_clients_file_never_overwrites_a_filled_field(owner):
    client = ClientFactory(
        owner=owner, client_ref="R1", first_name="Ana", last_name="", email="ana@example.es", phone="", city="Vigo"
    )
    data = csv_bytes(
        "Reference,First name,Last name,Email,Phone,City", "R1,Anabel,Ruiz,other@example.es,600000000,Lugo"
    )

    analysis = analyse(data, Kind.CLIENTS)
    import_apply(analysis, owner=owner)

    assert analysis.client_updates == {client.pk: {"last_name": "Ruiz", "phone": "+34600000000"}}
    client.refresh_from_db()
    assert (client.first_name, client.last_name, client.email, client.phone, client.city) == (
        "Ana",
        "Ruiz",
        "ana@example.es",
        "+34600000000",
        "Vigo",
    )


def test_an_xlsx_clients_file_with_english_headers_and_numeric_cells(owner):
    ClientFactory(owner=owner, client_ref="", tax_id="B-12345678", company_name="Old name", phone="")
    book = Workbook()
    sheet = book.active
    sheet.append(["Customer code", "First name", "Last name", "Company", "VAT number", "Email", "Phone", "Country"])
    sheet.append([1001, "Ana", "Ruiz", None, None, "ana@example.com", 600111222, "Spain"])  # line 2
    sheet.append([None] * 8)  # line 3, blank
    sheet.append([1002, None, None, "New name", "b12345678", None, 955000111, "ES"])  # line 4: matched by tax id
    sheet.append([1003, "Bad", "Mail", None, None, "not-an-email", None, "ES"])  # line 5
    sheet.append([1004, "Bad", "Country", None, None, None, None, "Atlantis"])  # line 6
    buffer = io.BytesIO()
    book.save(buffer)

    analysis = analyse(buffer.getvalue(), Kind.CLIENTS)
    import_apply(analysis, owner=owner)

    assert errors_by_line(analysis) == {5: ("Email", "not-an-email"), 6: ("Country", "Atlantis")}
    ana = Client.objects.get(client_ref="1001")
    assert (ana.first_name, ana.phone, ana.country) == ("Ana", "+34600111222", "ES")
    matched = Client.objects.get(tax_key="B12345678")
    assert (matched.client_ref, matched.company_name, matched.phone) == ("1002", "Old name", "+34955000111")
    assert Client.objects.count() == 2


# --- The purchases files --------------------------------------------------------------------


def test_the_portuguese_purchases_file_reports_exactly_its_planted_bad_rows(purchases_base):
    analysis = analyse("purchases_pt_bom.csv", Kind.PURCHASES)

    assert analysis.problems == []
    assert set(analysis.bad_lines) == set(PURCHASES_PT_BAD)
    assert errors_by_line(analysis) == PURCHASES_PT_BAD
    assert [p.line for p in analysis.purchases] == [2, 3, 5, 6, 7]
    assert analysis.new_clients == {}


def test_the_portuguese_purchases_file_records_the_valid_rows(owner, purchases_base):
    p1, by_tax, joao = purchases_base["p1"], purchases_base["by_tax"], purchases_base["joao"]

    result = import_apply(analyse("purchases_pt_bom.csv", Kind.PURCHASES), owner=owner)

    assert result.purchases_created == 5
    assert sorted(Purchase.objects.filter(client=p1).values_list("date", "amount")) == [
        (dt.date(2025, 3, 10), Decimal("99.90")),  # 10/03/2025, "99,90" with spaces
        (dt.date(2025, 3, 10), Decimal("1234.56")),  # two identical rows: two purchases the same day
        (dt.date(2025, 3, 10), Decimal("1234.56")),
    ]
    assert list(Purchase.objects.filter(client=by_tax).values_list("date", "amount")) == [
        (dt.date(2025, 3, 15), Decimal("1234.56")),  # 'PT 501 234 567', 20250315, "1,234.56"
    ]
    assert list(Purchase.objects.filter(client=joao).values_list("date", "amount")) == [
        (dt.date(2025, 4, 1), Decimal("15"))
    ]
    lines = PurchaseLine.objects.order_by("pk")
    assert [(line.product.name, line.quantity, line.unit_price) for line in lines] == [
        ("café moído", Decimal("2"), Decimal("617.28")),
        ("café moído", Decimal("2"), Decimal("617.28")),
    ]
    p1.refresh_from_db()
    assert (p1.purchase_count, p1.total_spent, p1.last_purchase_date) == (3, Decimal("2569.02"), dt.date(2025, 3, 10))


def test_importing_the_purchases_file_twice_creates_nothing_the_second_time(owner, purchases_base):
    import_apply(analyse("purchases_pt_bom.csv", Kind.PURCHASES), owner=owner)
    purchases, lines = Purchase.objects.count(), PurchaseLine.objects.count()

    again = analyse("purchases_pt_bom.csv", Kind.PURCHASES)
    result = import_apply(again, owner=owner)

    assert (again.purchases, again.already_imported, result.purchases_created) == ([], 5, 0)
    assert set(again.bad_lines) == set(PURCHASES_PT_BAD)
    assert (Purchase.objects.count(), PurchaseLine.objects.count()) == (purchases, lines) == (5, 2)


def test_the_mixed_formats_file_reports_exactly_its_planted_bad_rows_and_imports_the_rest(owner):
    ProductFactory(name="Té verde")
    a1 = ClientFactory(owner=owner, client_ref="A-1")
    ClientFactory(owner=owner, client_ref="B-2")

    analysis = analyse("purchases_mixed_formats.csv", Kind.PURCHASES)
    import_apply(analysis, owner=owner)

    assert (table_of("purchases_mixed_formats.csv").encoding, table_of("purchases_mixed_formats.csv").delimiter) == (
        "cp1252",
        ";",
    )
    assert set(analysis.bad_lines) == set(MIXED_BAD)
    assert errors_by_line(analysis) == MIXED_BAD
    assert sorted(Purchase.objects.values_list("client_id", "date", "amount")) == [
        (a1.pk, dt.date(2025, 1, 15), Decimal("1234.56")),  # 1.234,56
        (a1.pk, dt.date(2025, 1, 15), Decimal("1234.56")),  # 1,234.56
        (a1.pk, dt.date(2025, 1, 16), Decimal("7")),  # 16/01/2025 (a quoted line break after it)
        (a1.pk, dt.date(2025, 1, 16), Decimal("12.5")),  # 20250116
        (a1.pk, dt.date(2025, 1, 17), Decimal("10")),  # product 'TÉ VERDE'
    ]
    assert sorted(PurchaseLine.objects.values_list("product__name", "quantity", "unit_price")) == [
        ("Té verde", Decimal("1"), Decimal("1234.56")),
        ("Té verde", Decimal("2"), Decimal("5")),
    ]
    again = analyse("purchases_mixed_formats.csv", Kind.PURCHASES)
    assert (again.purchases, again.already_imported) == ([], 5)


def test_two_identical_rows_are_two_purchases_the_first_time_and_none_the_second(owner):
    client = ClientFactory(owner=owner, client_ref="R1")
    PurchaseFactory(client=client, date=dt.date(2025, 5, 1), amount=Decimal("10"))  # already recorded by hand
    data = csv_bytes(
        "ref,date,amount", "R1,2025-05-02,10", "R1,2025-05-02,10.00", "R1,2025-05-01,10", "R1,2025-05-01,10"
    )

    first = analyse(data, Kind.PURCHASES)
    import_apply(first, owner=owner)
    second = analyse(data, Kind.PURCHASES)

    assert (len(first.purchases), first.already_imported) == (3, 1)  # one of the two of May 1st was there
    assert (len(second.purchases), second.already_imported) == (0, 4)
    assert Purchase.objects.filter(client=client).count() == 4


# --- Matching --------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["b-1234567 8", "B12345678", "b.12345678", " B 1234 5678 "])
def test_a_tax_id_matches_whatever_its_punctuation_and_case(owner, written):
    client = ClientFactory(owner=owner, client_ref="", tax_id="B12345678")

    analysis = analyse(csv_bytes("NIF,Fecha,Importe", f'"{written}",2025-01-01,5'), Kind.PURCHASES)

    assert analysis.errors == []
    assert analysis.matched == {client.pk}


def test_an_email_matches_whatever_its_case(owner):
    client = ClientFactory(owner=owner, client_ref="", email="ana.ruiz@example.es")

    analysis = analyse(csv_bytes("Correo,Fecha,Importe", "Ana.Ruiz@EXAMPLE.es,2025-01-01,5"), Kind.PURCHASES)

    assert analysis.matched == {client.pk}


def test_the_reference_wins_over_the_tax_id_which_wins_over_the_email(owner):
    by_ref = ClientFactory(owner=owner, client_ref="R1", tax_id="", email="")
    by_tax = ClientFactory(owner=owner, client_ref="", tax_id="X1", email="")
    by_email = ClientFactory(owner=owner, client_ref="", tax_id="", email="e@example.es")
    data = csv_bytes(
        "ref,tax id,email,date,amount",
        "R1,X1,e@example.es,2025-01-01,1",  # line 2 → by reference
        "UNKNOWN,x-1,e@example.es,2025-01-01,2",  # line 3 → reference unknown: by tax id
        ",,E@example.es,2025-01-01,3",  # line 4 → by e-mail
    )

    analysis = analyse(data, Kind.PURCHASES)

    assert [(p.line, p.client) for p in analysis.purchases] == [(2, by_ref.pk), (3, by_tax.pk), (4, by_email.pk)]


def test_a_row_of_a_client_the_importer_cannot_see_is_an_error_and_nothing_is_written(owner, outsider):
    hidden = ClientFactory(owner=outsider, client_ref="H1", tax_id="B99999999", email="", phone="", city="Huelva")
    mine = ClientFactory(owner=owner, client_ref="M1")
    visible = Client.objects.visible_to(owner)

    purchases = analyse(
        csv_bytes("ref,nif,date,amount", "H1,,2025-01-01,10", ",b-9999999 9,2025-01-02,10", "M1,,2025-01-03,10"),
        Kind.PURCHASES,
        visible=visible,
    )
    clients = analyse(
        csv_bytes("Referencia,Nombre,NIF,Teléfono", "X9,Hugo,B99999999,600000000"), Kind.CLIENTS, visible=visible
    )
    import_apply(purchases, owner=owner)
    import_apply(clients, owner=owner)

    assert errors_by_line(purchases) == {2: ("ref", "H1"), 3: ("nif", "b-9999999 9")}
    assert errors_by_line(clients) == {2: ("NIF", "B99999999")}
    assert (clients.new_clients, clients.client_updates) == ({}, {})
    assert list(Purchase.objects.values_list("client_id", flat=True)) == [mine.pk]
    hidden.refresh_from_db()
    assert (hidden.purchase_count, hidden.phone, hidden.client_ref) == (0, "", "H1")
    assert Client.objects.count() == 2
    # The same rows are fine for whoever may see that client.
    assert (
        analyse(
            csv_bytes("ref,date,amount", "H1,2025-01-01,10"),
            Kind.PURCHASES,
            visible=Client.objects.visible_to(outsider),
        ).errors
        == []
    )


# --- Row errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "amount", "extra", "column", "message"),
    [
        ("2026-07-01", "10", "", "date", "The date is in the future."),
        ("", "10", "", "date", "The date is empty."),
        ("1899-12-31", "10", "", "date", "The date is before 1900."),
        ("31/02/2025", "10", "", "date", "“31/02/2025” is not a date (use YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)"),
        ("2025-01-01", "", "", "amount", "The amount is empty."),
        ("2025-01-01", "-0,01", "", "amount", "The amount is negative."),
        ("2025-01-01", "10.005", "", "amount", "Use at most 2 decimals and 10 digits before them."),
        ("2025-01-01", "12345678901", "", "amount", "Use at most 2 decimals and 10 digits before them."),
        ("2025-01-01", "diez", "", "amount", "“diez” is not a number"),
        (
            "2025-01-01",
            "10",
            "1,Té rojo",
            "product",
            "No product with this name in the catalogue (leave the column out to import the amounts alone).",
        ),
        ("2025-01-01", "10", "-1,Té verde", "quantity", "The quantity must be more than zero."),
        ("2025-01-01", "10", "1.2345,Té verde", "quantity", "Use at most 3 decimals and 7 digits before them."),
    ],
)
def test_each_bad_value_is_an_error_with_its_line_column_and_value(owner, date, amount, extra, column, message):
    ClientFactory(owner=owner, client_ref="R1")
    ProductFactory(name="Té verde")
    quantity, _, product = extra.partition(",")
    data = csv_bytes(
        "ref;date;amount;quantity;product", "R1;2025-01-01;1;;", f"R1;{date};{amount};{quantity};{product}"
    )

    with translation.override("en"):
        analysis = analyse(data, Kind.PURCHASES)

    assert [error.as_list() for error in analysis.errors] == [
        [3, column, {"date": date, "amount": amount, "product": product, "quantity": quantity}[column], message]
    ]
    assert [p.line for p in analysis.purchases] == [2]


@pytest.mark.parametrize("written", ["Té Verde", "TE VERDE", "te verde", "  té   verde "])
def test_products_match_whatever_their_case_and_accents(owner, written):
    ClientFactory(owner=owner, client_ref="R1")
    product = ProductFactory(name="Té verde")

    analysis = analyse(csv_bytes("ref;date;amount;qty;product", f"R1;2025-01-01;10;2;{written}"), Kind.PURCHASES)

    assert analysis.errors == []
    assert analysis.purchases[0].product_id == product.pk


def test_a_file_without_the_needed_columns_is_a_problem_not_row_errors(db):
    with translation.override("en"):
        purchases = analyse(csv_bytes("ref,notes", "R1,x"), Kind.PURCHASES)
        clients = analyse(csv_bytes("ref,email", "R1,a@example.es"), Kind.CLIENTS)

    # One problem per missing field, each naming it (the wording itself may change).
    assert len(purchases.problems) == 2
    assert "purchase date" in purchases.problems[0].lower() and "amount" in purchases.problems[1].lower()
    assert clients.problems == ["No column is a first name, last name or company name."]
    assert purchases.errors == clients.errors == []
    assert not purchases.importable


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            "Referencia;Fecha de compra;Importe total;Cantidad;Artículo",
            ["client_ref", "date", "amount", "quantity", "product"],
        ),
        ("Código do cliente;Data;Valor;Quantidade;Produto", ["client_ref", "date", "amount", "quantity", "product"]),
        ("Customer ID;Purchase date;Amount;Units;Product", ["client_ref", "date", "amount", "quantity", "product"]),
        ("NIF;Correo electrónico;Fecha;Monto", ["tax_id", "email", "date", "amount"]),
        ("CPF;E-mail;Data da compra;Valor total", ["tax_id", "email", "date", "amount"]),
    ],
)
def test_spanish_portuguese_and_english_headers_map_to_the_purchase_fields(db, headers, expected):
    table = read_table(f"{headers}\nx;2025-01-01;1;1;1\n".encode())

    mapping = proposed_mapping(Kind.PURCHASES, table)

    assert sorted(mapping, key=mapping.get) == expected


# --- Clients created from a purchases file -----------------------------------------------------


def test_missing_clients_are_created_once_each_and_named_from_a_name_column_or_their_reference(owner):
    data = csv_bytes(
        "ref,empresa,date,amount",
        "N1,Bodegas Núñez,2025-01-01,10",
        "N1,,2025-01-02,20",
        "N2,,2025-01-03,5",
        "N2,,2025-01-03,5",
    )

    refused = analyse(data, Kind.PURCHASES)
    analysis = analyse(data, Kind.PURCHASES, create_missing_clients=True)
    result = import_apply(analysis, owner=owner)

    assert set(refused.bad_lines) == {2, 3, 4, 5}
    assert (result.clients_created, result.purchases_created) == (2, 4)
    n1, n2 = Client.objects.get(client_ref="N1"), Client.objects.get(client_ref="N2")
    assert (n1.company_name, n1.owner, n1.purchase_count, n1.total_spent) == ("Bodegas Núñez", owner, 2, Decimal("30"))
    assert (n2.company_name, n2.purchase_count, n2.total_spent) == ("N2", 2, Decimal("10"))
    assert "bodegas nunez" in n1.search_text
    again = analyse(data, Kind.PURCHASES, create_missing_clients=True)
    assert (again.new_clients, again.purchases, again.already_imported) == ({}, [], 4)


def test_new_clients_need_someone_to_own_them(db):
    with translation.override("en"):
        analysis = analyse(
            csv_bytes("ref,date,amount", "N1,2025-01-01,10"),
            Kind.PURCHASES,
            create_missing_clients=True,
            owner_chosen=False,
        )

    assert analysis.needs_owner
    assert analysis.problems == ["Choose the salesperson who will own the new clients."]
    assert not analysis.importable


# --- Figures after an import -----------------------------------------------------------------------


def test_the_touched_clients_figures_status_and_alert_are_current_after_an_import(owner):
    today = timezone.localdate()
    recent, old = ClientFactory(owner=owner, client_ref="R"), ClientFactory(owner=owner, client_ref="O")
    untouched = ClientFactory(owner=owner, client_ref="U")
    data = csv_bytes(
        "ref,date,amount",
        f"R,{(today - dt.timedelta(days=200)).isoformat()},100",
        f"R,{(today - dt.timedelta(days=5)).isoformat()},30",
        f"O,{(today - dt.timedelta(days=150)).isoformat()},40",
        f"N,{(today - dt.timedelta(days=3)).isoformat()},12.5",
    )

    analysis = import_analyse(
        table := read_table(data),
        Kind.PURCHASES,
        proposed_mapping(Kind.PURCHASES, table),
        visible=None,
        create_missing_clients=True,
    )
    result = import_apply(analysis, owner=owner)

    new = Client.objects.get(client_ref="N")
    assert sorted(result.client_ids) == sorted([recent.pk, old.pk, new.pk])
    after_import = figures(result.client_ids)
    assert after_import[recent.pk][:2] == (2, Decimal("130"))
    assert after_import[recent.pk][4] == "active"
    assert after_import[old.pk][4] == "dormant"
    assert after_import[new.pk][4] == "new"
    assert Client.objects.get(pk=untouched.pk).status == "prospect"
    lifecycle_recompute()
    assert figures(result.client_ids) == after_import


def test_new_clients_without_purchases_are_written_as_a_recompute_would_leave_them(owner):
    """They are not recomputed after the write (100,000 at a million clients: 4 s), so their
    rows must already hold what the engine and the colours give a new prospect; the night
    still recommends to them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clients.models import FollowUp, RecommendationStale
    from segmentation.alerts import recompute_alerts
    from segmentation.engine import lifecycle_differences
    from segmentation.services import current_thresholds

    ClientFactory(owner=owner, client_ref="R")  # a purchase for someone already held: recomputed
    lifecycle_recompute()
    clients = analyse(csv_bytes("ref,nombre,sector,ciudad", "A1,Ana,Comercio,Vigo", "A2,Luis,,Lugo"), Kind.CLIENTS)
    with CaptureQueriesContext(connection) as queries:
        created = import_apply(clients, owner=owner)
    assert created.clients_created == 2
    assert not [q["sql"] for q in queries if "segmentation_lifecycle" in q["sql"] or "segmentation_alert" in q["sql"]]
    purchases = analyse(csv_bytes("ref,date,amount", f"R,{timezone.localdate().isoformat()},10"), Kind.PURCHASES)
    import_apply(purchases, owner=owner)

    assert lifecycle_differences(timezone.localdate(), current_thresholds()) == []
    assert recompute_alerts(timezone.now(), current_thresholds()) == 0
    assert not FollowUp.objects.filter(client__client_ref__in=["A1", "A2"]).exists()
    new = set(Client.objects.filter(client_ref__in=["A1", "A2"]).values_list("pk", flat=True))
    assert new <= set(RecommendationStale.objects.values_list("client_id", flat=True))


def test_a_tax_id_without_letters_or_digits_is_a_row_error_not_a_crash(owner):
    ClientFactory(owner=owner, client_ref="R1")

    analysis = analyse(csv_bytes("nif,date,amount", "-,2025-01-01,10", "B1,2025-01-01,10"), Kind.PURCHASES)

    assert set(analysis.bad_lines) == {2, 3}


@pytest.mark.parametrize(("amount", "quantity"), [("20000000000", ""), ("10", "10000000")])
def test_round_amounts_and_quantities_with_too_many_digits_are_errors(owner, amount, quantity):
    ClientFactory(owner=owner, client_ref="R1")
    ProductFactory(name="Té verde")

    analysis = analyse(
        csv_bytes(
            "ref;date;amount;quantity;product", f"R1;2025-01-01;{amount};{quantity};{'Té verde' if quantity else ''}"
        ),
        Kind.PURCHASES,
    )

    assert analysis.bad_lines == [2]
