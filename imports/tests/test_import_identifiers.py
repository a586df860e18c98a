"""Imports check tax ids and phones by each row's country and read countries by name (clients/identifiers.py)."""

import pytest
from django.urls import reverse
from django.utils import translation

from clients.models import Client
from clients.tests.factories import ClientFactory
from imports.models import ImportJob
from imports.services import Kind, import_apply
from imports.tests.test_import_services import analyse, csv_bytes
from imports.tests.test_import_views import upload

pytestmark = pytest.mark.django_db

HEADER = "Referencia;Nombre;Razón social;NIF;Teléfono;País"


def test_new_clients_get_their_ids_in_normal_form_and_their_country_from_its_name(owner):
    analysis = analyse(csv_bytes(
        HEADER,
        "R1;;Frutas Levante S.L.;ES B-58378431;612 34 56 78;España",
        "R2;João;;390.533.447-05;(11) 98765-4321;Brasil",
        "R3;;Viñedos del Sur;76086428-5;9 6123 4567;chile",
        "R4;;Boulangerie Dupont;61 954 506 077;01 23 45 67 89;Francia",
        "R5;;Tacos Mx;MAB-930714-8T4;55 1234 5678;México",
        "R6;Lena;;;+49 30 123456;Alemanha",
        "R7;Ana;;501 964 843;912 345 678;PRT",
    ), Kind.CLIENTS)
    assert analysis.errors == [] and analysis.warnings == []
    import_apply(analysis, owner=owner)
    stored = {c.client_ref: (c.country.code, c.tax_id, c.tax_key, c.phone) for c in Client.objects.all()}
    assert stored == {
        "R1": ("ES", "B58378431", "B58378431", "+34612345678"),
        "R2": ("BR", "39053344705", "39053344705", "+5511987654321"),
        "R3": ("CL", "760864285", "760864285", "+56961234567"),
        "R4": ("FR", "61954506077", "61954506077", "+33123456789"),
        "R5": ("MX", "MAB9307148T4", "MAB9307148T4", "+525512345678"),
        "R6": ("DE", "", "", "+4930123456"),
        "R7": ("PT", "501964843", "501964843", "+351912345678"),
    }


def test_a_wrong_tax_id_phone_or_country_of_a_new_client_is_a_row_error():
    with translation.override("en"):
        analysis = analyse(csv_bytes(
            HEADER,
            "R1;;Frutas Levante S.L.;B58378432;612 34 56 78;ES",  # wrong check digit
            "R2;João;;231.002.999-00;(11) 98765-4321;BR",
            "R3;Lucía;;;12345;ES",  # cannot be a phone
            "R4;Pere;;;612 34 56 78;Catalunya del Nord",  # no country
            "R5;Rui;;54362315K;912 345 678;Portugal",  # a Spanish NIF for a client in Portugal
        ), Kind.CLIENTS)
    messages = {(error.line, error.column): error.message for error in analysis.errors}
    assert messages == {
        (2, "NIF"): "This is not a valid Spanish NIF, NIE or CIF: check its letters and digits.",
        (3, "NIF"): "This is not a valid Brazilian CPF or CNPJ: check its digits.",
        (4, "Teléfono"): "This cannot be a phone number: write it with its area code, or with + and the country code.",
        (5, "País"): "Unknown country: write its name (España, Portugal, Brasil…) or its code (ES, PT, BR…).",
        (6, "NIF"): "This is not a valid Portuguese NIF: check its digits.",
    }
    assert analysis.new_clients == {}


def test_a_client_already_held_with_a_wrong_tax_id_is_imported_with_a_warning(owner):
    held = ClientFactory(owner=owner, client_ref="R1", tax_id="B1234", phone="", country="ES")  # typed before the checks
    also = ClientFactory(owner=owner, client_ref="R2", tax_id="X999", phone="", country="ES")
    with translation.override("en"):
        analysis = analyse(csv_bytes(
            HEADER,
            "R1;;Frutas Levante S.L.;;612 34 56 78;ES",  # fills the phone; its stored tax id is wrong
            "R2;;Otra S.L.;X999;hola;ES",  # matched; the file's tax id and phone are wrong
        ), Kind.CLIENTS)
    assert analysis.errors == []
    warned = {(warning.line, warning.column, warning.value): warning.message for warning in analysis.warnings}
    assert warned == {
        (2, "NIF", "B1234"): "The tax id on file for this client is wrong: "
                             "This is not a valid Spanish NIF, NIE or CIF: check its letters and digits.",
        (3, "NIF", "X999"): "This is not a valid Spanish NIF, NIE or CIF: check its letters and digits.",
        (3, "Teléfono", "hola"): "This cannot be a phone number: write it with its area code, or with + and the country code.",
    }
    import_apply(analysis, owner=owner)
    held.refresh_from_db()
    also.refresh_from_db()
    assert (held.tax_id, held.phone) == ("B1234", "+34612345678")
    assert (also.tax_id, also.phone) == ("X999", "")  # a wrong value is never written


def test_a_tax_id_written_another_way_matches_the_client_that_holds_it(owner):
    record = ClientFactory(owner=owner, company_name="Frutas Levante", tax_id="B58378431", country="ES")
    analysis = analyse(csv_bytes(
        "NIF;Fecha;Importe", "ES-B 5837843 1;2026-01-10;100", "b58.378.431;2026-01-11;50",
    ), Kind.PURCHASES)
    assert analysis.errors == []
    assert {purchase.client for purchase in analysis.purchases} == {record.pk}


def test_the_preview_lists_the_warnings_and_still_lets_the_import_run(client, owner):
    ClientFactory(owner=owner, client_ref="R1", tax_id="B1234", phone="", country="ES")
    client.force_login(owner)
    upload(client, f"{HEADER}\nR1;;Frutas;;612 34 56 78;ES\n")
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:import_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    content = page.content.decode()
    assert 'data-testid="row-warnings"' in content and "<code>B1234</code>" in content
    assert 'data-testid="row-errors"' not in content
    assert page.context["confirmable"]


def test_the_command_prints_the_warnings(owner, tmp_path, capsys):
    from django.core.management import call_command

    ClientFactory(owner=owner, client_ref="R1", tax_id="B1234", phone="", country="ES")
    path = tmp_path / "clients.csv"
    path.write_text(f"{HEADER}\nR1;;Frutas;;612 34 56 78;ES\n", encoding="utf-8")
    call_command("import_clients", str(path))
    assert "warning: row 2, column NIF, value 'B1234'" in capsys.readouterr().err
