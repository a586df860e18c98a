"""The fit of each client against hand-computed examples, and when it is recomputed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from clients.tests.factories import CategoryFactory, ClientFactory
from segmentation import records
from segmentation.ideal import fit_refresh_all, profile_save
from segmentation.ideal_fit import fit_recompute
from segmentation.ideal_models import Attribute, Criterion, FitSummary, IdealProfile, Kind

pytestmark = pytest.mark.django_db


def _criteria(*rows) -> None:
    IdealProfile.objects.create(pk=1, threshold=70)
    Criterion.objects.bulk_create([Criterion(attribute=a, value=v, weight=w) for a, v, w in rows])


def _fit(client: Client) -> int | None:
    client.refresh_from_db(fields=["icp_fit"])
    return client.icp_fit


def test_fit_is_the_weighted_share_of_the_best_matches_per_attribute(owner):
    shops, bikes = CategoryFactory(name="Tiendas"), CategoryFactory(name="Bicis")
    _criteria(
        (Attribute.SECTOR, "Comercio", 3), (Attribute.SECTOR, "Hostelería", 2),
        (Attribute.ECONOMIC_LEVEL, "high", 2), (Attribute.INTEREST, str(shops.pk), 4),
        (Attribute.INTEREST, str(bikes.pk), 1), (Attribute.KIND, Kind.COMPANY, 1), (Attribute.COUNTRY, "ES", 2),
    )
    # Best score: sector 3 + economic level 2 + interest 4 + company 1 + country 2 = 12.
    every = ClientFactory(owner=owner, sector="Comercio", economic_level="high", company_name="Acme", country="ES")
    every.interests.set([shops])
    second = ClientFactory(owner=owner, sector="Hostelería", economic_level="low", country="PT")  # 2 / 12 = 16.7
    both = ClientFactory(owner=owner, sector="Comercio", country="ES")  # 3 + max(4, 1) + 2 = 9 / 12 = 75
    both.interests.set([shops, bikes])
    bikes_only = ClientFactory(owner=owner, country="FR")  # 1 / 12 = 8.3
    bikes_only.interests.set([bikes])
    trashed = ClientFactory(owner=owner, sector="Comercio", deleted_at="2026-01-01T00:00Z")

    assert fit_recompute() == 4
    assert [_fit(c) for c in (every, second, both, bikes_only)] == [100, 17, 75, 8]
    assert _fit(trashed) is None  # the trash is left out


def test_fit_rounds_half_up(owner):
    _criteria((Attribute.SECTOR, "Salud", 1), (Attribute.CITY, "Vigo", 7))  # best 8
    eighth = ClientFactory(owner=owner, sector="Salud", city="Lugo")  # 1 / 8 = 12.5
    seven_eighths = ClientFactory(owner=owner, sector="Otro", city="Vigo")  # 7 / 8 = 87.5
    person = ClientFactory(owner=owner, sector="", city="")
    fit_recompute()
    assert (_fit(eighth), _fit(seven_eighths), _fit(person)) == (13, 88, 0)


def test_person_criterion_matches_clients_without_a_company_name(owner):
    _criteria((Attribute.KIND, Kind.PERSON, 2), (Attribute.CHANNEL, "whatsapp", 2))
    person = ClientFactory(owner=owner, preferred_channel="whatsapp")
    company = ClientFactory(owner=owner, company_name="Acme SL", preferred_channel="whatsapp")
    fit_recompute()
    assert (_fit(person), _fit(company)) == (100, 50)


def test_only_the_rows_whose_fit_changes_are_written(owner):
    _criteria((Attribute.CITY, "Vigo", 1))
    vigo, lugo = ClientFactory(owner=owner, city="Vigo"), ClientFactory(owner=owner, city="Lugo")
    assert fit_recompute() == 2
    assert fit_recompute() == 0  # a second run changes nothing
    Client.objects.filter(pk=lugo.pk).update(city="Vigo")
    assert fit_recompute() == 1
    assert (_fit(vigo), _fit(lugo)) == (100, 100)


def test_no_criteria_leaves_every_fit_empty(owner):
    client = ClientFactory(owner=owner, city="Vigo")
    Client.objects.filter(pk=client.pk).update(icp_fit=40)
    assert fit_recompute() == 1
    assert _fit(client) is None
    assert fit_recompute() == 0


def test_creating_and_editing_a_client_refreshes_its_fit(owner):
    _criteria((Attribute.SECTOR, "Salud", 1), (Attribute.ECONOMIC_LEVEL, "high", 1))
    client = records.client_create(by=owner, data={"first_name": "Ana", "sector": "Salud"})
    assert _fit(client) == 50
    client = records.client_update(by=owner, client=client, data={"economic_level": "high"})
    assert _fit(client) == 100
    records.client_update(by=owner, client=client, data={"sector": "Otro"})
    assert _fit(client) == 50


def test_an_edit_of_a_field_no_criterion_reads_runs_no_fit_query(owner):
    _criteria((Attribute.SECTOR, "Salud", 1))
    client = records.client_create(by=owner, data={"first_name": "Ana", "sector": "Salud"})
    with CaptureQueriesContext(connection) as counted:
        records.client_update(by=owner, client=client, data={"notes": "Llamar en marzo"})
    assert not any("segmentation_criterion" in query["sql"] for query in counted.captured_queries)
    with CaptureQueriesContext(connection) as counted:
        records.client_update(by=owner, client=client, data={"city": "Vigo"})
    assert sum("segmentation_criterion" in query["sql"] for query in counted.captured_queries) == 1


def test_saving_the_criteria_recomputes_every_fit_after_commit(owner, admin_user, django_capture_on_commit_callbacks):
    vigo, lugo = ClientFactory(owner=owner, city="Vigo"), ClientFactory(owner=owner, city="Lugo")
    with django_capture_on_commit_callbacks(execute=True):
        profile_save(by=admin_user, threshold=60, criteria=[(Attribute.CITY, "Vigo", 3), (Attribute.SECTOR, "Salud", 1)])
    assert (_fit(vigo), _fit(lugo)) == (75, 0)
    summary = FitSummary.objects.get(owner=owner)
    assert (summary.clients, summary.fitting, summary.threshold) == (2, 1, 60)
    with django_capture_on_commit_callbacks(execute=True):
        profile_save(by=admin_user, threshold=60, criteria=[])
    assert (_fit(vigo), _fit(lugo)) == (None, None)
    assert not FitSummary.objects.exists()


def test_only_an_administrador_saves_the_profile(manager):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        profile_save(by=manager, threshold=70, criteria=[])


def test_figures_per_salesperson_count_fitting_revenue_and_probable_prospects(owner, teammate):
    _criteria((Attribute.CITY, "Vigo", 1))
    ClientFactory(owner=owner, city="Vigo")  # a prospect that fits: probable
    ClientFactory(owner=owner, city="Vigo", prospect_qualification="potential")  # showed interest
    buyer = ClientFactory(owner=owner, city="Vigo")
    other = ClientFactory(owner=owner, city="Lugo")
    Client.objects.filter(pk=buyer.pk).update(status="active", spend_12m=300)
    Client.objects.filter(pk=other.pk).update(status="active", spend_12m=100)
    ClientFactory(owner=teammate, city="Vigo")
    fit_refresh_all()
    mine = FitSummary.objects.get(owner=owner)
    assert (mine.clients, mine.fitting, mine.revenue, mine.fitting_revenue, mine.probable) == (4, 3, 300 + 100, 300, 1)
    assert FitSummary.objects.get(owner=teammate).probable == 1


def test_the_nightly_run_writes_only_the_fits_that_changed(owner):
    from segmentation.models import NightlyStep
    from segmentation.tasks import nightly_recompute

    _criteria((Attribute.CITY, "Vigo", 1))
    vigo, lugo = ClientFactory(owner=owner, city="Vigo"), ClientFactory(owner=owner, city="Lugo")
    Client.objects.filter(pk=vigo.pk).update(icp_fit=None)  # as if the criteria were new
    nightly_recompute.apply()
    Client.objects.filter(pk=lugo.pk).update(city="Vigo")  # written without the service: the night catches it
    nightly_recompute.apply()
    nightly_recompute.apply()
    steps = NightlyStep.objects.filter(name=NightlyStep.Name.SNAPSHOTS).order_by("run_id")
    assert [step.detail["icp_fit_changed"] for step in steps] == [2, 1, 0]  # lugo's 0 was NULL too at first
    assert (_fit(vigo), _fit(lugo)) == (100, 100)


def test_imported_clients_get_their_fit_at_once(owner):
    from imports.services import Kind as ImportKind
    from imports.services import import_analyse, import_apply, proposed_mapping
    from imports.spreadsheets import read_table

    _criteria((Attribute.CITY, "Vigo", 1))
    table = read_table(b"Nombre;Apellidos;Ciudad\nAna;Souto;Vigo\nLuis;Pena;Lugo\n")
    analysis = import_analyse(table, ImportKind.CLIENTS, proposed_mapping(ImportKind.CLIENTS, table), visible=None)
    import_apply(analysis, owner=owner)
    assert dict(Client.objects.values_list("first_name", "icp_fit")) == {"Ana": 100, "Luis": 0}


def test_an_import_writes_the_fit_the_recompute_would_write_in_one_insert(owner):
    """Each criterion kind a file can fill (not interests), alternatives and a person/company split:
    the fit written with the new rows is the SQL's (a recompute changes none), and no UPDATE follows."""
    from imports.services import Kind as ImportKind
    from imports.services import import_analyse, import_apply, proposed_mapping
    from imports.spreadsheets import read_table

    _criteria(
        (Attribute.CITY, "Vigo", 3), (Attribute.CITY, "Lugo", 1), (Attribute.KIND, Kind.COMPANY, 2),
        (Attribute.KIND, Kind.PERSON, 1), (Attribute.REGION, "Galicia", 2), (Attribute.SECTOR, "Comercio", 5),
        (Attribute.COUNTRY, "PT", 4),
    )
    table = read_table(
        "Nombre;Apellidos;Empresa;Ciudad;Provincia;Sector;País\n"
        "Ana;Souto;;Vigo;Galicia;Comercio;\n"
        ";;Pena SL;Lugo;;;Portugal\n"
        "Rui;Sá;;Porto;Porto;comercio;PT\n"
        "Eva;Lis;Lis SA;vigo;Galicia;Hostelería;\n".encode()
    )
    analysis = import_analyse(table, ImportKind.CLIENTS, proposed_mapping(ImportKind.CLIENTS, table), visible=None)
    assert analysis.importable, analysis.problems
    with CaptureQueriesContext(connection) as queries:
        import_apply(analysis, owner=owner)
    assert not [q["sql"] for q in queries if "icp_fit" in q["sql"] and q["sql"].startswith("UPDATE")]
    # Best 3 + 2 + 2 + 5 + 4 = 16. Ana: 3 + 1 + 2 + 5 = 11; Pena: 1 + 2 + 4 = 7; Rui: 1 + 4 (the sector
    # is matched as written); Eva: 2 + 2 = 4 (so is the city).
    fits = dict(Client.objects.values_list("first_name", "icp_fit"))
    assert fits == {"Ana": 69, "": 44, "Rui": 31, "Eva": 25}
    assert fit_recompute() == 0


def test_the_recompute_task_run_twice_changes_nothing_the_second_time(owner):
    from segmentation.tasks import ideal_fit_recompute as icp_fit_recompute

    _criteria((Attribute.CITY, "Vigo", 1))
    ClientFactory(owner=owner, city="Vigo")
    assert icp_fit_recompute.apply().get() == {"icp_fit_changed": 1, "icp_summaries": 1}
    assert icp_fit_recompute.apply().get() == {"icp_fit_changed": 0, "icp_summaries": 1}  # the figures rewritten alike
