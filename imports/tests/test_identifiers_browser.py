"""A comercial imports a clients file whose tax ids and phones are checked by each row's country:
a new client's wrong NIF is a row error, a wrong tax id already held only a warning."""

import pytest
from playwright.sync_api import expect

from clients.models import Client
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comercial_imports_clients_with_countries_by_name_a_wrong_nif_refused_and_one_held_warned(
    live_server, login, owner, tmp_path,
):
    owner.language = "en"
    owner.save(update_fields=["language"])
    held = ClientFactory(owner=owner, client_ref="C-1", company_name="Frutas Levante", tax_id="B1234", phone="")
    text = (
        "Referencia;Razón social;NIF;Teléfono;País\n"
        "C-1;Frutas Levante;;612 34 56 78;España\n"  # held: its stored tax id is wrong, a warning
        "C-2;Padaria Estrela;16.727.230/0001-97;(11) 98765-4321;Brasil\n"
        "C-3;Mal Escrito S.L.;B58378432;;España\n"  # new: a wrong CIF is a row error
    )
    path = tmp_path / "clientes.csv"
    path.write_bytes(text.encode("cp1252"))
    page = login(owner)
    page.goto(f"{live_server.url}/imports/")
    page.locator("input[name=kind][value=clients]").check()
    page.locator("input[name=file]").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()

    errors = page.get_by_test_id("row-errors")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors).to_contain_text("This is not a valid Spanish NIF, NIE or CIF")
    warnings = page.get_by_test_id("row-warnings")
    expect(warnings.locator("tbody tr")).to_have_count(1)
    expect(warnings).to_contain_text("B1234")
    page.locator("input[name=only_valid]").check()
    page.get_by_test_id("confirm-import").click()

    expect(page.get_by_test_id("import-done")).to_be_visible()
    held.refresh_from_db()
    assert (held.tax_id, held.phone) == ("B1234", "+34612345678")
    padaria = Client.objects.get(client_ref="C-2")
    assert (padaria.country, padaria.tax_id, padaria.phone) == ("BR", "16727230000197", "+5511987654321")
    assert not Client.objects.filter(client_ref="C-3").exists()
