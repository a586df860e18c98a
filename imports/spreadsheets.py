"""Reading the files people really have: CSV or XLSX, any of the usual encodings and separators.

`read_table` turns an uploaded file into a header and numbered rows of stripped text:
* XLSX (a zip starting with PK): the first sheet, values as text (dates as ISO, numbers with a dot).
* CSV: UTF-16 with its BOM (Excel's "Unicode text", tab separated), UTF-8 with or without BOM,
  else Windows-1252 (which also reads Latin-1 text); the delimiter is the one of `,` `;` tab `|`
  that splits the header best; quoted fields may hold separators and line breaks; blank lines
  are skipped; values are stripped.
* Anything else (a PDF renamed .csv, an image, a file with NUL bytes) is refused with a clear message.
Row numbers are the file's own line numbers (the header is line 1), as a spreadsheet shows them.

Bounded work whatever the file says about itself: at most IMPORT_MAX_ROWS rows, IMPORT_MAX_COLUMNS
columns and IMPORT_MAX_CELL_CHARS characters a cell (a clear message past any of them, never a
500). An XLSX is a zip: its declared inflated sizes and ratios are checked before it is opened
(zipfile then stops each part at its declared size), the sheet's declared <dimension> is ignored
(columns read up to the cap, rows up to the last one holding a value, found by a byte scan of the
sheet, so a million empty styled rows cost a scan, not a million parsed rows).

`parse_decimal` and `parse_date` read the numbers and dates of Spain, Portugal, Brazil and
English-speaking exports; `map_headers` proposes which column is which field from header names
in Spanish, Portuguese or English. Errors are ValueError with a translated message.
"""

import codecs
import csv
import datetime as dt
import io
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from clients.text import fold

MAX_BYTES = 20 * 1024 * 1024
DELIMITERS = [",", ";", "\t", "|"]
PROGRESS_ROWS = 10_000  # rows between two reports of the reading's progress
HEADER_LINES = 1_000  # lines above the header (titles, blank lines) an XLSX may have beyond the row cap


