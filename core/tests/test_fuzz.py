"""Issue 9, "Bad input": every list's filters, search and sort, and every form, fuzzed with Hypothesis.

Whatever arrives in a query string, a form or a link (any unicode, NUL, huge or negative
numbers, dates out of range, repeated keys, unknown keys, junk files), the answer is a normal
page: 200 (with the form's errors), 302, 400 or 404, never a 500. Where a form comes back with
its errors, nothing was written. The exact inputs that once gave a 500 are plain regression
tests at the end of this module.

Each test builds its data once (function-scoped fixtures) and runs its examples against it;
the database is rolled back after the test, as for any other.
"""

import datetime as dt
import os
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.forms import ConsentForm
from campaigns.models import Campaign, ConsentChange, ConsentSource, Purpose, SurveyAnswer
from campaigns.tokens import survey_token, unsubscribe_token
from clients.models import (
    Alert,
    Client,
    FollowUp,
    FrequencyClass,
    Interaction,
    Purchase,
    RfmSegment,
    Status,
    VolumeTier,
)
from clients.tables import ClientTable
from clients.tests.factories import CategoryFactory, ClientFactory, FollowUpFactory, ProductFactory, PurchaseFactory
from imports.models import ImportJob
from segmentation.models import LifecycleSettings, Segment
from segmentation.segments import segment_create

pytestmark = pytest.mark.django_db


def fuzz(examples: int):
    """Hypothesis settings for a test that drives Django's test client with function-scoped fixtures."""
    return settings(
        max_examples=examples, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- Strategies -------------------------------------------------------------------------------

# Any unicode but lone surrogates (which no HTTP client can encode): NUL, controls, RTL marks, emoji…
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=5), st.integers(), st.integers(min_value=-(2**80), max_value=2**80),
).map(str)
ODD = st.sampled_from([
    "", " ", "\x00", "a\x00b", "0", "-1", "-0", "1e999", "NaN", "inf", "-inf", "1.5", "1,5", "0x10", "²", "٣", "１２",
    "0001-01-01", "9999-12-31", "99999-01-01", "2024-02-30", "-0001-01-01", "1970-01-01T00:00", "31/12/2024", "20241231",
    "1" * 400, "%", "%00", "'; DROP TABLE clients_client; --", "<script>alert(1)</script>", "../../etc/passwd",
    "{{ 7|add:1 }}", "\u202e", "😀", "ß", "İ", "\ufeff",
])
DATES = st.dates().map(dt.date.isoformat)
TIMES = st.one_of(st.times().map(lambda t: t.isoformat(timespec="minutes")), st.sampled_from(["24:00", "12:60", "-1:00"]))
VALUE = st.one_of(TEXT, NUMBERS, ODD, DATES, st.floats().map(str))


def value_or(*valid) -> st.SearchStrategy[str]:
    """A valid value (half the time) or any junk."""
    valid = [str(v) for v in valid]
    return st.one_of(st.sampled_from(valid), VALUE) if valid else VALUE


def params(fields: dict[str, st.SearchStrategy[str]], *, multi: bool = True) -> st.SearchStrategy[dict]:
    """Query or form data: any subset of the known fields, each possibly repeated, plus random keys."""
    known = st.fixed_dictionaries({}, optional={
        name: st.lists(strategy, min_size=1, max_size=3) if multi else strategy for name, strategy in fields.items()
    })
    extra = st.dictionaries(TEXT.filter(bool), VALUE, max_size=2)
    return st.builds(lambda k, e: {**e, **k}, known, extra)


def junk_path_segment() -> st.SearchStrategy[str]:
    """A URL path segment: quoted, so slashes and NUL reach the view (or the resolver) as they are."""
    return st.one_of(TEXT, ODD).filter(bool).map(lambda text: quote(text, safe=""))


def ok(response, *allowed: int) -> None:
    allowed = allowed or (200, 302, 400, 404)
    assert response.status_code in allowed, (response.status_code, getattr(response, "content", b"")[:500])
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # an export fails while streaming, not before


# --- Data -------------------------------------------------------------------------------------

