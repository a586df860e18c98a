"""Files as people and attackers really send them: Excel's Unicode text, old Windows encodings,
sheets that lie about their size, cells and quotes that never end, zip bombs. Each is read, or
refused with a clear message, in bounded time and memory."""

import csv
import time

import pytest
from django.utils import translation

from imports.spreadsheets import FileRefused, read_table
from imports.tests.files import excel_unicode_text, xlsx_of, xlsx_written, zip_bomb


def refused(data: bytes) -> str:
    with translation.override("en"), pytest.raises(FileRefused) as error:
        read_table(data)
    return str(error.value)


def test_excel_unicode_text_is_utf16_with_tabs():
    data = excel_unicode_text("Referencia\tFecha\tImporte\tProducto\nC-1\t30/06/2026\t1.234,56\tCafé molido\nC-2\t01/07/2026\t12,5\tPão de queijo\n")
    table = read_table(data)
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.rows == [
        (2, ["C-1", "30/06/2026", "1.234,56", "Café molido"]),
        (3, ["C-2", "01/07/2026", "12,5", "Pão de queijo"]),
    ]


def test_utf16_without_its_bom_is_read_too():
    table = read_table("Nombre\tCiudad\nJosé\tA Coruña\n".encode("utf-16-le"))
    assert table.rows == [(2, ["José", "A Coruña"])]


def test_windows_1252_accents_and_a_semicolon_file_with_decimal_commas():
    data = "Código;Razón social;Importe\nC-1;Ñandú Cafés S.L.;1.234,56\nC-2;Peña & Núñez;12,50\n".encode("cp1252")
    table = read_table(data)
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.rows[0] == (2, ["C-1", "Ñandú Cafés S.L.", "1.234,56"])


def test_utf8_with_bom_keeps_its_first_header_clean():
    assert read_table("\ufeffNombre,Email\nAna,a@example.com\n".encode()).headers == ["Nombre", "Email"]


def test_a_nul_byte_is_a_clear_error_with_its_line():
    assert refused(b"Nombre,Email\nAna,a@example.com\nBea\x00,b@example.com\n") == (
        "Line 3 holds a NUL character: this is not a text file. Save it as CSV or Excel (.xlsx)."
    )


def test_an_unterminated_quote_is_a_clear_error():
    assert refused(b'Nombre,Notas\nAna,ok\nBea,"never closed\nCarla,x\n') == 'Row 3 opens a quote (") that is never closed.'


def test_a_cell_over_the_csv_modules_limit_is_a_clear_error():
    huge = b"x" * (csv.field_size_limit() + 10)
    assert "longer than 1,000 characters" in refused(b"Nombre,Notas\nAna," + huge + b"\n")
    # In a quote that never ends, the same limit is met: the message names both causes.
    assert refused(b'Nombre,Notas\nAna,"' + b"line\n" * 40_000) == (
        'Row 2 opens a quote (") that is never closed, or holds a cell longer than 1,000 characters.'
    )


def test_caps_on_rows_columns_and_cell_length(settings):
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS, settings.IMPORT_MAX_CELL_CHARS = 3, 4, 10
    assert len(read_table(b"a,b,c,d\n1,2,3,4\n5,6,7,8\n9,10,11,12\n").rows) == 3
    assert refused(b"a,b\n1,2\n3,4\n5,6\n7,8\n") == "The file has more than 3 rows: split it into smaller files."
    assert refused(b"a,b\n1,2,3,4,5\n") == "Row 2 has 5 columns: at most 4 are read."
    assert refused(b"a,b\n1,12345678901\n") == "Row 2, column 2: a cell is longer than 10 characters."
    # Trailing empty cells are a spreadsheet's formatting, not columns.
    assert read_table(b"a,b" + b"," * 100 + b"\n1,2" + b"," * 100 + b"\n").rows == [(2, ["1", "2"])]


def test_an_xlsx_with_a_lying_dimension_is_read_as_it_is():
    data = xlsx_written([["Nombre", "Ciudad"], ["Ana", "Vigo"], ["Bea", 3]], dimension="A1:XFD1048576")
    started = time.monotonic()
    table = read_table(data)
    assert table.headers == ["Nombre", "Ciudad"]
    assert table.rows == [(2, ["Ana", "Vigo"]), (3, ["Bea", "3"])]
    assert time.monotonic() - started < 1


def test_an_xlsx_with_a_million_empty_styled_rows_is_read_in_seconds():
    data = xlsx_written([["Nombre"], ["Ana"]], dimension="A1:XFD1048576", empty_styled_rows=1_000_000)
    started = time.monotonic()
    table = read_table(data)
    assert table.rows == [(2, ["Ana"])]
    assert time.monotonic() - started < 5


def test_xlsx_caps(settings):
    settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS = 2, 3
    assert len(read_table(xlsx_of([["a"], [1], [2]])).rows) == 2
    assert refused(xlsx_of([["a"], [1], [2], [3]])) == "The file has more than 2 rows: split it into smaller files."
    assert refused(xlsx_of([["a", "b", "c", "d"], [1, 2, 3, 4]])) == "Row 1 has 4 columns: at most 3 are read."
    # A value far below the cap (the sheet then goes on empty) costs no more than its rows.
    settings.IMPORT_MAX_ROWS = 10
    assert refused(xlsx_written([["a"], [1]] + [[""]] * 2000 + [[2]])) == "The file has more than 10 rows: split it into smaller files."


def test_a_zip_bomb_is_refused_before_it_is_inflated(settings):
    assert refused(zip_bomb(50)) == "This Excel file unpacks to far more data than a spreadsheet holds, so it is not read."
    settings.IMPORT_XLSX_MAX_INFLATED_MB = 1  # the total declared, whatever the ratio
    assert "unpacks to far more data" in refused(xlsx_written([["Nombre"]] + [[f"persona {n}"] for n in range(30_000)]))


def test_a_damaged_xlsx_is_a_clear_error():
    data = xlsx_written([["Nombre"], ["Ana"]])
    assert refused(data[: len(data) // 2]) == "This is not a CSV or Excel (.xlsx) file."
