"""A large file is analysed in the background with a progress bar; a worker that dies is noticed
within minutes; previews nobody confirms are purged; a failed import can be deleted."""

import datetime as dt

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from imports.jobs import job_preview, jobs_fail_stale, jobs_purge, jobs_requeue, progress_set
from imports.models import ImportJob
from imports.tasks import imports_purge
from imports.tests.files import xlsx_written
from imports.tests.test_import_views import preview_post, upload

pytestmark = pytest.mark.django_db

HEADER = "Código;Nombre;Apellidos;Correo;Ciudad\n"


def clients_csv(rows: int) -> str:
    return HEADER + "".join(f"C-{n};Nombre{n};Apellido;c{n}@example.com;Vigo\n" for n in range(rows))


@pytest.fixture
def background(settings):
    settings.IMPORT_BACKGROUND_BYTES = 100  # every file of these tests is "large"


def test_a_large_upload_returns_at_once_and_its_page_shows_the_analysis_progress(client, owner, background):
    client.force_login(owner)
    with TestCase.captureOnCommitCallbacks() as queued:
        response = upload(client, clients_csv(50))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.state == ImportJob.State.ANALYSING
    assert len(queued) == 1 and job.summary == {}  # the analysis waits for its task

    page = client.get(reverse("imports:import_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="analysis-progress"' in page.content and b"Waiting for a worker" in page.content
    assert "HX-Refresh" not in client.get(reverse("imports:import_progress", args=[job.pk]))

    job_preview(job.pk)
    job_preview(job.pk)  # a second delivery of the task does nothing
    job.refresh_from_db()
    assert (job.state, job.rows, job.summary["clients_created"]) == (ImportJob.State.PREVIEW, 50, 50)
    assert job.mapping == {"client_ref": 0, "first_name": 1, "last_name": 2, "email": 3, "city": 4}
    assert client.get(reverse("imports:import_progress", args=[job.pk]))["HX-Refresh"] == "true"
    page = client.get(reverse("imports:import_detail", args=[job.pk]))
    assert b'data-testid="preview-form"' in page.content

    preview_post(client, job, action="confirm")
    assert Client.objects.count() == 50


def test_a_changed_mapping_of_a_large_file_is_analysed_in_the_background_too(client, owner, background):
    client.force_login(owner)
    upload(client, clients_csv(5))
    job = ImportJob.objects.get()
    job_preview(job.pk)
    job.refresh_from_db()
    data = {f"column_{index}": name for name, index in job.mapping.items() if name != "city"}
    with TestCase.captureOnCommitCallbacks() as queued:
        response = client.post(reverse("imports:import_detail", args=[job.pk]), data | {"owner": owner.pk, "action": "preview"})
    job.refresh_from_db()
    assert response.status_code == 302 and job.state == ImportJob.State.ANALYSING and len(queued) == 1
    job_preview(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.PREVIEW and "city" not in job.mapping


def test_a_large_file_that_is_no_table_fails_with_the_reason(client, owner, background):
    client.force_login(owner)
    upload(client, "Nombre;Notas\nAna;" + "x" * 2000 + "\n")
    job = ImportJob.objects.get()
    job_preview(job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and "más de 1\u00a0000 caracteres" in job.failure  # the uploader's language
    assert not job.data  # nothing to preview again


def test_the_cheap_checks_refuse_a_large_file_at_once(client, owner, background):
    client.force_login(owner)
    response = upload(client, b"Nombre\nAna\x00\n" * 20)
    assert response.status_code == 200 and not ImportJob.objects.exists()
    assert "NUL" in response.context["form"].errors["file"][0]


@pytest.mark.parametrize("rows", [10, 400])
def test_the_analysis_page_and_its_progress_run_a_constant_number_of_queries(client, owner, background, rows, django_assert_num_queries):
    client.force_login(owner)
    upload(client, clients_csv(rows))
    job = ImportJob.objects.get()
    progress_set(job.pk, "reading", rows // 2, rows)
    # session, user, the job (without its file), the user's roles (navigation)
    with django_assert_num_queries(4):
        page = client.get(reverse("imports:import_detail", args=[job.pk]))
    assert page.context["progress"]["percent"] == 25
    # session, user, the job
    with django_assert_num_queries(3):
        client.get(reverse("imports:import_progress", args=[job.pk]))


def _stale(job: ImportJob, *, state: str, minutes: int) -> None:
    at = timezone.now() - dt.timedelta(minutes=minutes)
    ImportJob.objects.filter(pk=job.pk).update(state=state, started_at=at, heartbeat_at=at)


def test_an_import_whose_heartbeat_stopped_is_failed_within_minutes(client, owner, settings):
    settings.IMPORT_STALE_MINUTES = 5
    client.force_login(owner)
    upload(client, clients_csv(3))
    upload(client, clients_csv(4))
    dead, alive = ImportJob.objects.order_by("pk")
    _stale(dead, state=ImportJob.State.RUNNING, minutes=6)
    _stale(alive, state=ImportJob.State.RUNNING, minutes=1)

    assert jobs_fail_stale() == 1
    assert jobs_fail_stale() == 0  # the second run changes nothing
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.state, alive.state) == (ImportJob.State.FAILED, ImportJob.State.RUNNING)
    assert dead.failure and bytes(dead.data)  # its file is kept: back to the preview works


def test_an_import_writing_inside_its_transaction_beats_in_the_cache(owner, client, settings):
    settings.IMPORT_STALE_MINUTES = 5
    client.force_login(owner)
    upload(client, clients_csv(3))
    job = ImportJob.objects.get()
    _stale(job, state=ImportJob.State.RUNNING, minutes=30)
    progress_set(job.pk, "writing", 1, 3)  # its row's heartbeat is only seen at the commit
    assert jobs_fail_stale() == 0
    progress_set(job.pk, "analysing", 1, 3)  # outside the transaction, the row's heartbeat counts
    assert jobs_fail_stale() == 1


def test_a_stale_background_analysis_is_failed_and_one_never_started_is_queued_again(client, owner, background, settings):
    client.force_login(owner)
    upload(client, clients_csv(3))
    upload(client, clients_csv(4))
    started, waiting = ImportJob.objects.order_by("pk")
    _stale(started, state=ImportJob.State.ANALYSING, minutes=settings.IMPORT_STALE_MINUTES + 1)
    ImportJob.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - dt.timedelta(minutes=20))

    assert jobs_requeue() == 1  # the one never started; without a broker it runs here
    started.refresh_from_db()
    waiting.refresh_from_db()
    assert (started.state, waiting.state) == (ImportJob.State.FAILED, ImportJob.State.PREVIEW)


def test_previews_nobody_confirms_are_purged_after_the_set_days(client, owner, settings):
    settings.IMPORT_PREVIEW_DAYS = 7
    client.force_login(owner)
    for _ in range(3):
        upload(client, clients_csv(2))
    old, recent, refused = ImportJob.objects.order_by("pk")
    ImportJob.objects.filter(pk__in=[old.pk, refused.pk]).update(created_at=timezone.now() - dt.timedelta(days=8))
    ImportJob.objects.filter(pk=recent.pk).update(created_at=timezone.now() - dt.timedelta(days=6))
    ImportJob.objects.filter(pk=refused.pk).update(state=ImportJob.State.FAILED, failure="x")

    assert imports_purge.apply().get() == 1
    assert jobs_purge() == 0  # idempotent
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {recent.pk, refused.pk}
    refused.refresh_from_db()
    assert not bytes(refused.data)  # the refused one stays in the list, without its file


def test_a_failed_import_is_deleted_by_its_owner_from_the_list(client, owner, teammate):
    client.force_login(owner)
    upload(client, clients_csv(2))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.FAILED, failure="x")
    listing = client.get(reverse("imports:import_list"))
    assert f'data-testid="delete-import-{job.pk}"'.encode() in listing.content

    client.force_login(teammate)
    assert client.post(reverse("imports:import_delete", args=[job.pk])).status_code == 404
    client.force_login(owner)
    assert client.post(reverse("imports:import_delete", args=[job.pk])).status_code == 302
    assert not ImportJob.objects.exists()


def test_an_import_under_way_cannot_be_deleted(client, owner):
    client.force_login(owner)
    upload(client, clients_csv(2))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING)
    assert b"delete-import-" not in client.get(reverse("imports:import_list")).content
    assert client.post(reverse("imports:import_delete", args=[job.pk])).status_code == 404


def test_a_large_excel_file_with_a_lying_dimension_is_previewed_in_the_background(client, owner, background):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    data = xlsx_written([["Nombre", "Ciudad"], ["Ana", "Vigo"]], dimension="A1:XFD1048576", empty_styled_rows=50_000)
    file = SimpleUploadedFile("cartera.xlsx", data)
    client.post(reverse("imports:import_list"), {"kind": "clients", "file": file})
    job = ImportJob.objects.get()
    job_preview(job.pk)
    job.refresh_from_db()
    assert (job.state, job.rows) == (ImportJob.State.PREVIEW, 1)
