import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clients.models import Client, Purchase, PurchaseLine
from clients.tests.factories import ClientFactory, ProductFactory, PurchaseFactory
from segmentation.models import StatusChange

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


def write_csv(tmp_path, text: str):
    path = tmp_path / "purchases.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def import_file(path: str, *options: str) -> str:
    out = io.StringIO()
    call_command("import_purchases", path, *options, stdout=out)
    return out.getvalue()


def test_import_adds_purchases_and_recomputes_the_clients_at_once(tmp_path, owner):
    ana = ClientFactory(owner=owner, client_ref="A1")
    bea = ClientFactory(owner=owner, client_ref="B2")
    untouched = ClientFactory(owner=owner, client_ref="C3")
    ProductFactory(name="Café molido")
    old = (TODAY - dt.timedelta(days=200)).isoformat()
    recent = (TODAY - dt.timedelta(days=5)).isoformat()
    path = write_csv(
        tmp_path,
        "client_ref,date,amount,quantity,product\n"
        f"A1,{old},100.00,,\n"
        f"A1,{recent},30.00,3,Café molido\n"
        f"B2,{old},0,,\n",
    )

    out = import_file(path)

    assert "3 purchases imported for 2 clients (0 created); 2 status changes" in out
    ana.refresh_from_db()
    assert (ana.status, ana.purchase_count, ana.total_spent, ana.last_purchase_date.isoformat()) == (
        "active", 2, Decimal("130.00"), recent,
    )
    assert Client.objects.get(pk=bea.pk).status == "dormant"
    assert Client.objects.get(pk=untouched.pk).status == "prospect"
    line = PurchaseLine.objects.get()
    assert (line.product.name, line.quantity, line.unit_price, line.purchase.amount) == (
        "Café molido", Decimal("3.000"), Decimal("10.00"), Decimal("30.00"),
    )
    assert set(StatusChange.objects.values_list("client_id", "cause")) == {(ana.pk, "import"), (bea.pk, "import")}


@pytest.mark.parametrize(
    "row, message",
    [
        ("A1,2026-13-01,10", "line 3: date '2026-13-01' is not a date as YYYY-MM-DD"),
        ("A1,01/02/2026,10", "line 3: date '01/02/2026' is not a date as YYYY-MM-DD"),
        ("A1,20260101,10", "line 3: date '20260101' is not a date as YYYY-MM-DD"),
        ("A1,2026-01-01,12;50", "line 3: amount '12;50' is not a number with up to 2 decimals and a dot"),
        ('A1,2026-01-01,"12,50"', "line 3: amount '12,50' is not a number"),
        ("A1,2026-01-01,1.005", "line 3: amount '1.005' is not a number"),
        ("A1,2026-01-01,-5", "line 3: amount -5 is negative"),
        ("A1,2026-01-01,NaN", "line 3: amount 'NaN' is not a number"),
        (",2026-01-01,10", "line 3: client_ref is empty"),
        ("ZZ,2026-01-01,10", "line 3: no client with client_ref 'ZZ'"),
        ("A1,2026-01-01,10,0,Café", "line 3: quantity 0 must be positive"),
        ("A1,2026-01-01,10,2,", "line 3: quantity needs a product"),
        ("A1,2026-01-01,10,1,Té verde", "line 3: no product named 'Té verde'"),
        ("A1,2026-01-01", "line 3: expected 5 columns"),
        ("A1,2026-01-01,10,2", "line 3: quantity needs a product"),  # trailing optional cells may be left out
        ("A1,2026-01-01,10,1,Café,extra", "line 3: expected 5 columns"),
        (f"A1,{(TODAY + dt.timedelta(days=1)).isoformat()},10", "is in the future"),
    ],
)
def test_import_saves_nothing_when_a_row_is_wrong_and_says_which(tmp_path, owner, row, message):
    ClientFactory(owner=owner, client_ref="A1")
    ProductFactory(name="Café")
    path = write_csv(tmp_path, f"client_ref,date,amount,quantity,product\nA1,2026-01-02,5,,\n{row}\n")

    with pytest.raises(CommandError) as error:
        import_file(path)

    assert message in str(error.value)
    assert "Nothing imported" in str(error.value)
    assert not Purchase.objects.exists()
    assert not Client.objects.exclude(client_ref="A1").exists()


def test_import_reports_every_bad_row(tmp_path, owner):
    ClientFactory(owner=owner, client_ref="A1")
    path = write_csv(tmp_path, "client_ref,date,amount\nA1,bad,1\nA1,2026-01-01,x\nA1,2026-01-01,1\nNO,2026-01-01,1\n")

    with pytest.raises(CommandError) as error:
        import_file(path)

    text = str(error.value)
    assert "3 error(s)" in text
    assert "line 2:" in text and "line 3:" in text and "line 5:" in text and "line 4:" not in text


def test_import_creates_missing_clients_for_the_given_owner(tmp_path, owner):
    path = write_csv(tmp_path, f"\ufeffclient_ref,date,amount\nNEW-9,{TODAY.isoformat()},99.90\n\n")

    out = import_file(path, "--create-missing-clients", "--owner", owner.username)

    client = Client.objects.get(client_ref="NEW-9")
    assert (client.owner, client.company_name, client.status, client.total_spent) == (owner, "NEW-9", "new", Decimal("99.90"))
    assert "new-9" in client.search_text
    assert "(1 created)" in out
    assert StatusChange.objects.get(client=client).to_status == "new"


def test_import_needs_an_owner_to_create_clients(tmp_path, db):
    path = write_csv(tmp_path, "client_ref,date,amount\nX,2026-01-01,1\n")

    with pytest.raises(CommandError, match="--owner"):
        import_file(path, "--create-missing-clients")
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        import_file(path, "--create-missing-clients", "--owner", "nobody")


@pytest.mark.parametrize(
    "header, message",
    [("client,date,amount", "missing: client_ref"), ("client_ref,date,amount,price", "unknown: price"), ("", "missing")],
)
def test_import_rejects_a_wrong_header(tmp_path, db, header, message):
    path = write_csv(tmp_path, f"{header}\n")

    with pytest.raises(CommandError, match=message):
        import_file(path)


def test_import_rejects_a_missing_file_and_other_encodings(tmp_path, db):
    with pytest.raises(CommandError, match="No such file"):
        import_file(str(tmp_path / "nope.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("client_ref,date,amount\nMuñoz,2026-01-01,1\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        import_file(str(latin))


def test_import_of_an_empty_file_imports_nothing(tmp_path, db):
    assert "nothing imported" in import_file(write_csv(tmp_path, "client_ref,date,amount\n"))


def test_import_rolls_everything_back_when_the_recompute_fails(tmp_path, owner, monkeypatch):
    ClientFactory(owner=owner, client_ref="A1")
    path = write_csv(tmp_path, f"client_ref,date,amount\nA1,{TODAY.isoformat()},10\nNEW,{TODAY.isoformat()},5\n")

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("segmentation.services.lifecycle_recompute_clients", broken)

    with pytest.raises(RuntimeError):
        import_file(path, "--create-missing-clients", "--owner", owner.username)

    assert not Purchase.objects.exists()
    assert not Client.objects.filter(client_ref="NEW").exists()
