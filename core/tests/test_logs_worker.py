"""A real worker process writes its task's JSON line with the ids of the request that queued it."""

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

from conftest import BASE_DIR, database_url
from core.logs import log_context

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TASK = "exports.tasks.exports_recover"  # a cheap scheduled task: nothing to recover in the test database


@pytest.fixture
def json_worker():
    """A worker of its own on a queue of its own, logging JSON at INFO (conftest's logs WARNING only)."""
    from portfolio.celery import app

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (REDIS_URL) so that a worker process shares the data")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "CELERY_QUEUE": queue,
        "DEBUG": "true", "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "portfolio.settings",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "portfolio", "worker", "-Q", queue, "-c", "1", "--pool", "solo",
         "--loglevel", "INFO", "-n", f"{queue}@%h"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue

    def stop() -> list[str]:
        worker.terminate()
        return worker.communicate(timeout=30)[0].splitlines()

    try:
        yield stop
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        if worker.poll() is None:
            stop()


def test_a_task_on_a_real_worker_logs_one_json_line_with_the_requesting_user(json_worker):
    from portfolio.celery import app

    token = log_context.set({"request_id": "req-0123456789", "user_id": 4242})  # as during a request
    try:
        result = app.signature(TASK).apply_async()
    finally:
        log_context.reset(token)
    result.get(timeout=90)

    lines = [json.loads(line) for line in json_worker() if line.startswith("{")]
    (line,) = [line for line in lines if line["logger"] == "cartera.tasks"]
    assert line["task"] == TASK and line["task_id"] == result.id and line["state"] == "SUCCESS"
    assert line["user_id"] == 4242 and line["request_id"] == "req-0123456789" and line["duration_ms"] >= 0
    assert not [line for line in lines if line["logger"] == "celery.app.trace"]  # no second "succeeded" line
