"""Client lists and segments as CSV or XLSX, in the user's language, safe to open in a spreadsheet.

Formula injection (OWASP "CSV Injection"): a cell typed by a person that starts with = + - @,
a tab or a carriage return would run as a formula in Excel, LibreOffice or Sheets. Such strings
get a leading single quote. Control characters are stripped first (XLSX cannot hold them and
spreadsheets skip them), so "\x01=cmd" cannot hide its "=" behind them. Numbers and dates are
never touched: a negative amount is a number. A phone column holds `Phone` values: a well-formed
number ("+34 612 345 678": a plus, digits and separators, nothing a formula could call) comes out
as it is, usable; anything else in it is neutralised like any text.

CSV choices, for the spreadsheet the user double-clicks it into:
- UTF-8 with a BOM, so that Excel reads accents right.
- The separator follows the active language's decimal separator: where the decimal mark is a
  comma (es, pt-br) Excel expects ``;`` between fields, elsewhere (en) ``,``.
- Amounts with two decimals and the language's decimal mark (``1234,50`` in es/pt-br,
  ``1234.50`` in en), no thousands grouping, so that Excel reads them as numbers.
- Dates in ISO form (YYYY-MM-DD): unambiguous in every language (03/04 is March or April
  depending on who reads it) and read as dates by every spreadsheet.
- Labels (status, classes, alert) and headers in the active language; the stored codes are in
  the ``export_clients`` management command's CSV, which is meant for machines.

Both formats read the clients once, in chunks (``iterator``), with the owner joined: a constant
number of queries and never the whole list in memory for CSV. At most EXPORT_LIMIT rows. The same
writers fill a file (``write_csv``, ``write_xlsx``) for the background exports (``exports`` app).
"""

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from io import BytesIO
from typing import IO, Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from clients.models import Client

EXPORT_LIMIT = 1_000_000
CHUNK_SIZE = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# C0 controls but tab, line feed and carriage return (kept: they are text, and tab/CR are formula
# starts), DEL and the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What spreadsheets skip before looking for a formula's first character.
LEADING_BLANKS = " \n\u00a0"
# An optional plus, then digits with the usual separators: no letter, so nothing a formula could call.
PHONE_SHAPE = re.compile(r"\+?\(?\d[\d ().\-/]*")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
XLSX_AMOUNT_FORMAT = "#,##0.00"

Value = str | int | Decimal | dt.date | None


class Phone(str):
    """A value known to be a phone number (its column), for neutralise()."""


def _label(field: str):
    """The model field's own (already translated) name as a header: one wording per figure."""
    return capfirst(Client._meta.get_field(field).verbose_name)


class _Choice:
    """A choices field's label, from a dict of its choices in one language built once per export:
    get_<field>_display() hashes lazy labels on every call, a third of the time of a large export."""

    def __init__(self, field: str):
        self.field = field
        self.choices = Client._meta.get_field(field).flatchoices

    def for_language(self, language: str) -> Callable[[Client], str]:
        with translation.override(language):
            labels = {code: str(text) for code, text in self.choices}
        field = self.field

        def label(client: Client) -> str:
            value = getattr(client, field)
            return labels[value] if value in labels else str(value or "")

        return label

    def __call__(self, client: Client) -> str:
        return self.for_language(translation.get_language())(client)


# (header, value of one client). Every value reads the row and its owner only: no query per row.
EXPORT_COLUMNS: list[tuple[Any, Callable[[Client], Value]]] = [
    (_label("client_ref"), lambda c: c.client_ref),
    (_label("first_name"), lambda c: c.first_name),
    (_label("last_name"), lambda c: c.last_name),
    (_label("company_name"), lambda c: c.company_name),
    (_label("email"), lambda c: c.email),
    (_label("phone"), lambda c: Phone(c.phone)),
    (_label("city"), lambda c: c.city),
    # The name in the user's language, as people read it (the import maps it back); codes are in
    # the export_clients command's CSV.
    (_label("country"), _Choice("country")),
    (_label("owner"), lambda c: c.owner.get_full_name() or c.owner.username),
    (_label("status"), _Choice("status")),
    (_label("alert"), _Choice("alert")),
    (_label("alert_reason"), lambda c: c.alert_text()),
    (_label("first_purchase_date"), lambda c: c.first_purchase_date),
    (_label("last_purchase_date"), lambda c: c.last_purchase_date),
    (_label("purchase_count"), lambda c: c.purchase_count),
    (_label("total_spent"), lambda c: c.total_spent),
    (_label("spend_12m"), lambda c: c.spend_12m),
    (_label("average_basket"), lambda c: c.average_basket),
    (_label("volume_tier"), _Choice("volume_tier")),
    (_label("frequency_class"), _Choice("frequency_class")),
    (_label("rfm_segment"), _Choice("rfm_segment")),
]


def neutralise(value: Value) -> Value:
    """A string that a spreadsheet would run as a formula gets a leading quote; other values pass.

    Control characters go first, so that none of them can stand before the "=" that would run.
    """
    if not isinstance(value, str):
        return value
    is_phone = isinstance(value, Phone)
    value = CONTROL_CHARACTERS.sub("", value)
    if is_phone and PHONE_SHAPE.fullmatch(value):
        return value
    if value.startswith(FORMULA_STARTS) or value.lstrip(LEADING_BLANKS).startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def export_response(queryset: QuerySet[Client], fmt: str, stem: str) -> HttpResponse | StreamingHttpResponse:
    """The download of `queryset` (already filtered by the access rule and ordered) as `fmt`.

    An unknown format is a 404, so that views can pass the URL's format straight in.
    """
    if fmt == "csv":
        return clients_csv_response(queryset, stem)
    if fmt == "xlsx":
        return clients_xlsx_response(queryset, stem)
    raise Http404("Unknown export format")