@pytest.fixture
def world(owner, teammate, manager, team, admin_user):
    """A small portfolio: clients with a purchase and a follow-up, a category, a product, a segment."""
    category = CategoryFactory(name="Vinos")
    product = ProductFactory(category=category)
    clients = [ClientFactory(owner=owner, region="Galicia", sector="Hostelería") for _ in range(3)]
    clients.append(ClientFactory(owner=teammate))
    clients.append(ClientFactory(owner=owner, status=Status.LOST))
    purchase = PurchaseFactory(client=clients[0])
    followup = FollowUpFactory(client=clients[0])
    segment = segment_create(owner=owner, name="Galicia", shared=True, query=QueryDict("region=Galicia&status=active"))
    return {
        "owner": owner, "teammate": teammate, "manager": manager, "team": team, "admin": admin_user,
        "category": category, "product": product, "clients": clients, "purchase": purchase, "followup": followup,
        "segment": segment,
    }


def filter_fields(world) -> dict[str, st.SearchStrategy[str]]:
    """ClientFilter's parameters (and the table's sort and paging) with their valid values."""
    return {
        "q": value_or("Galicia", world["clients"][0].last_name, "600000001", "a b"),
        "status": value_or(*Status.values),
        "volume_tier": value_or(*VolumeTier.values),
        "frequency_class": value_or(*FrequencyClass.values),
        "rfm_segment": value_or(*RfmSegment.values),
        "alert": value_or(*Alert.values),
        "owner": value_or(world["owner"].pk, world["teammate"].pk, world["admin"].pk),
        "team": value_or(world["team"].pk),
        "city": value_or(world["clients"][0].city),
        "region": value_or("Galicia", "galicia"),
        "sector": value_or("Hostelería"),
        "interests": value_or(world["category"].pk),
        "last_purchase_after": value_or("2020-01-01"),
        "last_purchase_before": value_or("2030-01-01"),
        "last_purchase_min": VALUE,
        "last_purchase_max": VALUE,
        "temperature": value_or(*Client.Temperature.values),
        "sort": value_or(*ClientTable.base_columns, *(f"-{name}" for name in ClientTable.base_columns)),
        "page": value_or(1, 2, 0, -1, 10**30),
        "per_page": value_or(1, 25, 0, -1, 10**30),
    }


# --- Lists: filters, search, sort and paging --------------------------------------------------

@pytest.mark.parametrize("persona", ["owner", "manager", "admin"])
def test_client_list_survives_any_filter_search_sort_and_page(client, world, persona):
    client.force_login(world[persona])
    fields = filter_fields(world)

    @fuzz(35)
    @given(query=params(fields), htmx=st.booleans())
    def run(query, htmx):
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.get("/clients/", query, headers=headers)
        ok(response, 200)
        assert b'data-testid="client-table"' in response.content or b"No clients match" in response.content

    run()


def test_client_export_survives_any_filter(client, world):
    client.force_login(world["manager"])

    @fuzz(40)
    @given(query=params(filter_fields(world)), fmt=st.one_of(st.sampled_from(["csv", "xlsx"]), junk_path_segment()))
    def run(query, fmt):
        ok(client.get(f"/clients/export.{fmt}/", query), 200, 302, 404)

    run()


def test_segment_pages_survive_any_sort_page_and_format(client, world):
    client.force_login(world["owner"])
    segment = world["segment"]
    paging = {name: field for name, field in filter_fields(world).items() if name in ("sort", "page", "per_page")}

    @fuzz(40)
    @given(query=params(paging), fmt=st.one_of(st.sampled_from(["csv", "xlsx"]), junk_path_segment()))
    def run(query, fmt):
        ok(client.get("/segments/", query), 200)
        ok(client.get(f"/segments/{segment.pk}/", query), 200)
        ok(client.get(f"/segments/{segment.pk}/export.{fmt}/", query), 200, 404)

    run()


