"""Client list exports: the list's filters and access rule, the user's language, no formulas."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from clients.exports import Phone, neutralise
from clients.models import Status
from clients.tests.factories import ClientFactory


def export_url(fmt: str, query: str = "") -> str:
    return reverse("clients:client_list_export", args=[fmt]) + (f"?{query}" if query else "")


def csv_rows(response, delimiter: str) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=delimiter))


def xlsx_rows(response) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return list(workbook.active.iter_rows(values_only=True))


def use_language(client, language: str) -> None:
    client.post("/i18n/setlang/", {"language": language, "next": "/clients/"})


def test_neutralise_quotes_formula_starts_but_keeps_numbers_and_dates():
    for text in ("=1+1", "+34 600", "-2", "-2+3", "@SUM(1)", "\tx", "\rx", "\t=1", " =1", "\n@SUM(A1)"):
        assert neutralise(text) == f"'{text}"
    assert neutralise("Ana") == "Ana"
    assert neutralise(Decimal("-5.00")) == Decimal("-5.00")
    assert neutralise(-3) == -3
    assert neutralise(dt.date(2025, 1, 2)) == dt.date(2025, 1, 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\x01=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),  # the control character first, then the check
        ("\x00\x1f@SUM(1)", "'@SUM(1)"),
        ("\x7f\x85+1", "'+1"),
        ("\x02-2+3", "'-2+3"),
        ("Ana\x0bMaría", "AnaMaría"),
    ],
)
def test_control_characters_are_stripped_before_neutralising(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize("phone", ["+34 612 345 678", "+34612345678", "612 34 56 78", "+55 (11) 91234-5678", "(011) 4567-8901"])
def test_a_phone_comes_out_usable(phone):
    assert neutralise(Phone(phone)) == phone


@pytest.mark.parametrize("text", ["=1+1", "+34 600 =1", "-2+3", "@SUM(1)", "\t612", "+1-800-FLOWERS", "\x01=1"])
def test_a_phone_column_still_neutralises_what_is_not_a_phone(text):
    assert neutralise(Phone(text)).startswith("'")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "delimiter", "headers", "amount"),
    [
        ("es", ";", ["Referencia externa", "Nombre", "Apellidos", "Estado", "Gasto 12 meses"], "1234,50"),
        ("en", ",", ["External reference", "First name", "Last name", "Status", "12-month spend"], "1234.50"),
    ],
)
def test_csv_speaks_the_users_language(client, owner, language, delimiter, headers, amount):
    ClientFactory(owner=owner, last_name="Pérez", status=Status.ACTIVE, spend_12m=Decimal("1234.50"),
                  last_purchase_date=dt.date(2025, 3, 4))
    client.force_login(owner)
    use_language(client, language)
    response = client.get(export_url("csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    header, row = csv_rows(response, delimiter)
    for title in headers:
        assert title in header
    record = dict(zip(header, row, strict=True))
    assert record[headers[2]] == "Pérez"
    assert record[headers[3]] == {"es": "Activo", "en": "Active"}[language]
    assert record[headers[4]] == amount
    assert "2025-03-04" in row  # ISO dates in every language


@pytest.mark.django_db
def test_the_lists_filters_apply(client, owner):
    ClientFactory(owner=owner, last_name="Dormido", status=Status.DORMANT)
    ClientFactory(owner=owner, last_name="Activo", status=Status.ACTIVE)
    client.force_login(owner)
    rows = csv_rows(client.get(export_url("csv", "status=dormant")), ";")
    assert [row[2] for row in rows[1:]] == ["Dormido"]
    rows = xlsx_rows(client.get(export_url("xlsx", "status=dormant")))
    assert [row[2] for row in rows[1:]] == ["Dormido"]


@pytest.mark.django_db
def test_the_lists_sort_applies(client, owner):
    # The list sorts by the name shown (first name first), as the export does.
    ClientFactory(owner=owner, first_name="Ana", last_name="Zamora", spend_12m=Decimal("99"))
    ClientFactory(owner=owner, first_name="Zoe", last_name="Alba", spend_12m=Decimal("10"))
    client.force_login(owner)
    rows = csv_rows(client.get(export_url("csv")), ";")
    assert [row[2] for row in rows[1:]] == ["Zamora", "Alba"]
    rows = csv_rows(client.get(export_url("csv", "sort=spend_12m")), ";")
    assert [row[2] for row in rows[1:]] == ["Alba", "Zamora"]


@pytest.mark.django_db
def test_invalid_filters_export_nothing_and_go_back_to_the_list(client, owner):
    ClientFactory(owner=owner)
    client.force_login(owner)
    response = client.get(export_url("csv", "status=nonsense"))
    assert response.status_code == 302
    assert response["Location"] == "/clients/?status=nonsense"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_another_portfolios_clients_never_appear(client, owner, outsider, fmt):
    ClientFactory(owner=owner, last_name="Propio")
    ClientFactory(owner=outsider, last_name="Ajeno")
    for user, seen, unseen in ((owner, "Propio", "Ajeno"), (outsider, "Ajeno", "Propio")):
        client.force_login(user)
        response = client.get(export_url(fmt))
        if fmt == "csv":
            names = [row[2] for row in csv_rows(response, ";")[1:]]
        else:
            names = [row[2] for row in xlsx_rows(response)[1:]]
        assert names == [seen], unseen


@pytest.mark.django_db
def test_formulas_are_neutralised_in_csv_and_xlsx(client, owner):
    ClientFactory(
        owner=owner, first_name='=HYPERLINK("http://x")', last_name="@SUM(1)", phone="+34 612 345 678",
        total_spent=Decimal("1500.25"), last_purchase_date=dt.date(2025, 3, 4),
    )
    client.force_login(owner)
    header, row = csv_rows(client.get(export_url("csv")), ";")
    assert row[1:3] == ["'=HYPERLINK(\"http://x\")", "'@SUM(1)"]
    assert row[5] == "+34 612 345 678"  # a phone, usable as it is

    response = client.get(export_url("xlsx"))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    titles = [cell.value for cell in sheet[1]]
    values = dict(zip(titles, [cell.value for cell in sheet[2]], strict=True))
    assert values["Nombre"] == "'=HYPERLINK(\"http://x\")"
    assert values["Apellidos"] == "'@SUM(1)"
    assert values["Teléfono"] == "+34 612 345 678"
    assert values["País"] == "España"
    assert sheet[2][1].data_type == "s"  # text, not a formula
    assert values["Gasto total"] == pytest.approx(1500.25)
    assert isinstance(values["Gasto total"], float)
    assert isinstance(values["Compras"], int)
    assert values["Última compra"] == dt.datetime(2025, 3, 4)  # a real date (openpyxl reads datetimes)
    assert values["Primera compra"] is None


@pytest.mark.django_db
def test_unknown_format_is_404(client, owner):
    client.force_login(owner)
    assert client.get(export_url("pdf")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_anonymous_is_sent_to_login(client, fmt):
    response = client.get(export_url(fmt))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_list_page_links_to_the_exports_with_its_filters(client, owner):
    client.force_login(owner)
    content = client.get("/clients/?status=dormant").content.decode()
    assert 'data-testid="export-csv"' in content
    assert f'href="{export_url("csv", "status=dormant")}"' in content
    assert f'href="{export_url("xlsx", "status=dormant")}"' in content


# session, user, the user's groups; the clients shared with the user (access rule); the count
# that stops at EXPORT_BACKGROUND_ROWS (small: immediate); the clients.
EXPORT_QUERIES = 6


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_queries_do_not_grow_with_rows(client, django_assert_num_queries, owner, size, fmt):
    for _index in range(size):
        ClientFactory(owner=owner, alert="red", alert_reason="followup_overdue", alert_value="3")
    client.force_login(owner)
    with django_assert_num_queries(EXPORT_QUERIES):
        response = client.get(export_url(fmt))
        body = b"".join(response.streaming_content) if fmt == "csv" else response.content
    assert body.count(b"\n") >= size if fmt == "csv" else body.startswith(b"PK")
