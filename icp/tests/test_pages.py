"""The profile page, the probable qualification on the client page and the dashboard's card."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.tests.factories import CategoryFactory, ClientFactory
from segmentation.ideal import fit_refresh_all
from segmentation.ideal_models import Attribute, Criterion, IdealProfile
from segmentation.services import snapshots_take

pytestmark = pytest.mark.django_db
URL = reverse("icp:profile_edit")
# The most common cities, regions and sectors (icp.values): one grouped query, or one each on SQLite.
COMMON_VALUE_QUERIES = 1 if connection.vendor == "postgresql" else 3


def _post(rows, threshold="70", initial=0) -> dict:
    data = {
        "threshold": threshold, "criteria-TOTAL_FORMS": str(len(rows)), "criteria-INITIAL_FORMS": str(initial),
        "criteria-MIN_NUM_FORMS": "0", "criteria-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"criteria-{index}-{name}"] = value
    return data


@pytest.fixture
def english(client):
    client.post(reverse("set_language"), {"language": "en"})
    return client


def test_the_administrador_saves_criteria_typed_as_labels(client, admin_user, owner, english, django_capture_on_commit_callbacks):
    tools = CategoryFactory(name="Herramientas")
    vigo = ClientFactory(owner=owner, city="Vigo", economic_level="high")
    client.force_login(admin_user)
    rows = [
        {"attribute": "city", "value": " Vigo ", "weight": "3"},
        {"attribute": "economic_level", "value": "high", "weight": "1"},  # the English label, any case
        {"attribute": "interest", "value": "herramientas", "weight": "2"},
        {"attribute": "country", "value": "Spain", "weight": "2"},
        {"attribute": "", "value": "", "weight": ""},  # an extra row left empty
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _post(rows, threshold="60"))
    assert response.status_code == 302
    assert set(Criterion.objects.values_list("attribute", "value", "weight")) == {
        ("city", "Vigo", 3), ("economic_level", "high", 1), ("interest", str(tools.pk), 2), ("country", "ES", 2),
    }
    assert IdealProfile.current().threshold == 60
    vigo.refresh_from_db()
    assert vigo.icp_fit == 75  # (3 + 1 + 0 + 2) / 8
    page = client.get(URL).content.decode()
    assert 'value="Herramientas"' in page and 'value="Spain"' in page  # shown as typed, not as stored


def test_bad_rows_are_refused_with_a_message_and_nothing_is_saved(client, admin_user, english):
    Criterion.objects.create(attribute="city", value="Lugo", weight=1)
    client.force_login(admin_user)
    rows = [
        {"attribute": "economic_level", "value": "Gigantic", "weight": "2"},
        {"attribute": "city", "value": "Vigo", "weight": "11"},
        {"attribute": "sector", "value": "Salud", "weight": "2"},
        {"attribute": "sector", "value": "Salud", "weight": "3"},
    ]
    response = client.post(URL, _post(rows, threshold="101"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "“Gigantic” is not a value Cartera knows for economic level: choose one from the list." in page
    assert "Ensure this value is less than or equal to 10." in page
    assert "This criterion is listed twice" not in page  # the duplicate check waits for the rows to be valid
    assert "Ensure this value is less than or equal to 100." in page
    assert list(Criterion.objects.values_list("value", flat=True)) == ["Lugo"]
    response = client.post(URL, _post(rows[2:]))
    assert "This criterion is listed twice: keep one line with the weight you want." in response.content.decode()
    assert list(Criterion.objects.values_list("value", flat=True)) == ["Lugo"]


def test_suggestions_prefill_the_form_with_their_evidence(client, admin_user, owner, english):
    for rank in range(1, 26):
        record = ClientFactory(owner=owner, sector="Hostelería" if rank > 20 else "Otros")
        Client.objects.filter(pk=record.pk).update(
            status="active", purchase_count=3, frequency_class="habitual", spend_12m=rank * 10,
        )
    client.force_login(admin_user)
    page = client.get(URL + "?suggest=1").content.decode()
    assert 'value="Hostelería"' in page
    assert "100 % of top clients vs 20 % of all: 5.0×" in page
    assert "Saving replaces the current criteria." in page


def test_a_gerente_cannot_open_the_profile(client, manager):
    client.force_login(manager)
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("size", [2, 12])
def test_profile_page_queries_do_not_grow(client, admin_user, owner, django_assert_num_queries, size):
    for n in range(size):
        Criterion.objects.create(attribute="city", value=f"Ciudad {n}", weight=1)
        ClientFactory(owner=owner, sector=f"Sector {n}")
    client.force_login(admin_user)
    # session, user, groups; the categories (the values offered), the profile, the criteria; the
    # most common cities, regions and sectors (one grouped query on PostgreSQL, one each on
    # SQLite); the figures of the last recompute.
    with django_assert_num_queries(3 + 1 + 2 + COMMON_VALUE_QUERIES + 1):
        assert client.get(URL).status_code == 200


@pytest.mark.parametrize("size", [25, 50])
def test_suggest_page_queries_do_not_grow(client, admin_user, owner, django_assert_num_queries, size):
    for n in range(size):
        record = ClientFactory(owner=owner, sector=f"Sector {n}")
        Client.objects.filter(pk=record.pk).update(status="active", purchase_count=3, frequency_class="frequent", spend_12m=10 + n)
    client.force_login(admin_user)
    # As the page, the criteria replaced by the suggestions (5 queries: icp/tests/test_suggest.py).
    with django_assert_num_queries(3 + 1 + 1 + 5 + COMMON_VALUE_QUERIES + 1):
        assert client.get(URL + "?suggest=1").status_code == 200


def _probable(owner) -> Client:
    IdealProfile.objects.create(pk=1, threshold=70)
    Criterion.objects.create(attribute=Attribute.CITY, value="Vigo", weight=1)
    prospect = ClientFactory(owner=owner, city="Vigo")
    fit_refresh_all()
    prospect.refresh_from_db()
    return prospect


def test_a_fitting_prospect_is_suggested_and_qualified_in_one_click(client, owner, english):
    prospect = _probable(owner)
    client.force_login(owner)
    page = client.get(prospect.get_absolute_url()).content.decode()
    assert 'data-testid="icp-fit-value">100<' in page and 'data-testid="icp-probable"' in page
    response = client.post(reverse("icp:probable_accept", args=[prospect.pk]), {"version": prospect.version})
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert prospect.prospect_qualification == Client.Qualification.PROBABLE
    assert prospect.audit_entries.filter(action="update").count() == 1  # through client_update
    page = client.get(prospect.get_absolute_url()).content.decode()
    assert 'data-testid="icp-probable"' not in page


def test_a_stale_or_unfitting_suggestion_changes_nothing(client, owner, english):
    prospect = _probable(owner)
    client.force_login(owner)
    url = reverse("icp:probable_accept", args=[prospect.pk])
    response = client.post(url, {"version": prospect.version + 1}, follow=True)
    assert "Someone else saved this client meanwhile" in response.content.decode()
    Client.objects.filter(pk=prospect.pk).update(icp_fit=40)
    response = client.post(url, {"version": prospect.version}, follow=True)
    assert "no longer suggested as probable" in response.content.decode()
    prospect.refresh_from_db()
    assert prospect.prospect_qualification == ""


def test_another_portfolios_prospect_is_not_found(client, outsider, owner):
    prospect = _probable(owner)
    client.force_login(outsider)
    assert client.post(reverse("icp:probable_accept", args=[prospect.pk])).status_code == 404


def test_the_dashboard_shows_the_revenue_share_of_clients_that_fit(client, manager, owner, teammate, english):
    IdealProfile.objects.create(pk=1, threshold=70)
    Criterion.objects.create(attribute=Attribute.CITY, value="Vigo", weight=1)
    fits = ClientFactory(owner=owner, city="Vigo")
    other = ClientFactory(owner=teammate, city="Lugo")
    Client.objects.filter(pk=fits.pk).update(status="active", spend_12m=300)
    Client.objects.filter(pk=other.pk).update(status="active", spend_12m=100)
    ClientFactory(owner=teammate, city="Vigo")  # a probable prospect
    snapshots_take(as_of=timezone.localdate())  # the night's dashboard step: the fit first
    client.force_login(manager)
    page = client.get(reverse("segmentation:dashboard")).content.decode()
    assert 'data-testid="icp-revenue-share">75.0 %<' in page  # 300 of 400
    assert 'data-testid="icp-fitting">2<' in page
    assert 'data-testid="icp-probable-count">1<' in page


def test_the_client_list_shows_and_sorts_by_the_fit(client, owner, english):
    for name, fit in (("Alta", 90), ("Baja", 10), ("Media", 50)):
        record = ClientFactory(owner=owner, first_name=name, last_name="Fit")
        Client.objects.filter(pk=record.pk).update(icp_fit=fit)
    client.force_login(owner)
    page = client.get(reverse("clients:client_list") + "?sort=-icp_fit").content.decode()
    assert "ICP fit" in page
    assert page.index("Alta Fit") < page.index("Media Fit") < page.index("Baja Fit")
    page = client.get(reverse("clients:client_list") + "?sort=icp_fit").content.decode()
    assert page.index("Baja Fit") < page.index("Media Fit") < page.index("Alta Fit")


@pytest.mark.django_db
def test_the_common_values_of_a_large_table_are_counted_on_a_sample_of_its_pages(owner, monkeypatch):
    """The most common first, none in the trash; on PostgreSQL, a table of more than twice
    SAMPLE_ROWS clients (by its estimate) is sampled, a smaller one read whole."""
    from icp import values

    for city, n in (("Lugo", 3), ("Vigo", 2), ("Ourense", 1)):
        ClientFactory.create_batch(n, owner=owner, city=city, region="Galicia", sector="")
    ClientFactory(owner=owner, city="Trasheira", deleted_at=timezone.now())
    found = values.Vocabulary().common_values()
    assert found == {"city": ["Lugo", "Vigo", "Ourense"], "region": ["Galicia"], "sector": []}
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Client._meta.db_table}")  # its estimate: the 7 rows there are
    monkeypatch.setattr(values, "SAMPLE_ROWS", 1)  # 7 > 2: a sample of a seventh of the pages
    sampled = values.Vocabulary().common_values()
    assert set(sampled["city"]) <= {"Lugo", "Vigo", "Ourense"} and sampled["sector"] == []