def test_segment_save_survives_any_name_and_query_and_its_segment_opens(client, world):
    client.force_login(world["manager"])
    fields = filter_fields(world)

    @fuzz(50)
    @given(name=value_or("Mi segmento", "Galicia"), query=params(fields), shared=value_or("on"))
    def run(name, query, shared):
        before = Segment.objects.count()
        encoded = QueryDict(mutable=True)
        for key, values in query.items():
            encoded.setlist(key, values if isinstance(values, list) else [values])
        response = client.post("/segments/save/", {"name": name, "query": encoded.urlencode(), "shared": shared})
        ok(response, 302)
        if response.url.startswith("/segments/"):
            segment = Segment.objects.get(pk=response.url.split("/")[2])
            ok(client.get(response.url), 200)
            ok(client.get(f"/segments/{segment.pk}/export.csv/"), 200)
            ok(client.get("/segments/"), 200)
            segment.delete()
        assert Segment.objects.count() == before

    run()


def test_agenda_survives_any_view_user_and_date(client, world):
    client.force_login(world["manager"])
    fields = {
        "view": value_or("list", "week", "month"),
        "user": value_or(world["owner"].pk, world["teammate"].pk, world["admin"].pk),
        "date": value_or("2024-02-29", "0001-01-01", "9999-12-31", "0001-01-07", "9999-12-27"),
    }

    @fuzz(60)
    @given(query=params(fields, multi=False))
    def run(query):
        ok(client.get("/agenda/", query), 200, 404)

    run()


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_dashboard_survives_any_team(client, world, persona):
    client.force_login(world[persona])

    @fuzz(20)
    @given(query=params({"team": value_or(world["team"].pk)}, multi=False))
    def run(query):
        ok(client.get("/dashboard/", query), 200, 404)

    run()


def test_campaign_preview_survives_any_search_and_client(client, world):
    owner = world["owner"]
    campaign = Campaign.objects.create(
        name="Otoño", goal=Campaign.Goal.PROMOTION, channel=Campaign.Channel.EMAIL, segment=world["segment"],
        subject="Hola", body="Hola {{ first_name }}", created_by=owner,
    )
    client.force_login(owner)

    @fuzz(30)
    @given(query=params({"q": value_or("Galicia"), "client": value_or(world["clients"][0].pk)}, multi=False))
    def run(query):
        ok(client.get(f"/campaigns/{campaign.pk}/", query), 200)

    run()


# --- Clients' forms ---------------------------------------------------------------------------

def choices(model, name: str) -> list[str]:
    return [value for value, _label in model._meta.get_field(name).choices or []]


def client_form_fields(world) -> dict[str, st.SearchStrategy[str]]:
    return {
        "first_name": value_or("Ana"), "last_name": value_or("Pérez"), "company_name": value_or("Bodegas SL"),
        "client_ref": value_or("C-1"), "tax_id": value_or("12345678Z"), "email": value_or("ana@example.com"),
        "phone": value_or("600 000 001"), "city": value_or("Vigo"), "country": value_or("es", "ES", "ESP"),
        "postal_code": value_or("36201"), "preferred_channel": value_or(*choices(Client, "preferred_channel")),
        "marital_status": value_or(*choices(Client, "marital_status")), "payment_method": value_or(*choices(Client, "payment_method")),
        "prospect_qualification": value_or(*choices(Client, "prospect_qualification")),
        "birth_date": value_or("1980-05-01", "0001-01-01", "9999-12-31"),
        "economic_level": value_or(*Client.EconomicLevel.values), "interests": value_or(world["category"].pk),
        "source": value_or(*Client.Source.values), "buys_on_own_initiative": value_or("unknown", "true", "false"),
        "temperature": value_or(*Client.Temperature.values), "notes": TEXT,
        "closed_at": value_or("2024-01-01", "9999-12-31"), "close_reason": value_or(*Client.CloseReason.values),
    }


def test_client_create_and_edit_survive_any_input(client, world):
    client.force_login(world["owner"])
    fields = client_form_fields(world)
    edited = world["clients"][1]

    @fuzz(50)
    @given(data=params(fields), edit=st.booleans())
    def run(data, edit):
        before = Client.objects.count()
        snapshot = Client.objects.filter(pk=edited.pk).values().get()
        response = client.post(f"/clients/{edited.pk}/edit/" if edit else "/clients/new/", data)
        ok(response, 200, 302)
        if response.status_code == 200:
            assert Client.objects.count() == before
            assert Client.objects.filter(pk=edited.pk).values().get() == snapshot

    run()


