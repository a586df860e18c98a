import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Client, Purchase
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comercial_uploads_purchases_fixes_the_mapping_and_imports_the_valid_rows(live_server, login, owner, tmp_path):
    ana = ClientFactory(owner=owner, first_name="Ana", last_name="Importada", client_ref="C-100")
    recent = (timezone.localdate() - dt.timedelta(days=5)).strftime("%d/%m/%Y")
    # A Spanish spreadsheet export: Windows-1252, semicolons, decimal commas, day-first dates; the
    # client column has a name Cartera does not know, and row 4 has an impossible amount.
    text = f"Cliente;Fecha;Importe\nC-100;{recent};1.234,50\nC-100;{recent};20,00\nC-100;{recent};doce\n"
    path = tmp_path / "ventas octubre.csv"
    path.write_bytes(text.encode("cp1252"))
    page = login(owner)

    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("link", name="Importar").click()
    page.locator("input[name=kind][value=purchases]").check()
    page.locator("input[name=file]").set_input_files(str(path))
    page.get_by_role("button", name="Subir y previsualizar").click()

    expect(page.get_by_test_id("import-problem")).to_be_visible()  # no column identifies the client yet
    expect(page.get_by_test_id("mapping-table")).to_contain_text("1.234,50")
    page.get_by_test_id("map-0").select_option("client_ref")  # htmx analyses again on change

    errors = page.get_by_test_id("row-errors")
    expect(errors).to_contain_text("doce")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr td").first).to_have_text("4")
    expect(page.get_by_test_id("import-problem")).to_have_count(0)
    expect(page.get_by_test_id("summary-purchases-created")).to_have_text("2")
    expect(page.get_by_test_id("confirm-import")).to_be_disabled()  # all or nothing by default

    page.locator("input[name=only_valid]").check()
    expect(page.get_by_test_id("all-or-nothing")).to_have_count(0)
    page.get_by_test_id("confirm-import").click()

    expect(page.get_by_test_id("import-done")).to_be_visible()
    expect(page.get_by_test_id("row-errors")).to_contain_text("doce")
    assert sorted(Purchase.objects.filter(client=ana).values_list("amount", flat=True)) == [20, 1234.5]
    ana = Client.objects.get(pk=ana.pk)
    assert (ana.purchase_count, ana.status) == (2, "new")

    page.goto(f"{live_server.url}{ana.get_absolute_url()}")
    expect(page.locator("main")).to_contain_text("254,50")  # total spent (grouped as the locale does)
