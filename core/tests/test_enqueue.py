"""core.tasks.enqueue: a task queued by its name, so that no service imports a tasks module."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import shared_task

from core.tasks import enqueue
from core.tests.test_faults import broker_down

BASE_DIR = Path(__file__).resolve().parents[2]
received: list[tuple] = []


@shared_task
def remember(*args) -> None:
    received.append(args)


def test_without_a_broker_a_task_queued_by_name_runs_in_this_process():
    received.clear()

    assert enqueue("core.tests.test_enqueue.remember", 7, "x") is True

    assert received == [(7, "x")]


@pytest.mark.django_db
def test_with_the_broker_down_the_task_waits_and_the_caller_carries_on(caplog):
    received.clear()

    with broker_down():
        assert enqueue("core.tests.test_enqueue.remember", 7) is False

    assert received == []
    assert "Broker unreachable, core.tests.test_enqueue.remember(7,) not queued yet" in caplog.text


def test_a_task_whose_module_this_process_never_imported_still_runs_in_process():
    """A web process imports the services, never the tasks modules (which import the services)."""
    script = (
        "import sys, django; django.setup()\n"
        "assert 'imports.tasks' not in sys.modules\n"
        "from core.tasks import _signature\n"
        "signature = _signature('imports.tasks.import_run', (1,))\n"
        "print(signature.type.name, type(signature.type).__name__)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portfolio.settings", "DEBUG": "true", "REDIS_URL": "",
           "CELERY_BROKER_URL": ""}
    done = subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["imports.tasks.import_run", "import_run"]