def purchase_fields(world) -> dict[str, st.SearchStrategy[str]]:
    return {
        "date": value_or("2024-01-01", "0001-01-01", "9999-12-31"), "amount": value_or("10.50", "-1", "99999999999999"),
        "currency": value_or("EUR", "BRL"), "payment_method": value_or(*choices(Purchase, "payment_method")),
        "channel": value_or(*choices(Purchase, "channel")),
        "notes": TEXT, "product": value_or(world["product"].pk), "quantity": value_or("1", "0.001", "0", "1e20"),
        # The lines' formset and the one-time token (clients/purchase_forms.py).
        "lines-TOTAL_FORMS": value_or("1", "2", "0", "-1", "100000"), "lines-INITIAL_FORMS": value_or("0", "1"),
        "lines-0-product": value_or(world["product"].name), "lines-0-quantity": value_or("1", "0.001", "0", "1e20", "10000000"),
        "lines-0-unit_price": value_or("1.50", "-1", "10000000000"), "lines-0-discount": value_or("0", "12.5", "100", "101"),
        "lines-0-DELETE": value_or("on"), "token": value_or("0" * 32, "x"),
    }


def test_purchase_create_and_edit_survive_any_input(client, world):
    client.force_login(world["owner"])
    buyer, purchase = world["clients"][0], world["purchase"]
    fields = purchase_fields(world)

    @fuzz(50)
    @given(data=params(fields), edit=st.booleans())
    def run(data, edit):
        before = Purchase.objects.count()
        snapshot = Purchase.objects.filter(pk=purchase.pk).values().get()
        url = f"/clients/{buyer.pk}/purchases/{purchase.pk}/edit/" if edit else f"/clients/{buyer.pk}/purchases/new/"
        response = client.post(url, data)
        ok(response, 200, 302)
        if response.status_code == 200:
            assert Purchase.objects.count() == before
            assert Purchase.objects.filter(pk=purchase.pk).values().get() == snapshot

    run()


def interaction_fields() -> dict[str, st.SearchStrategy[str]]:
    return {
        "kind": value_or(*Interaction.Kind.values), "direction": value_or("outbound", "inbound"),
        "happened_at": value_or("2024-01-01T10:00", "2024-01-01 10:00", "0001-01-01T00:00", "9999-12-31T23:59"),
        "summary": value_or("Llamada"), "outcome": value_or(*Interaction.Outcome.values),
        "awaiting_reply": value_or("on"), "needs": TEXT, "objections": TEXT, "competitor_notes": TEXT,
        "next_kind": value_or(*FollowUp.Kind.values), "next_date": value_or("2099-01-01", "9999-12-31", "0001-01-01"),
        "next_time": TIMES, "next_notes": TEXT,
    }


def test_interaction_and_followup_create_survive_any_input(client, world):
    client.force_login(world["owner"])
    buyer, followup = world["clients"][0], world["followup"]
    interaction_data = params({**interaction_fields(), "followup": value_or(followup.pk)})
    followup_data = params({
        "kind": value_or(*FollowUp.Kind.values), "due_date": value_or("2099-01-01", "9999-12-31", "0001-01-01"),
        "due_time": TIMES, "notes": TEXT,
    })

    @fuzz(50)
    @given(data=st.one_of(interaction_data.map(lambda d: ("interactions", d)), followup_data.map(lambda d: ("followups", d))),
           query=params({"followup": value_or(followup.pk)}, multi=False))
    def run(data, query):
        FollowUp.objects.filter(pk=followup.pk).update(status=FollowUp.State.PENDING)
        kind, form = data
        before = (Interaction.objects.count(), FollowUp.objects.count())
        url = f"/clients/{buyer.pk}/{kind}/new/"
        ok(client.get(url, query), 200, 404)
        response = client.post(url, form)
        ok(response, 200, 302, 404)
        if response.status_code != 302:
            assert (Interaction.objects.count(), FollowUp.objects.count()) == before

    run()


