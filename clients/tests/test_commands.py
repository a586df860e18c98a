import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.tests.factories import ClientFactory, PurchaseFactory

TODAY = timezone.localdate()


def export(tmp_path) -> list[dict]:
    target = tmp_path / "clients.csv"
    call_command("export_clients", "--output", str(target), stderr=io.StringIO())
    with open(target, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_export_writes_codes_iso_dates_and_dot_decimals(tmp_path, owner):
    client = ClientFactory(
        owner=owner, first_name="Íñigo", last_name="Muñoz", company_name="", client_ref="C-1", email="inigo@example.es",
    )
    PurchaseFactory(client=client, date=TODAY - dt.timedelta(days=100), amount=Decimal("1234.50"))
    PurchaseFactory(client=client, date=TODAY - dt.timedelta(days=40), amount=Decimal("10.00"))
    call_command("recompute_lifecycle", stdout=io.StringIO())

    rows = export(tmp_path)

    assert rows == [{
        "client_ref": "C-1", "first_name": "Íñigo", "last_name": "Muñoz", "company_name": "", "email": "inigo@example.es",
        "owner": "comercial", "status": "active",
        "first_purchase_date": (TODAY - dt.timedelta(days=100)).isoformat(),
        "last_purchase_date": (TODAY - dt.timedelta(days=40)).isoformat(), "days_since_last_purchase": "40",
        "purchase_count": "2", "total_spent": "1244.50", "spend_12m": "1244.50", "average_basket": "622.25",
        "volume_tier": "medium", "frequency_class": "habitual", "rfm_segment": "lost", "alert": "",  # a lone buyer is R1 F1
    }]


def test_export_header_and_prospects(tmp_path, owner):
    ClientFactory(owner=owner, client_ref="")

    target = tmp_path / "clients.csv"
    call_command("export_clients", "--output", str(target), stderr=io.StringIO())

    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        "client_ref,first_name,last_name,company_name,email,owner,status,first_purchase_date,last_purchase_date,"
        "days_since_last_purchase,purchase_count,total_spent,spend_12m,average_basket,volume_tier,frequency_class,"
        "rfm_segment,alert"
    )
    row = export(tmp_path)[0]
    assert (row["status"], row["last_purchase_date"], row["days_since_last_purchase"], row["total_spent"]) == (
        "prospect", "", "", "0.00",
    )


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+34 600", "-1", "@SUM(A1)", "\tTab", "\rCR"])
def test_export_defuses_spreadsheet_formulas_in_typed_text(tmp_path, owner, dangerous):
    ClientFactory(owner=owner, company_name=dangerous, client_ref=dangerous[:10])

    row = export(tmp_path)[0]

    assert row["company_name"] == "'" + dangerous
    assert row["client_ref"] == "'" + dangerous[:10]


def test_export_to_standard_output(owner):
    ClientFactory(owner=owner, last_name="Pérez")
    out = io.StringIO()

    call_command("export_clients", stdout=out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["last_name"] for row in rows] == ["Pérez"]


@pytest.mark.parametrize("size", [1, 12])
def test_export_streams_with_one_query_whatever_the_size(tmp_path, owner, teammate, django_assert_num_queries, size):
    for index in range(size):
        ClientFactory(owner=owner if index % 2 else teammate)

    # One query: the clients with their owners joined, read by the iterator in chunks.
    with django_assert_num_queries(1):
        rows = export(tmp_path)

    assert len(rows) == size
