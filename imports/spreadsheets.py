"""Reading the files people really have: CSV or XLSX, any of the usual encodings and separators.

`read_table` turns an uploaded file into a header and numbered rows of stripped text:
* XLSX (a zip starting with PK): the first sheet, values as text (dates as ISO, numbers with a dot).
* CSV: UTF-8 with or without BOM, else Windows-1252 (which also reads Latin-1 text); the
  delimiter is the one of `,` `;` tab `|` that splits the header best; quoted fields may hold
  separators and line breaks; blank lines are skipped; values are stripped.
* Anything else (a PDF renamed .csv, an image, a file with NUL bytes) is refused with a clear message.
Row numbers are the file's own line numbers (the header is line 1), as a spreadsheet shows them.

`parse_decimal` and `parse_date` read the numbers and dates of Spain, Portugal, Brazil and
English-speaking exports; `map_headers` proposes which column is which field from header names
in Spanish, Portuguese or English. Errors are ValueError with a translated message.
"""

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from clients.text import fold

MAX_BYTES = 20 * 1024 * 1024
DELIMITERS = [",", ";", "\t", "|"]


class FileRefused(ValueError):
    """The file cannot be read as a table at all (the message says why, translated)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, values)
    encoding: str = ""
    delimiter: str = ""


def read_table(data: bytes, *, filename: str = "") -> Table:
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // (1024 * 1024)})
    if not data.strip():
        raise FileRefused(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")) or b"\x00" in data:  # anywhere: PostgreSQL stores no NUL
        raise FileRefused(_("This is not a CSV or Excel (.xlsx) file."))
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = (
        # reader.line_num is where the record ends; count back its quoted line breaks.
        (reader.line_num - sum(value.count("\n") for value in values), [value.strip() for value in values])
        for values in reader
    )
    return _filled(Table(headers=[], encoding=encoding, delimiter=delimiter), records)


def _filled(table: Table, records) -> Table:
    """The first non-blank record is the header; blank records are skipped."""
    for line, values in records:
        if not any(values):
            continue
        if not table.headers:
            table.headers = values
            continue
        table.rows.append((line, values))
    if not table.headers:
        raise FileRefused(_("The file is empty."))
    return table


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _delimiter(text: str) -> str:
    """The delimiter that splits the first line (outside quotes) into the most columns."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {}
    for candidate in DELIMITERS:
        counts[candidate] = len(next(csv.reader([first], delimiter=candidate)))
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] > 1 else ","


def _read_xlsx(data: bytes) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileRefused(_("This is not a CSV or Excel (.xlsx) file.")) from error
    try:
        records = (
            (line, [_cell_text(value) for value in cells])
            for line, cells in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
        )
        return _filled(Table(headers=[], encoding="xlsx", delimiter=""), records)
    finally:
        workbook.close()


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