def test_followup_complete_on_the_agenda_survives_any_input(client, world):
    client.force_login(world["owner"])
    followup = world["followup"]
    prefix = f"followup-{followup.pk}-"
    fields = {prefix + name: strategy for name, strategy in interaction_fields().items()}

    @fuzz(40)
    @given(data=params(fields), htmx=st.booleans())
    def run(data, htmx):
        FollowUp.objects.filter(pk=followup.pk).update(status=FollowUp.State.PENDING)
        before = Interaction.objects.count()
        response = client.post(f"/agenda/followups/{followup.pk}/complete/", data, headers={"HX-Request": "true"} if htmx else {})
        ok(response, 200, 302)
        if b'data-testid="done"' not in response.content:  # the form again (htmx) or a redirect (without)
            assert Interaction.objects.count() == before

    run()


def test_reassign_survives_any_input(client, world):
    client.force_login(world["manager"])
    ids = [c.pk for c in world["clients"]]
    fields = {
        "clients": value_or(*ids), "new_owner": value_or(world["owner"].pk, world["teammate"].pk, world["admin"].pk),
        "next": value_or("/clients/?status=active", "https://evil.example/", "//evil.example", "javascript:alert(1)"),
    }

    @fuzz(40)
    @given(data=params(fields))
    def run(data):
        response = client.post("/clients/reassign/", data)
        ok(response, 302)
        assert not response.url.startswith(("http", "//", "javascript")), response.url

    run()


def test_calendar_feed_survives_any_token_and_action(client, world):
    owner = world["owner"]
    client.force_login(owner)
    client.post("/agenda/calendar/", {"action": "rotate"})
    owner.refresh_from_db()

    @fuzz(40)
    @given(token=st.one_of(junk_path_segment(), st.just(owner.calendar_token)), action=value_or("bogus"))
    def run(token, action):
        ok(client.get(f"/calendar/{token}.ics"), 200, 404)
        ok(client.post("/agenda/calendar/", {"action": action}), 302)

    run()


# --- Segmentation's settings ------------------------------------------------------------------

def test_lifecycle_settings_survive_any_input(client, world):
    client.force_login(world["admin"])
    current = LifecycleSettings.current()
    names = [
        "alta_window_days", "dormido_after_days", "baja_after_days", "tier_very_high", "tier_high", "tier_medium",
        "frequent_max_days", "habitual_max_days", "valuable_dormant_days", "renewal_notice_days", "due_soon_days",
        "awaiting_limit_days", "contact_cadence_days", "reactivation_due_days", "renewal_call_days",
        "welcome_after_days", "nightly_hour",
    ]
    fields = {name: value_or(getattr(current, name)) for name in names}
    fields |= {name: value_or("on") for name in (
        "valuable_dormant_enabled", "auto_reactivation_enabled", "auto_renewal_enabled", "auto_welcome_enabled",
        "morning_summary_enabled",
    )}
    fields["save"] = value_or("1")

    @fuzz(40)
    @given(data=params(fields, multi=False))
    def run(data):
        snapshot = LifecycleSettings.objects.values().get(pk=current.pk)
        response = client.post("/settings/lifecycle/", data)
        ok(response, 200, 302)
        if response.status_code == 200:
            assert LifecycleSettings.objects.values().get(pk=current.pk) == snapshot
        else:
            LifecycleSettings.objects.filter(pk=current.pk).update(**{k: v for k, v in snapshot.items() if k != "id"})

    run()


# --- Imports ----------------------------------------------------------------------------------

CSV_CELLS = st.one_of(TEXT, ODD, NUMBERS, DATES)
CSV_FILES = st.builds(
    lambda header, rows, sep: "\n".join(sep.join(row) for row in [header, *rows]).encode(),
    st.lists(st.one_of(st.sampled_from(["nombre", "apellidos", "email", "telefono", "fecha", "importe", "referencia", "nif"]), CSV_CELLS), min_size=1, max_size=5),
    st.lists(st.lists(CSV_CELLS, max_size=6), max_size=5),
    st.sampled_from([",", ";", "\t"]),
)