class FileRefused(ValueError):
    """The file cannot be read as a table at all (the message says why, translated)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, values)
    encoding: str = ""
    delimiter: str = ""


def read_table(data: bytes, *, filename: str = "", progress: Callable[[int], None] | None = None) -> Table:
    """The file as a table; `progress(rows read)` is called every PROGRESS_ROWS rows."""
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // (1024 * 1024)})
    if not data.strip():
        raise FileRefused(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, progress)
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")):
        raise FileRefused(_("This is not a CSV or Excel (.xlsx) file."))
    text, encoding = _decode(data)
    if (nul := text.find("\x00")) >= 0:  # PostgreSQL stores no NUL, and no text file holds one
        raise FileRefused(_("Line %(line)d holds a NUL character: this is not a text file. Save it as CSV or Excel (.xlsx).") % {
            "line": text.count("\n", 0, nul) + 1,
        })
    delimiter = _delimiter(text)
    table = Table(headers=[], encoding=encoding, delimiter=delimiter)
    reader = csv.reader(_lines(text), delimiter=delimiter)
    ended = [0, 0]  # the lines where the last complete record and the one before it ended

    def records():
        for values in reader:
            # reader.line_num is where the record ends; count back its quoted line breaks.
            yield reader.line_num - sum(value.count("\n") for value in values), [value.strip() for value in values]
            ended[:] = [reader.line_num, ended[0]]

    try:
        _filled(table, records(), progress)
    except csv.Error as error:
        line = ended[0] + 1
        if "field limit" in str(error):  # a cell far over any cap: a quote never closed, or not a table
            raise FileRefused(_quote_or_cell_message(line)) from error
        raise FileRefused(_("Line %(line)d cannot be read as CSV: %(reason)s") % {"line": line, "reason": error}) from error
    if table.rows and text.count('"') % 2 and any("\n" in value for value in table.rows[-1][1]):
        # The last record ran to the end of the file inside a quote.
        raise FileRefused(_("Row %(line)d opens a quote (\") that is never closed.") % {"line": ended[1] + 1})
    return table


def file_sniff(data: bytes) -> None:
    """The checks that cost next to nothing, for a file too large to read while its upload waits:
    its size, a known binary format, a zip that would inflate too much, a NUL or no text in its
    first lines. read_table, in the background, does the rest."""
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // (1024 * 1024)})
    if not data[:1_000_000].strip():
        raise FileRefused(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        _check_inflation(data)
        return
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")):
        raise FileRefused(_("This is not a CSV or Excel (.xlsx) file."))
    head, _encoding = _decode(data[:65_536], head=True)
    if (nul := head.find("\x00")) >= 0:
        raise FileRefused(_("Line %(line)d holds a NUL character: this is not a text file. Save it as CSV or Excel (.xlsx).") % {
            "line": head.count("\n", 0, nul) + 1,
        })


def _quote_or_cell_message(line: int) -> str:
    return _("Row %(line)d opens a quote (\") that is never closed, or holds a cell longer than %(max)s characters.") % {
        "line": line, "max": _number(settings.IMPORT_MAX_CELL_CHARS),
    }


def _number(value: int) -> str:
    return number_format(value, use_l10n=True, force_grouping=True)


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their ends, without a copy of the whole text (io.StringIO would hold
    it again at four bytes a character) and split at line feeds only, as the row numbers count."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _filled(table: Table, records, progress: Callable[[int], None] | None = None) -> Table:
    """The first non-blank record is the header; blank records are skipped; the caps are checked
    as the records come, so that reading stops at the first one past them."""
    max_rows, max_columns = settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS
    max_chars = settings.IMPORT_MAX_CELL_CHARS
    for line, values in records:
        while values and not values[-1]:
            values.pop()  # trailing empty cells: a spreadsheet's formatting, not columns
        if not values:
            continue
        if len(values) > max_columns:
            raise FileRefused(_("Row %(line)d has %(count)d columns: at most %(max)d are read.") % {
                "line": line, "count": len(values), "max": max_columns,
            })
        for index, value in enumerate(values) if max(map(len, values)) > max_chars else ():
            if len(value) > max_chars:
                if "\n" in value:
                    raise FileRefused(_quote_or_cell_message(line))
                raise FileRefused(_("Row %(line)d, column %(column)d: a cell is longer than %(max)s characters.") % {
                    "line": line, "column": index + 1, "max": _number(max_chars),
                })
        if not table.headers:
            table.headers = values
            continue
        if len(table.rows) >= max_rows:
            raise FileRefused(_too_many_rows())
        table.rows.append((line, values))
        if progress and len(table.rows) % PROGRESS_ROWS == 0:
            progress(len(table.rows))
    if not table.headers:
        raise FileRefused(_("The file is empty."))
    return table


def _too_many_rows() -> str:
    return _("The file has more than %(max)s rows: split it into smaller files.") % {
        "max": _number(settings.IMPORT_MAX_ROWS),
    }


def _decode(data: bytes, *, head: bool = False) -> tuple[str, str]:
    """The text and its encoding; `head`: the first bytes of a file, maybe cut inside a character."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return data[3:].decode("cp1252", errors="replace"), "cp1252"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data):
        # Excel's "Unicode text": UTF-16 little endian with its BOM, tab separated.
        try:
            codec = "utf-16" if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-16-le"
            return data.decode(codec, errors="ignore" if head else "strict"), "utf-16"
        except UnicodeDecodeError as error:
            raise FileRefused(_("This file is not valid UTF-16 text. Save it as CSV or Excel (.xlsx).")) from error
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _utf16_without_bom(data: bytes) -> bool:
    """Little-endian UTF-16 of Latin text: every second byte of the first line is a zero."""
    head = data[:200]
    return len(head) >= 4 and head[1::2].count(0) == len(head[1::2]) and head[0::2].count(0) == 0


def _delimiter(text: str) -> str:
    """The delimiter that splits the first line (outside quotes) into the most columns."""
    first = next((line for line in _lines(text[:1_000_000]) if line.strip()), "")
    counts = {}
    for candidate in DELIMITERS:
        try:
            counts[candidate] = len(next(csv.reader([first], delimiter=candidate)))
        except csv.Error:  # a lone carriage return in an unquoted field: the reading refuses that line
            counts[candidate] = 1
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] > 1 else ","


