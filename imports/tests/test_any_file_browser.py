"""In Chromium: a sales export naming products the catalogue lacks, imported with them; a large
file's analysis shown as a progress bar until its preview is ready."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Product, Purchase, PurchaseLine
from clients.tests.factories import ClientFactory
from imports.jobs import job_preview, progress_set
from imports.models import ImportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_comercial_imports_purchases_with_two_new_products(live_server, login, owner, tmp_path):
    ClientFactory(owner=owner, client_ref="C-7")
    day = (timezone.localdate() - dt.timedelta(days=2)).strftime("%d/%m/%Y")
    path = tmp_path / "ventas.csv"
    path.write_bytes(
        f"Referencia;Fecha;Importe;Producto\nC-7;{day};12,50;Café molido\nC-7;{day};8,00;cafe  MOLIDO\n"
        f"C-7;{day};30,00;Pão de queijo\n".encode("cp1252")  # as Excel saves a CSV in Spain
    )
    page = login(owner)

    page.goto(f"{live_server.url}/imports/")
    page.locator("input[name=kind][value=purchases]").check()
    page.locator("input[name=file]").set_input_files(str(path))
    page.get_by_test_id("upload-form").locator("button[type=submit]").click()

    new_products = page.get_by_test_id("new-products")
    expect(new_products).to_contain_text(re.compile(r"\b2\b"))
    expect(new_products).to_contain_text("Café molido")
    expect(page.get_by_test_id("confirm-import")).to_be_disabled()  # their rows are errors until asked

    page.locator("input[name=create_missing_products]").check()  # htmx analyses again on change
    expect(page.get_by_test_id("row-errors")).to_have_count(0)
    page.get_by_test_id("confirm-import").click()

    expect(page.get_by_test_id("import-done")).to_be_visible()
    assert sorted(Product.objects.values_list("name", flat=True)) == ["Café molido", "Pão de queijo"]
    assert Purchase.objects.count() == 3 and PurchaseLine.objects.count() == 3


def test_a_large_file_shows_its_analysis_progress_before_the_preview(live_server, login, owner, tmp_path, settings, monkeypatch):
    settings.IMPORT_BACKGROUND_BYTES = 1000
    queued = []
    monkeypatch.setattr("imports.jobs.enqueue", lambda name, *args: queued.append(args) or True)  # a busy worker
    path = tmp_path / "cartera.csv"
    path.write_text("Nombre;Ciudad\n" + "".join(f"Cliente {n};Vigo\n" for n in range(500)), encoding="utf-8")
    page = login(owner)

    page.goto(f"{live_server.url}/imports/")
    page.locator("input[name=file]").set_input_files(str(path))
    page.get_by_test_id("upload-form").locator("button[type=submit]").click()

    expect(page.get_by_test_id("analysis-progress")).to_be_visible()
    job = ImportJob.objects.get()
    assert queued == [(job.pk,)] and job.state == ImportJob.State.ANALYSING
    progress_set(job.pk, "reading", 250, 500)  # as the worker reports it
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")

    job_preview(job.pk)  # the worker finishes; the polling reloads the page
    expect(page.get_by_test_id("preview-form")).to_be_visible()
    expect(page.get_by_test_id("summary-clients-created")).to_have_text("500")