def test_import_upload_survives_any_file_and_kind(client, world):
    client.force_login(world["owner"])

    @fuzz(50)
    @given(
        kind=value_or("clients", "purchases"),
        data=st.one_of(CSV_FILES, st.binary(max_size=300), st.binary(max_size=64).map(lambda b: b"PK\x03\x04" + b)),
        # Names a browser can send: Django's test client refuses to build an upload named "/" or "..".
        filename=st.one_of(
            st.sampled_from(["a.csv", "a.xlsx", "a.txt", ".csv", "a"]),
            TEXT.filter(lambda name: os.path.basename(name) not in {"", ".", ".."}),
        ),
    )
    def run(kind, data, filename):
        before = ImportJob.objects.count()
        response = client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(filename, data)})
        ok(response, 200, 302)
        if response.status_code == 200:
            assert ImportJob.objects.count() == before
        else:
            ok(client.get(response.url), 200)
            ImportJob.objects.filter(pk=response.url.split("/")[2]).delete()

    run()


@pytest.mark.parametrize("kind", ["clients", "purchases"])
def test_import_preview_survives_any_mapping_and_option(client, world, kind):
    owner = world["owner"]
    client.force_login(owner)
    header = "nombre;apellidos;email;referencia" if kind == "clients" else "referencia;fecha;importe;email"
    body = "Ana;Pérez;ana@example.com;R1\nLuis;Gómez;no-email;R2\n" if kind == "clients" else "R1;2024-01-01;10,5;a@b.es\nR2;2999-01-01;x;\n"
    response = client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile("f.csv", f"{header}\n{body}".encode())})
    job = ImportJob.objects.get(pk=response.url.split("/")[2])
    from imports.services import fields_for

    names = fields_for(kind)
    fields = {f"column_{index}": value_or("", *names) for index in range(5)}
    fields |= {
        "owner": value_or(owner.pk, world["teammate"].pk, world["admin"].pk), "only_valid": value_or("on"),
        "create_missing_clients": value_or("on"), "action": value_or("confirm", "preview"),
    }
    pristine = ImportJob.objects.values("state", "mapping", "owner_id", "summary", "errors").get(pk=job.pk)

    @fuzz(40)
    @given(data=params(fields, multi=False))
    def run(data):
        ImportJob.objects.filter(pk=job.pk).update(**pristine)
        clients = Client.objects.count()
        response = client.post(f"/imports/{job.pk}/", data)
        ok(response, 200, 302)
        if response.status_code == 200:
            assert Client.objects.count() == clients
            assert ImportJob.objects.values("state", "mapping", "owner_id").get(pk=job.pk) == {
                key: pristine[key] for key in ("state", "mapping", "owner_id")
            }
        ok(client.get(response.url if response.status_code == 302 else f"/imports/{job.pk}/"), 200)
        ok(client.get(f"/imports/{job.pk}/errors.csv"), 200)

    run()


# --- Campaigns --------------------------------------------------------------------------------

def test_campaign_form_survives_any_input(client, world):
    client.force_login(world["owner"])
    fields = {
        "name": value_or("Otoño"), "goal": value_or(*Campaign.Goal.values), "channel": value_or(*Campaign.Channel.values),
        "segment": value_or(world["segment"].pk), "subject": value_or("Hola {{ first_name }}", "{{ nope }}", "{{"),
        "body": value_or("Hola {{ first_name }}", "{% if %}", "{{ salesperson }}"),
        "followup_due": value_or("2099-01-01", "0001-01-01", "9999-12-31"), "results_days": value_or(30, 0, 40000, -1),
    }

    @fuzz(50)
    @given(data=params(fields, multi=False))
    def run(data):
        before = Campaign.objects.count()
        response = client.post("/campaigns/new/", data)
        ok(response, 200, 302)
        if response.status_code == 200:
            assert Campaign.objects.count() == before
        else:
            ok(client.get(response.url), 200)

    run()


def test_consent_form_survives_any_input(client, world):
    client.force_login(world["owner"])
    record = world["clients"][0]
    fields = {
        "purpose": value_or(*Purpose.values), "granted": value_or("yes", "no"),
        "source": value_or(*ConsentSource.values), "evidence": value_or("Form 1", "x" * 300),
    }

    @fuzz(40)
    @given(data=params(fields, multi=False), pk=value_or(record.pk, world["clients"][3].pk))
    def run(data, pk):
        before = ConsentChange.objects.count()
        response = client.post(f"/campaigns/consent/{quote(pk, safe='')}/", data)
        ok(response, 302, 404)
        if not ConsentForm(data).is_valid() or response.status_code == 404:
            assert ConsentChange.objects.count() == before

    run()


