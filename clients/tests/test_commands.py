import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.records import client_trash

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
        "evaluated_on": TODAY.isoformat(),
    }]


def test_export_leaves_out_the_trash(tmp_path, owner):
    ClientFactory(owner=owner, client_ref="KEPT")
    client_trash(by=owner, client=ClientFactory(owner=owner, client_ref="TRASHED"))
    assert [row["client_ref"] for row in export(tmp_path)] == ["KEPT"]


def test_export_header_and_prospects(tmp_path, owner):
    ClientFactory(owner=owner, client_ref="")

    target = tmp_path / "clients.csv"
    call_command("export_clients", "--output", str(target), stderr=io.StringIO())

    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        "client_ref,first_name,last_name,company_name,email,owner,status,first_purchase_date,last_purchase_date,"
        "days_since_last_purchase,purchase_count,total_spent,spend_12m,average_basket,volume_tier,frequency_class,"
        "rfm_segment,alert,evaluated_on"
    )
    row = export(tmp_path)[0]
    assert (row["status"], row["last_purchase_date"], row["days_since_last_purchase"], row["total_spent"]) == (
        "prospect", "", "", "0.00",
    )


def test_export_after_a_recompute_as_of_a_past_day_agrees_with_itself(tmp_path, owner):
    as_of = TODAY - dt.timedelta(days=300)
    client = ClientFactory(owner=owner, client_ref="C-1")
    PurchaseFactory(client=client, date=as_of - dt.timedelta(days=10), amount=Decimal("50.00"))
    call_command("recompute_lifecycle", "--as-of", as_of.isoformat(), stdout=io.StringIO())

    row = export(tmp_path)[0]  # by default, the day the last recompute evaluated the figures on

    assert (row["evaluated_on"], row["days_since_last_purchase"], row["status"]) == (as_of.isoformat(), "10", "new")


def test_export_as_of_a_given_day(tmp_path, owner):
    client = ClientFactory(owner=owner)
    PurchaseFactory(client=client, date=TODAY - dt.timedelta(days=40), amount=Decimal("10.00"))
    call_command("recompute_lifecycle", stdout=io.StringIO())
    target = tmp_path / "clients.csv"
    day = TODAY + dt.timedelta(days=5)

    call_command("export_clients", "--output", str(target), "--as-of", day.isoformat(), stderr=io.StringIO())

    row = next(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert (row["evaluated_on"], row["days_since_last_purchase"]) == (day.isoformat(), "45")


def test_export_refuses_a_bad_as_of(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_clients", "--as-of", "31/12/2026", stdout=io.StringIO())


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
def test_export_streams_with_two_queries_whatever_the_size(tmp_path, owner, teammate, django_assert_num_queries, size):
    for index in range(size):
        ClientFactory(owner=owner if index % 2 else teammate)

    # The day of the last recompute (one row), then the clients with their owners joined, read by
    # the iterator in chunks.
    with django_assert_num_queries(2):
        rows = export(tmp_path)

    assert len(rows) == size
