"""A real worker process writes its task's JSON line with the ids of the request that queued it."""

import json

import pytest

from conftest import worker_process
from core.logs import log_context

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TASK = "exports.tasks.exports_recover"  # a cheap scheduled task: nothing to recover in the test database


@pytest.fixture
def json_worker():
    """A worker of its own on a queue of its own, logging JSON at INFO (conftest's logs WARNING only)."""
    options = ("-c", "1", "--pool", "solo", "--loglevel", "INFO")
    with worker_process(env={"LOG_FORMAT": "json"}, options=options) as (_queue, worker):

        def stop() -> list[str]:
            worker.terminate()
            return worker.communicate(timeout=30)[0].splitlines()

        yield stop


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