def test_public_pages_survive_any_token(client, world):
    record = world["clients"][0]
    good = unsubscribe_token(record.pk, Purpose.PROMOTIONS, None)
    tokens = st.one_of(
        junk_path_segment(), st.just(good), TEXT.map(lambda t: quote(good[:-3] + t, safe="")),
        st.builds(lambda a, b, c: unsubscribe_token(a, b, c), st.one_of(st.integers(), st.text(max_size=5)),
                  st.text(max_size=10), st.one_of(st.none(), st.integers())),
        st.builds(survey_token, st.one_of(st.integers(), st.text(max_size=5))),
    )

    @fuzz(50)
    @given(token=tokens, post=st.booleans(), data=params({"everything": value_or("1"), "score": value_or(*range(11))}, multi=False))
    def run(token, post, data):
        for page in ("unsubscribe", "survey"):
            url = f"/campaigns/{page}/{token}/"
            ok(client.post(url, data) if post else client.get(url), 200, 404)

    run()


def test_survey_answer_survives_any_input(client, owner, world):
    from campaigns.tests.test_campaigns import survey_campaign_sent

    _record, _campaign, recipient = survey_campaign_sent(owner, status=Status.LOST, email="lost@example.com")
    url = f"/campaigns/survey/{survey_token(recipient.pk)}/"
    fields = {
        "score": value_or(*range(11), 11, -1, 10**20), "comment": value_or("Bien", "x" * 2001),
        "leave_reason": value_or(*Client.CloseReason.values),
    }

    @fuzz(40)
    @given(data=params(fields))
    def run(data):
        SurveyAnswer.objects.filter(recipient=recipient).delete()
        response = client.post(url, data)
        ok(response, 200)
        if b"is-invalid" in response.content or b"errorlist" in response.content:
            assert not SurveyAnswer.objects.filter(recipient=recipient).exists()

    run()


# --- Core -------------------------------------------------------------------------------------

def test_language_switch_and_login_survive_any_input(client, world):
    @fuzz(30)
    @given(
        lang=params({"language": value_or("es", "pt-br", "en"), "next": value_or("/clients/", "https://evil.example/")}, multi=False),
        login=params({"username": value_or("comercial"), "password": value_or("s3cret-pass-123")}, multi=False),
    )
    def run(lang, login):
        client.logout()
        ok(client.post("/accounts/login/", login), 200, 302, 400, 429)  # 429: django-axes locked the attempts out
        ok(client.post("/i18n/setlang/", lang), 200, 302, 400)

    run()


# --- Regression tests: the exact inputs that once gave a 500 ----------------------------------

@pytest.mark.parametrize("query", [
    {"per_page": "-2"}, {"per_page": "0"}, {"per_page": str(10**30)}, {"page": str(10**30)}, {"page": "-1", "per_page": "-1"},
])
def test_any_page_size_and_number_give_the_list_and_the_segment(client, world, query):
    client.force_login(world["owner"])
    for url in ("/clients/", f"/segments/{world['segment'].pk}/"):
        response = client.get(url, query)
        assert response.status_code == 200
        assert b'data-testid="client-table"' in response.content


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-31", "9999-12-01", "9999-12-31"])
@pytest.mark.parametrize("view", ["week", "month"])
def test_the_agenda_calendar_at_the_ends_of_time_shows_today(client, world, day, view):
    client.force_login(world["owner"])
    response = client.get("/agenda/", {"view": view, "date": day})
    assert response.status_code == 200
    assert response.context["calendar"].anchor == timezone.localdate()


@pytest.mark.parametrize("next_url", ["0", "clients", "javascript:alert(1)", "//evil.example/"])
def test_reassign_with_a_bad_next_goes_back_to_the_list(client, world, next_url):
    client.force_login(world["manager"])
    response = client.post("/clients/reassign/", {"next": next_url})
    assert response.status_code == 302
    assert response.url == "/clients/"