def _read_xlsx(data: bytes, progress: Callable[[int], None] | None = None) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    _check_inflation(data)
    try:
        with _dimensions_unread():
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise FileRefused(_("This is not a CSV or Excel (.xlsx) file.")) from error
    try:
        sheet = workbook.worksheets[0]
        last = _last_row_with_a_value(workbook._archive, sheet._worksheet_path)
        if last > settings.IMPORT_MAX_ROWS + HEADER_LINES:
            raise FileRefused(_too_many_rows())
        if last == 0:
            raise FileRefused(_("The file is empty."))
        max_columns = settings.IMPORT_MAX_COLUMNS
        # Explicit bounds: read-only openpyxl would otherwise pad every row to the declared width.
        rows = sheet.iter_rows(min_row=1, max_row=last, max_col=max_columns + 1, values_only=True)
        return _filled(Table(headers=[], encoding="xlsx", delimiter=""), _xlsx_records(rows), progress)
    except (BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        if isinstance(error, FileRefused):
            raise
        raise FileRefused(_("This Excel file is damaged or not an .xlsx workbook.")) from error
    finally:
        workbook.close()


def _xlsx_records(rows) -> Iterator[tuple[int, list[str]]]:
    """(line, texts) of each row, converting only the cells up to the width of the first row with
    a value when the rest is empty (tested at C speed): the rows come padded to the column cap."""
    width = None
    for line, cells in enumerate(rows, start=1):
        if width is not None and cells[width:].count(None) == len(cells) - width:
            cells = cells[:width]
        values = [_cell_text(value) for value in cells]
        if width is None and any(values):
            width = max(index for index, value in enumerate(values) if value) + 1
        yield line, values


@contextmanager
def _dimensions_unread():
    """Read-only openpyxl reads each sheet's declared <dimension> as it opens the workbook, and
    parses a whole sheet that declares none to find it; Cartera never uses it (see _read_xlsx), so
    the opening skips it. A class attribute swapped for the opening only, under a lock."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    with _OPENING:
        original = ReadOnlyWorksheet._get_size
        ReadOnlyWorksheet._get_size = lambda self: None
        try:
            yield
        finally:
            ReadOnlyWorksheet._get_size = original


_OPENING = threading.Lock()


def _check_inflation(data: bytes) -> None:
    """Refuses a zip whose parts would inflate to far more than any real workbook (a zip bomb),
    from the sizes its directory declares, before anything is inflated."""
    from zipfile import BadZipFile, ZipFile

    try:
        with ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (BadZipFile, OSError, ValueError) as error:
        raise FileRefused(_("This is not a CSV or Excel (.xlsx) file.")) from error
    limit = settings.IMPORT_XLSX_MAX_INFLATED_MB * 1024 * 1024
    ratio = settings.IMPORT_XLSX_MAX_RATIO
    inflated = sum(part.file_size for part in parts)
    packed = any(part.file_size > 1024 * 1024 and part.file_size > ratio * max(part.compress_size, 1) for part in parts)
    if inflated > limit or packed:
        raise FileRefused(_("This Excel file unpacks to far more data than a spreadsheet holds, so it is not read."))


_VALUE_TAGS = (b"<v>", b"<v ", b"<is>", b"<is ")
_ROW_NUMBER = re.compile(rb'[^>]*?\sr="(\d+)"')


def _last_row_with_a_value(archive, path: str) -> int:
    """The number of the sheet's last row holding a value (a <v> or an inline string), read from
    the inflated XML a megabyte at a time with byte searches: the rows after it (empty, maybe
    styled, maybe a million) are never parsed. A sheet whose rows omit their number (r is
    optional; Excel always writes it) is read up to the cap."""
    unknown = settings.IMPORT_MAX_ROWS + HEADER_LINES
    last = current = 0  # current: the row open at the end of the blocks read so far
    tail = b""
    with archive.open(path) as part:
        while True:
            chunk = part.read(1 << 20)
            buffer = tail + chunk
            cut = buffer.rfind(b"<") if chunk else -1
            block, tail = (buffer[:cut], buffer[cut:]) if cut > 0 else (buffer, b"")
            value_at = max(block.rfind(tag) for tag in _VALUE_TAGS)
            if value_at >= 0:
                row_at = block.rfind(b"<row ", 0, value_at)
                last = current if row_at < 0 else _row_number(block, row_at)
            if (row_at := block.rfind(b"<row ")) >= 0:
                current = _row_number(block, row_at)
            if last is None or current is None:
                return unknown
            if not chunk:
                return last


def _row_number(block: bytes, at: int) -> int | None:
    number = _ROW_NUMBER.match(block, at + 4, block.find(b">", at) if block.find(b">", at) > 0 else len(block))
    return int(number.group(1)) if number else None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time.min else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\x00", "").strip()  # an "_x0000_" escape in a cell: PostgreSQL stores no NUL


_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_decimal(text: str) -> Decimal:
    """'1.234,56', '1,234.56', '1234,5', '1 234,56', '-3', '12.5' → Decimal.

    With both a comma and a point, the last one is the decimal mark. With only one kind: once,
    it is the decimal mark (amounts in these files are written 12,50 or 12.50); several times,
    thousands. Spaces and apostrophes group thousands.
    """
    raw = _SPACES.sub("", text or "")
    if not raw:
        raise ValueError(_("is empty"))
    if "," in raw and "." in raw:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        raw = raw.replace(thousands, "").replace(decimal_mark, ".")
    elif raw.count(",") == 1:
        raw = raw.replace(",", ".")
    elif raw.count(",") > 1:
        raw = raw.replace(",", "")
    elif raw.count(".") > 1:
        raw = raw.replace(".", "")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", raw):
        raise ValueError(_("“%(value)s” is not a number") % {"value": text})
    try:
        return Decimal(raw)
    except InvalidOperation as error:
        raise ValueError(_("“%(value)s” is not a number") % {"value": text}) from error


# (pattern, order of the year, month and day groups); None: a date and time.
_DATE_FORMATS = [
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), (1, 2, 3)),
    (re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})"), (4, 3, 1)),
    (re.compile(r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2})?"), None),
]


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY (also with - or .), day first as in Europe and Brazil."""
    value = (text or "").strip()
    for pattern, groups in _DATE_FORMATS:
        match = pattern.fullmatch(value)
        if match:
            try:
                if groups is None:
                    return dt.datetime.fromisoformat(value.replace(" ", "T")).date()
                year, month, day = (int(match.group(index)) for index in groups)
                return dt.date(year, month, day)
            except ValueError:
                break
    raise ValueError(_("“%(value)s” is not a date (use YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)") % {"value": text})


# Header names people write, folded (accents and case removed, punctuation as spaces).
HEADER_NAMES: dict[str, list[str]] = {
    "client_ref": ["client ref", "client reference", "customer id", "customer code", "ref", "reference", "referencia",
                   "referencia cliente", "codigo", "codigo cliente", "cod cliente", "id cliente", "n cliente",
                   "numero cliente", "codigo do cliente", "referencia do cliente"],
    "first_name": ["first name", "name", "nombre", "nome", "primeiro nome"],
    "last_name": ["last name", "surname", "apellidos", "apellido", "sobrenome", "apelido", "apelidos"],
    "company_name": ["company", "company name", "empresa", "razon social", "nombre comercial", "razao social", "companhia"],
    "email": ["email", "e mail", "correo", "correo electronico", "mail"],
    "phone": ["phone", "telephone", "mobile", "telefono", "movil", "telefone", "celular", "telemovel", "tel"],
    "tax_id": ["tax id", "vat", "vat number", "nif", "cif", "nif cif", "dni", "nie", "cpf", "cnpj", "nipc", "rut", "rfc"],
    "city": ["city", "town", "ciudad", "localidad", "poblacion", "municipio", "cidade", "localidade"],
    "region": ["region", "state", "province", "provincia", "comunidad", "estado", "distrito"],
    "postal_code": ["postal code", "zip", "zip code", "postcode", "codigo postal", "cp", "cep", "codigo postal cp"],
    "address": ["address", "street", "direccion", "domicilio", "morada", "endereco"],
    "country": ["country", "pais"],
    "sector": ["sector", "industry", "actividad", "setor", "ramo"],
    "date": ["date", "purchase date", "order date", "fecha", "fecha compra", "fecha de compra", "data", "data da compra",
             "data de compra"],
    "amount": ["amount", "total", "value", "importe", "importe total", "monto", "valor", "total eur", "importe eur",
               "valor total"],
    "quantity": ["quantity", "qty", "units", "cantidad", "unidades", "quantidade", "qtd"],
    "product": ["product", "item", "article", "producto", "articulo", "produto", "artigo"],
    "currency": ["currency", "moneda", "moeda", "divisa", "currency code", "codigo moneda", "ccy"],
    "exchange_rate": ["exchange rate", "rate", "fx rate", "tipo de cambio", "tasa de cambio", "cambio", "taxa de cambio",
                      "cotizacion", "cotacao"],
}
_LOOKUP = {name: canonical for canonical, names in HEADER_NAMES.items() for name in names}
_PUNCTUATION = re.compile(r"[^a-z0-9]+")


def normalise_header(header: str) -> str:
    return _PUNCTUATION.sub(" ", fold(header)).strip()


def map_headers(headers: list[str], fields: list[str]) -> dict[str, int]:
    """{field: column index} for the `fields` recognised in `headers` (first match wins)."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = normalise_header(header)
        canonical = name.replace(" ", "_") if name.replace(" ", "_") in fields else _LOOKUP.get(name)
        if canonical in fields and canonical not in mapping:
            mapping[canonical] = index
    return mapping
