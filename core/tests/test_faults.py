"""Faults: Redis down, a nightly run killed half-way, a dropped database connection."""

from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import connection, connections
from django.test import TestCase
from django.urls import reverse
from kombu import pools

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from imports.jobs import job_confirm, job_create, jobs_requeue
from imports.models import ImportJob
from imports.spreadsheets import read_table
from portfolio.celery import app
from segmentation.engine import COMPUTED_COLUMNS

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextmanager
def broker_down():
    """Celery's broker on a port where nothing listens, with a connection pool of its own."""
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    _fresh_pools()
    app.conf.task_always_eager, app.conf.broker_url = False, UNREACHABLE_REDIS
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous
        _fresh_pools()


def _fresh_pools() -> None:
    """Forget Celery's connection and producer pools, as after a fork: the next use makes new ones."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.ForgivingRedisCache", "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with broker_down():
        yield


@pytest.mark.django_db
def test_with_redis_down_every_page_works_and_an_import_waits(client, owner, redis_down, caplog):
    ClientFactory(owner=owner, client_ref="C-1")
    assert cache.get("anything", "missing") == "missing" and cache.add("lock", 1) is False
    client.force_login(owner)
    for url in ("/agenda/", "/clients/", "/dashboard/", "/segments/", "/imports/", "/campaigns/", "/health/"):
        assert client.get(url).status_code == 200, url
    data = b"Referencia,Fecha,Importe\nC-1,2026-10-01,10\n"
    job = job_create(user=owner, kind="purchases", filename="v.csv", data=data, table=read_table(data))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("imports:import_detail", args=[job.pk]), {
            "column_0": "client_ref", "column_1": "date", "column_2": "amount", "owner": owner.pk, "action": "confirm",
        })
    assert response.status_code == 302  # confirmed; the broker could not take it, the page says it waits
    assert "Broker unreachable" in caplog.text
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED
    page = client.get(reverse("imports:import_detail", args=[job.pk]))
    assert page.status_code == 200 and page.context["progress"]["phase"] == "queued"


@pytest.mark.django_db
def test_an_import_left_waiting_is_queued_again_by_the_nightly_run(owner):
    ClientFactory(owner=owner, client_ref="C-1")
    data = b"Referencia,Fecha,Importe\nC-1,2026-10-01,10\n"
    job = job_create(user=owner, kind="purchases", filename="v.csv", data=data, table=read_table(data))
    with broker_down(), TestCase.captureOnCommitCallbacks(execute=True):
        assert job_confirm(job)
    assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.QUEUED
    ImportJob.objects.filter(pk=job.pk).update(created_at=job.created_at.replace(year=job.created_at.year - 1))
    assert jobs_requeue() == 1  # the broker is back (in-process here): it runs
    assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.DONE


@pytest.mark.django_db
def test_an_import_whose_worker_died_is_marked_refused_and_can_be_previewed_again(owner):
    import datetime as dt

    from django.utils import timezone

    data = b"Nombre\nAna\n"
    job = job_create(user=owner, kind="clients", filename="c.csv", data=data, table=read_table(data))
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, started_at=timezone.now() - dt.timedelta(hours=3))
    jobs_requeue()
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED and job.failure
    assert bytes(job.data) == data  # kept: "back to the preview" works


def figures() -> list[tuple]:
    return list(Client.objects.order_by("pk").values_list("pk", *COMPUTED_COLUMNS))


@pytest.mark.django_db
def test_a_nightly_run_killed_half_way_writes_nothing_and_the_next_one_is_complete(owner, monkeypatch):
    from segmentation import engine
    from segmentation.nightly import lock_acquire, lock_release
    from segmentation.services import lifecycle_recompute
    from segmentation.tasks import nightly_recompute

    for index in range(12):
        record = ClientFactory(owner=owner)
        for _ in range(index % 3):
            PurchaseFactory(client=record)
    before = figures()
    real = engine._new_values_sql

    def dies(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(engine, "_new_values_sql", dies)
    with pytest.raises(SystemExit):
        nightly_recompute()
    assert figures() == before  # nothing half-written
    token = lock_acquire()
    assert token is not None  # the lock went with the run
    lock_release(token)
    monkeypatch.setattr(engine, "_new_values_sql", real)
    nightly_recompute()
    after = figures()
    assert after != before
    lifecycle_recompute()  # a clean second run changes nothing: the first one was complete
    assert figures() == after


@pytest.mark.django_db(transaction=True)
def test_after_a_dropped_database_connection_the_next_request_works(client, owner):
    if connection.vendor != "postgresql":
        pytest.skip("drops a PostgreSQL backend connection")
    client.force_login(owner)
    assert client.get("/clients/").status_code == 200
    pid = connection.connection.info.backend_pid
    with connections.create_connection("default").cursor() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    # What every new request does in production (the test client leaves it out of its requests):
    # with CONN_HEALTH_CHECKS the dead connection is noticed and replaced before any query.
    request_started.send(sender=WSGIHandler)
    assert client.get("/clients/").status_code == 200
    assert client.get("/health/").json()["database"] == "ok"