def test_an_id_too_large_for_the_column_is_an_invalid_choice(client, world):
    client.force_login(world["manager"])
    huge = "9223372036854775808"
    response = client.get("/clients/", {"interests": huge})
    assert response.status_code == 200
    assert b'data-testid="client-table"' in response.content or b"No clients match" in response.content
    assert client.get("/clients/export.csv/", {"interests": huge}).status_code == 302
    response = client.post("/clients/reassign/", {"clients": huge, "new_owner": world["teammate"].pk})
    assert response.status_code == 302
    response = client.post("/clients/new/", {"first_name": "Ana", "country": "ES", "interests": huge})
    assert response.status_code == 200
    assert "interests" in response.context["form"].errors


def test_ids_that_are_not_numbers_are_404_not_500(client, world):
    client.force_login(world["admin"])
    assert client.get("/agenda/", {"user": "²"}).status_code == 200  # not a number: the user's own agenda
    assert client.get("/dashboard/", {"team": "²"}).status_code == 200  # not a number: every team
    client.force_login(world["owner"])
    url = f"/clients/{world['clients'][0].pk}/interactions/new/"
    assert client.get(url, {"followup": ":"}).status_code == 404
    assert client.post(url, {"followup": "²", "kind": "call", "summary": "x"}).status_code == 404
    assert client.get(url, {"followup": world["followup"].pk}).status_code == 200


# PostgreSQL refuses NUL in text ("PostgreSQL text fields cannot contain NUL (0x00) bytes", and
# "unsupported Unicode escape sequence" in jsonb): on PostgreSQL each of these was a 500.

def test_a_nul_in_a_search_finds_as_without_it(client, world):
    owner = world["owner"]
    client.force_login(owner)
    campaign = Campaign.objects.create(
        name="Otoño", goal=Campaign.Goal.PROMOTION, channel=Campaign.Channel.EMAIL, segment=world["segment"],
        subject="Hola", body="Hola", created_by=owner,
    )
    response = client.get(f"/campaigns/{campaign.pk}/", {"q": "a\x00b"})
    assert response.status_code == 200
    assert list(Client.objects.search(f"\x00{world['clients'][0].last_name}")) == list(
        Client.objects.search(world["clients"][0].last_name)
    )


def test_a_segment_name_with_a_nul_is_refused_with_a_message(client, world):
    client.force_login(world["owner"])
    before = Segment.objects.count()
    response = client.post("/segments/save/", {"name": "a\x00b", "query": "status=active"}, follow=True)
    assert response.status_code == 200
    assert Segment.objects.count() == before
    assert any("Null characters are not allowed" in str(m) or "nulo" in str(m) for m in response.context["messages"])


def test_a_calendar_token_with_a_nul_or_a_dot_is_404(client, world):
    for token in ("%00", "a%00b", "a.b", "%C3%B1"):
        assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_csv_with_a_nul_anywhere_is_refused(client, world):
    client.force_login(world["owner"])
    data = b"nombre;email\n" + b"Ana;ana@example.com\n" * 500 + b"Lu\x00is;luis@example.com\n"
    before = ImportJob.objects.count()
    response = client.post("/imports/", {"kind": "clients", "file": SimpleUploadedFile("c.csv", data)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert ImportJob.objects.count() == before


def test_an_xlsx_cell_with_a_nul_is_read_without_it():
    from imports.spreadsheets import _cell_text

    assert _cell_text("Lu\x00is ") == "Luis"


def test_a_segment_query_with_a_nul_in_a_repeated_value_is_refused(client, world):
    """The filter reads the last value of `q`; the segment stores them all: a NUL in the first one
    reached PostgreSQL's jsonb (found by the fuzzer on PostgreSQL)."""
    client.force_login(world["owner"])
    before = Segment.objects.count()
    query = QueryDict(mutable=True)
    query.setlist("q", ["\x00", "Galicia"])
    response = client.post("/segments/save/", {"name": "Mi segmento", "query": query.urlencode(), "shared": "on"}, follow=True)
    assert response.status_code == 200
    assert Segment.objects.count() == before
