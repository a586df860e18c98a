"""Background exports: large lists become jobs, the job writes what the immediate export writes,
through the access rule of the moment it runs; only its creator downloads it; old ones are purged."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from clients.tests.factories import ClientFactory
from exports.models import ExportJob
from exports.services import export_job_run, exports_purge, exports_recover, progress_get
from segmentation.segments import segment_create

pytestmark = pytest.mark.django_db


def export_url(fmt: str, query: str = "") -> str:
    return reverse("clients:client_list_export", args=[fmt]) + (f"?{query}" if query else "")


@pytest.fixture
def start(client, django_capture_on_commit_callbacks):
    """Starts an export as the button does; the job runs in-process when the request commits."""

    def _start(client, kind: str, fmt: str, **params) -> ExportJob:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("exports:export_create"), {"kind": kind, "format": fmt, **params})
        return _started(response)

    return _start


def _started(response) -> ExportJob:
    assert response.status_code == 302
    job = ExportJob.objects.latest("id")
    assert response["Location"] == reverse("exports:export_detail", args=[job.pk])
    return job


def downloaded(client, job) -> bytes:
    response = client.get(reverse("exports:export_download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_a_small_export_stays_immediate(client, owner, settings):
    settings.EXPORT_BACKGROUND_ROWS = 3
    ClientFactory.create_batch(3, owner=owner)
    client.force_login(owner)
    response = client.get(export_url("csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert not ExportJob.objects.exists()


def test_a_large_export_is_offered_in_the_background_and_a_get_starts_nothing(client, owner, settings):
    settings.EXPORT_BACKGROUND_ROWS = 2
    ClientFactory.create_batch(3, owner=owner)
    client.force_login(owner)
    response = client.get(export_url("xlsx", "status=prospect"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert 'data-testid="export-start"' in response.content.decode()
    assert 'name="query" value="status=prospect"' in response.content.decode()
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_job_writes_the_same_rows_as_the_immediate_export(client, start, owner, settings, fmt):
    ClientFactory(owner=owner, first_name="=1+1", phone="+34 612 345 678")
    ClientFactory.create_batch(4, owner=owner)
    client.force_login(owner)
    immediate = client.get(export_url(fmt, "sort=-spend_12m"))
    immediate = b"".join(immediate.streaming_content) if fmt == "csv" else immediate.content

    job = start(client, "clients", fmt, query="sort=-spend_12m")  # runs in-process (no broker in tests)

    job.refresh_from_db()
    assert (job.state, job.rows) == (ExportJob.State.DONE, 5)
    body = downloaded(client, job)
    if fmt == "csv":
        assert body == immediate
    else:
        def rows(data):
            return list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
        assert rows(body) == rows(immediate)
        assert len(rows(body)) == 6


def test_a_segment_export_job_writes_the_segments_clients(client, start, owner):
    ClientFactory(owner=owner, last_name="Dormido", status="dormant")
    ClientFactory(owner=owner, last_name="Activo", status="active")
    from django.http import QueryDict
    segment = segment_create(owner=owner, name="Dormidos", shared=False, query=QueryDict("status=dormant"))
    client.force_login(owner)
    job = start(client, "segment", "csv", segment=segment.pk)
    job.refresh_from_db()
    text = downloaded(client, job).decode("utf-8-sig")
    names = [row[2] for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]]
    assert names == ["Dormido"]
    assert job.name == "dormidos"


def test_another_users_segment_cannot_be_exported(client, owner, outsider):
    from django.http import QueryDict
    segment = segment_create(owner=outsider, name="Ajeno", shared=False, query=QueryDict(""))
    client.force_login(owner)
    response = client.post(reverse("exports:export_create"), {"kind": "segment", "format": "csv", "segment": segment.pk})
    assert response.status_code == 404
    assert not ExportJob.objects.exists()


def test_the_job_applies_the_access_rule_of_the_moment_it_runs(owner, outsider):
    kept = ClientFactory(owner=owner, last_name="Propio")
    moved = ClientFactory(owner=owner, last_name="Reasignado")
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""}, name="c",
                                   language="en")
    moved.owner = outsider  # reassigned between the request and the run
    moved.save()

    export_job_run(job.pk)

    job.refresh_from_db()
    text = job.file.read().decode("utf-8-sig")
    assert kept.last_name in text and moved.last_name not in text
    assert job.rows == 1


def test_a_deactivated_user_exports_nothing(owner):
    ClientFactory(owner=owner)
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""}, name="c",
                                   language="en")
    owner.is_active = False
    owner.save()
    export_job_run(job.pk)
    job.refresh_from_db()
    assert job.rows == 0


def test_running_a_job_twice_writes_it_once(owner):
    ClientFactory(owner=owner)
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""}, name="c",
                                   language="en")
    export_job_run(job.pk)
    job.refresh_from_db()
    first = (job.file.name, job.finished_at)
    export_job_run(job.pk)
    job.refresh_from_db()
    assert (job.file.name, job.finished_at) == first
    assert progress_get(job)["percent"] == 100


def test_invalid_filters_fail_with_a_message(owner):
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": "status=nonsense"},
                                   name="c", language="en")
    export_job_run(job.pk)
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED
    assert "filters are not valid" in job.failure
    assert not job.file


def test_only_the_creator_downloads(client, start, owner, teammate, manager, admin_user):
    ClientFactory(owner=owner)
    client.force_login(owner)
    job = start(client, "clients", "csv", query="")
    for other in (teammate, manager, admin_user):
        client.force_login(other)
        for name in ("export_download", "export_detail", "export_progress"):
            assert client.get(reverse(f"exports:{name}", args=[job.pk])).status_code == 404


def test_old_exports_are_purged_with_their_files(client, start, owner, settings):
    settings.EXPORT_KEEP_DAYS = 7
    ClientFactory(owner=owner)
    client.force_login(owner)
    old = start(client, "clients", "csv", query="")
    recent = start(client, "clients", "xlsx", query="")
    old.refresh_from_db()
    storage, name = old.file.storage, old.file.name
    assert storage.exists(name)
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))

    assert exports_purge() == 1
    assert exports_purge() == 0  # a second run changes nothing

    assert not storage.exists(name)
    assert list(ExportJob.objects.all()) == [recent]
    assert client.get(reverse("exports:export_download", args=[old.pk])).status_code == 404


def test_a_run_whose_worker_died_is_marked_failed(owner):
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""}, name="c",
                                   language="en", state="running", started_at=timezone.now() - dt.timedelta(hours=7))
    exports_purge()
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED and "interrupted" in job.failure


def test_the_pages_show_progress_then_the_download(client, owner):
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""}, name="clients",
                                   language="en")
    client.force_login(owner)
    page = client.get(reverse("exports:export_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="export-progress"' in page and "hx-get" in page
    export_job_run(job.pk)
    response = client.get(reverse("exports:export_progress", args=[job.pk]))
    assert response["HX-Refresh"] == "true"
    page = client.get(reverse("exports:export_detail", args=[job.pk])).content.decode()
    assert 'data-testid="export-download"' in page
    listing = client.get(reverse("exports:export_list")).content.decode()
    assert reverse("exports:export_download", args=[job.pk]) in listing


# session, user, the user's groups (the menu), the jobs (or the job): the same for 1 or 10 exports.
@pytest.mark.parametrize("size", [1, 10])
def test_pages_run_a_constant_number_of_queries(client, owner, django_assert_num_queries, size):
    jobs = [ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""},
                                     name=f"e{index}", language="en") for index in range(size)]
    client.force_login(owner)
    client.get(reverse("exports:export_list"))  # warm the session
    for url, queries in (
        (reverse("exports:export_list"), LIST_QUERIES),
        (reverse("exports:export_detail", args=[jobs[0].pk]), DETAIL_QUERIES),
        (reverse("exports:export_progress", args=[jobs[0].pk]), PROGRESS_QUERIES),
    ):
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200


LIST_QUERIES = DETAIL_QUERIES = 4
PROGRESS_QUERIES = 3  # a fragment: no menu, so no groups


def test_an_export_the_broker_never_took_is_run_by_the_chores(owner):
    ClientFactory(owner=owner)
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""}, name="c",
                                   language="en")
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    exports_purge()  # in-process here, as without a broker
    job.refresh_from_db()
    assert (job.state, job.rows) == (ExportJob.State.DONE, 1)


def test_an_export_deleted_outside_the_purge_takes_its_file(client, start, owner):
    ClientFactory(owner=owner)
    client.force_login(owner)
    job = start(client, "clients", "csv", query="")
    job.refresh_from_db()
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    ExportJob.objects.filter(pk=job.pk).delete()  # as the admin or a user's cascade deletes it

    assert not storage.exists(name)


def test_a_run_whose_worker_died_is_failed_by_the_recovery_of_every_few_minutes(owner):
    job = ExportJob.objects.create(created_by=owner, kind="clients", format="csv", params={"query": ""}, name="c",
                                   language="en", state="running", started_at=timezone.now() - dt.timedelta(hours=7))
    exports_recover()
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED and "interrupted" in job.failure