def clients_csv_response(queryset: QuerySet[Client], filename_stem: str) -> StreamingHttpResponse:
    """Streams the clients as CSV; see the module docstring for the separator, numbers and dates."""
    return rows_csv_response(client_headers(), client_rows(queryset), filename_stem)


def clients_xlsx_response(queryset: QuerySet[Client], filename_stem: str) -> HttpResponse:
    """The clients as one XLSX sheet."""
    return rows_xlsx_response(client_headers(), client_rows(queryset), filename_stem, sheet_title=CLIENTS_SHEET)


CLIENTS_SHEET = _("Clients")


def client_headers() -> list:
    return [header for header, _value in EXPORT_COLUMNS]


def client_rows(queryset: QuerySet[Client]) -> Iterator[list[Value]]:
    """Each client's row, neutralised, read in chunks; at most EXPORT_LIMIT."""
    return _rows(queryset)


def write_csv(target: IO[str], headers: list, rows: Iterator[list[Value]]) -> None:
    """The same text as the CSV download, line by line into `target` (opened with newline="")."""
    for line in _csv_lines(headers, rows, language=translation.get_language(), delimiter=csv_delimiter()):
        target.write(line)


def write_xlsx(target: IO[bytes] | str, headers: list, rows: Iterator[list[Value]], *, sheet_title) -> None:
    """The same sheet as the XLSX download, saved into `target` (a path or a binary file)."""
    _workbook(headers, rows, sheet_title=sheet_title).save(target)


def rows_response(headers: list, rows: Iterator[list[Value]], fmt: str, stem: str, *, sheet_title) -> HttpResponse:
    """Any table (`rows` already neutralised, produced lazily) as `fmt`; an unknown format is a 404."""
    if fmt == "csv":
        return rows_csv_response(headers, rows, stem)
    if fmt == "xlsx":
        return rows_xlsx_response(headers, rows, stem, sheet_title=sheet_title)
    raise Http404("Unknown export format")


def rows_csv_response(headers: list, rows: Iterator[list[Value]], filename_stem: str) -> StreamingHttpResponse:
    language = translation.get_language()
    response = StreamingHttpResponse(
        _csv_lines(headers, rows, language=language, delimiter=csv_delimiter()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = attachment(filename_stem, "csv")
    return response


def rows_xlsx_response(headers: list, rows: Iterator[list[Value]], filename_stem: str, *, sheet_title) -> HttpResponse:
    """One XLSX sheet: real dates and numbers, a bold and frozen header row.

    openpyxl's write-only mode keeps only the current row in memory while building; the finished
    file is sent in one piece, which is why a large export runs in the background instead.
    """
    buffer = BytesIO()
    _workbook(headers, rows, sheet_title=sheet_title).save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = attachment(filename_stem, "xlsx")
    return response


def _workbook(headers: list, rows: Iterator[list[Value]], *, sheet_title) -> Workbook:
    """A write-only workbook: rows go to a temporary file as they are appended, memory stays flat."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(sheet_title)[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, str(header), font=bold) for header in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    return workbook


def _rows(queryset: QuerySet[Client]) -> Iterator[list[Value]]:
    language = translation.get_language()
    getters = [value.for_language(language) if isinstance(value, _Choice) else value for _header, value in EXPORT_COLUMNS]
    clients = queryset.select_related("owner")[:EXPORT_LIMIT]
    for client in clients.iterator(chunk_size=CHUNK_SIZE):
        yield [neutralise(value(client)) for value in getters]


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(headers: list, rows: Iterator[list[Value]], *, language: str, delimiter: str) -> Iterator[str]:
    # The body is produced after the view returns: keep the request's language for its labels.
    with translation.override(language):
        writer = csv.writer(_Echo(), delimiter=delimiter, lineterminator="\r\n")
        yield "\ufeff" + writer.writerow([neutralise(str(header)) for header in headers])
        decimal_separator = formats.get_format("DECIMAL_SEPARATOR", use_l10n=True)
        for row in rows:
            yield writer.writerow([_csv_text(value, decimal_separator) for value in row])


def _csv_text(value: Value, decimal_separator: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Two decimals, the language's mark, no grouping: what formats.number_format gives, without
        # its per-call lookups (a million rows hold three million amounts).
        return f"{value:.2f}".replace(".", decimal_separator)
    return str(value)


def _xlsx_cell(sheet, value: Value, *, font: Font | None = None) -> Any:
    """A styled cell for a header, a date or an amount; any other value as it is, which openpyxl
    writes through one reused cell (a cell object per value doubles the time of a large sheet)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    elif isinstance(value, Decimal):
        value = float(value)  # Excel numbers are doubles; the cell format shows two decimals
    if font is None and not isinstance(value, dt.date | float):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    if isinstance(value, dt.date):
        cell.number_format = XLSX_DATE_FORMAT
    elif isinstance(value, float):
        cell.number_format = XLSX_AMOUNT_FORMAT
    return cell


def csv_delimiter() -> str:
    """`;` where the decimal mark is a comma (es, pt-BR: what their spreadsheets expect), else `,`."""
    return ";" if formats.get_format("DECIMAL_SEPARATOR", use_l10n=True) == "," else ","


def attachment(stem: str, extension: str) -> str:
    """The Content-Disposition of every download: the stem, today's date, the extension."""
    return f'attachment; filename="{stem}-{timezone.localdate().isoformat()}.{extension}"'
