"""Reading real-world files (clients/spreadsheets.py): encodings, separators, numbers, dates, headers."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from imports.spreadsheets import FileRefused, map_headers, parse_date, parse_decimal, read_table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,50", "12.50"),
        ("12.50", "12.50"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,5", "1234.5"),
        ("1.234.567", "1234567"),
        ("1,234,567", "1234567"),
        ("-3", "-3"),
        ("+7,25", "7.25"),
        ("0", "0"),
        ("1'234.50", "1234.50"),
    ],
)
def test_parse_decimal(text, expected):
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "12,5,0.1.2", "1.2.3,4,5", "12€x", "--3"])
def test_parse_decimal_refuses(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-30", dt.date(2026, 6, 30)),
        ("20260630", dt.date(2026, 6, 30)),
        ("30/06/2026", dt.date(2026, 6, 30)),
        ("1/2/2026", dt.date(2026, 2, 1)),
        ("30-06-2026", dt.date(2026, 6, 30)),
        ("30.06.2026", dt.date(2026, 6, 30)),
        ("2026-06-30 14:05", dt.date(2026, 6, 30)),
        (" 2026-6-3 ", dt.date(2026, 6, 3)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "31/02/2026", "2026/06/30", "06/30/2026", "30-06-26", "mañana", "20261330"])
def test_parse_date_refuses(text):
    with pytest.raises(ValueError):
        parse_date(text)


SPANISH = 'Referencia;Fecha;Importe;Producto\nC-1;30/06/2026;1.234,50;Café molido\n\nC-2;01/07/2026;12,5;"Té; verde"\n'


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (SPANISH.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + SPANISH.encode("utf-8"), "utf-8-sig"),
        (SPANISH.encode("cp1252"), "cp1252"),
        (SPANISH.encode("latin-1"), "cp1252"),
        (SPANISH.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
    ],
)
def test_csv_encodings_separators_blank_lines_and_quotes(data, encoding):
    table = read_table(data)
    assert (table.encoding, table.delimiter) == (encoding, ";")
    assert table.headers == ["Referencia", "Fecha", "Importe", "Producto"]
    # Line numbers are the file's: the blank line 3 is skipped, the next record is line 4.
    assert table.rows == [
        (2, ["C-1", "30/06/2026", "1.234,50", "Café molido"]),
        (4, ["C-2", "01/07/2026", "12,5", "Té; verde"]),
    ]


def test_comma_and_tab_files_and_quoted_line_breaks():
    table = read_table(b'ref,notes,amount\n"A","first line\nsecond line",10.5\n  B  , x ,3\n')
    assert table.delimiter == ","
    assert table.rows == [(2, ["A", "first line\nsecond line", "10.5"]), (4, ["B", "x", "3"])]
    assert read_table(b"ref\tamount\nA\t1\n").delimiter == "\t"


def test_xlsx_first_sheet_as_text():
    book = Workbook()
    sheet = book.active
    sheet.append(["Código cliente", "Data", "Valor"])
    sheet.append(["C-1", dt.datetime(2026, 6, 30), 1234.5])
    sheet.append([None, None, None])
    sheet.append(["C-2", dt.date(2026, 7, 1), 12])
    buffer = io.BytesIO()
    book.save(buffer)
    table = read_table(buffer.getvalue(), filename="compras.xlsx")
    assert table.headers == ["Código cliente", "Data", "Valor"]
    assert table.rows == [(2, ["C-1", "2026-06-30", "1234.5"]), (4, ["C-2", "2026-07-01", "12"])]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"",
        b"   \n\n",
        b"PK\x03\x04not really a zip",
        b"ref,amount\x00\x00\x00",
        b"\r\x01",  # a lone carriage return in an unquoted field (found by the fuzz test: it was a 500)
    ],
)
def test_files_that_are_not_tables_are_refused(data):
    with pytest.raises(FileRefused):
        read_table(data)


def test_size_limit(monkeypatch):
    monkeypatch.setattr("imports.spreadsheets.MAX_BYTES", 10)
    with pytest.raises(FileRefused, match="MB"):
        read_table(b"ref,amount\nA,1\n")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Referencia", "Fecha", "Importe", "Cantidad", "Producto"],
            {"client_ref": 0, "date": 1, "amount": 2, "quantity": 3, "product": 4},
        ),
        (
            ["Código do cliente", "Data da compra", "Valor total", "Quantidade", "Produto"],
            {"client_ref": 0, "date": 1, "amount": 2, "quantity": 3, "product": 4},
        ),
        (["client_ref", "date", "amount"], {"client_ref": 0, "date": 1, "amount": 2}),
        (
            ["Customer ID", "Order date", "Total", "Qty", "Item", "Comments"],
            {"client_ref": 0, "date": 1, "amount": 2, "quantity": 3, "product": 4},
        ),
        (
            ["NIF/CIF", "Razón social", "Teléfono", "E-mail", "Código postal", "Población"],
            {"tax_id": 0, "company_name": 1, "phone": 2, "email": 3, "postal_code": 4, "city": 5},
        ),
        (["Nombre", "Apellidos", "Nombre"], {"first_name": 0, "last_name": 1}),
    ],
)
def test_map_headers_in_three_languages(headers, expected):
    fields = [
        "client_ref",
        "date",
        "amount",
        "quantity",
        "product",
        "first_name",
        "last_name",
        "company_name",
        "email",
        "phone",
        "tax_id",
        "city",
        "postal_code",
    ]
    assert map_headers(headers, fields) == expected


def test_messages_are_in_the_users_language():
    from django.utils import translation

    with translation.override("es"), pytest.raises(FileRefused, match="El archivo está vacío"):
        read_table(b"")
    with translation.override("pt-br"), pytest.raises(ValueError, match="não é uma data"):
        parse_date("31/02/2026")
