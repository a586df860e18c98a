"""A large export as a user does it: the list's button, the offer, the progress bar moving while a
worker writes the file, then the download."""

import csv
import io

import pytest
from playwright.sync_api import expect

from clients.tests.factories import ClientFactory
from exports.models import ExportJob
from exports.services import export_job_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_exports_a_large_list_watches_the_progress_and_downloads_it(live_server, login, owner, settings, monkeypatch):
    settings.EXPORT_BACKGROUND_ROWS = 2
    owner.language = "en"
    owner.save(update_fields=["language"])
    for name in ("Alba", "Bruno", "Carmen"):
        ClientFactory(owner=owner, first_name=name, last_name="Ruiz", phone="+34 612 345 678")
    queued = []  # the worker, held back so that the page is seen waiting for it
    monkeypatch.setattr("exports.services.enqueue", lambda task, job_id: queued.append(job_id) or True)
    page = login(owner)
    page.goto(f"{live_server.url}/clients/")

    page.get_by_test_id("export-csv").click()
    expect(page.get_by_test_id("export-start")).to_be_visible()
    page.get_by_test_id("export-start-button").click()

    progress = page.get_by_test_id("export-progress")
    expect(progress).to_be_visible()
    expect(progress.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    assert len(queued) == 1

    export_job_run(queued[0])  # the worker writes the file; the polled bar notices and the page reloads

    expect(page.get_by_test_id("export-done")).to_contain_text("3 clients", timeout=10_000)
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    path = download.value.path()
    text = open(path, encoding="utf-8-sig", newline="").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[1] for row in rows[1:]] == ["Alba", "Bruno", "Carmen"]
    assert all(row[5].startswith("+34") for row in rows[1:])  # a phone, not a quoted formula
    assert download.value.suggested_filename.startswith("clients-")

    page.goto(f"{live_server.url}/clients/")
    page.get_by_test_id("my-exports-link").click()
    expect(page.get_by_test_id("export-table")).to_contain_text("Ready")
    assert ExportJob.objects.get().created_by == owner
