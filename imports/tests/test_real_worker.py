"""A confirmed import runs on a real Celery worker over Redis; the page can be left and come back."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, Purchase
from clients.tests.factories import ClientFactory
from imports.jobs import job_confirm, job_create, progress_get
from imports.models import ImportJob
from imports.spreadsheets import read_table

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_confirmed_import_runs_on_a_worker_and_reports_its_progress(worker_queue, owner, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    refs = [f"W-{n}" for n in range(30)]
    for ref in refs:
        ClientFactory(owner=owner, client_ref=ref)
    day = (timezone.localdate() - dt.timedelta(days=3)).strftime("%d/%m/%Y")
    data = ("Referencia;Fecha;Importe\n" + "".join(f"{ref};{day};{n},50\n" for n, ref in enumerate(refs * 20))).encode()
    job = job_create(user=owner, kind="purchases", filename="ventas.csv", data=data, table=read_table(data))
    assert job.summary["purchases_created"] == 600
    assert job_confirm(job)  # autocommit: queued at once, on the worker's queue

    client.force_login(owner)
    deadline = time.monotonic() + 60
    while not ImportJob.objects.get(pk=job.pk).finished and time.monotonic() < deadline:
        page = client.get(reverse("imports:import_progress", args=[job.pk]))
        assert page.status_code == 200 and b"progress-bar" in page.content
        time.sleep(0.3)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE, job.failure
    assert Purchase.objects.count() == 600
    assert set(Client.objects.values_list("purchase_count", flat=True)) == {20}
    assert progress_get(job)["percent"] == 100
    report = client.get(reverse("imports:import_detail", args=[job.pk]))
    assert b'data-testid="import-done"' in report.content
