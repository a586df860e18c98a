"""The chunked nightly run on a real Celery worker process over Redis equals the single run."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from portfolio.celery import app
from segmentation.engine import COMPUTED_COLUMNS
from segmentation.services import lifecycle_recompute
from segmentation.tasks import LOCK_KEY, nightly_recompute

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BASE_DIR = Path(__file__).resolve().parents[2]


def snapshot() -> list[tuple]:
    return list(Client.objects.order_by("id").values_list("id", *COMPUTED_COLUMNS))


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue():
    """A worker process of its own, on a queue of its own, against the test database."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (REDIS_URL) so that a worker process shares the data")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "CELERY_QUEUE": queue,
        "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "portfolio.settings",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portfolio", "worker", "-Q", queue, "-c", "2", "--pool", "prefork",
         "--loglevel", "WARNING", "-n", f"{queue}@%h"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    try:
        yield queue
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        if output.strip():
            print(output)


def build_portfolio(owner, clients: int) -> None:
    today = timezone.localdate()
    for index in range(clients):
        record = ClientFactory(owner=owner)
        for extra in range(index % 4):
            PurchaseFactory(client=record, date=today - dt.timedelta(days=(index * 37) % 500 + 25 * extra),
                            amount=Decimal(10 * index + extra))


def test_chunked_run_on_a_real_worker_equals_the_single_run(worker_queue, owner, settings):
    build_portfolio(owner, clients=40)
    lifecycle_recompute(as_of=None)
    expected = snapshot()
    Client.objects.update(status="prospect", purchase_count=0, first_purchase_date=None, last_purchase_date=None,
                          volume_tier="", frequency_class="", r_score=None, f_score=None, m_score=None, rfm_segment="")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    result = nightly_recompute.apply_async(kwargs={"chunk_size": 7}, queue=worker_queue).get(timeout=60)
    assert result["chunks"] >= 5
    deadline = time.monotonic() + 60
    while snapshot() != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert snapshot() == expected
    # The chord's callback freed the lock.
    from django.core.cache import cache

    deadline = time.monotonic() + 10
    while cache.get(LOCK_KEY) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cache.get(LOCK_KEY) is None
