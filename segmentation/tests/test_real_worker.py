"""The nightly run on a real Celery worker process over Redis: the chunked lifecycle equals the
single run, and a failing step stops only what depends on it, its error callback freeing the lock."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation import nightly
from segmentation.engine import COMPUTED_COLUMNS
from segmentation.models import LifecycleState, NightlyRun, NightlyStep
from segmentation.services import lifecycle_recompute
from segmentation.tasks import nightly_recompute

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Step, State = NightlyStep.Name, NightlyStep.State


def snapshot() -> list[tuple]:
    return list(Client.objects.order_by("id").values_list("id", *COMPUTED_COLUMNS))


def build_portfolio(owner, clients: int) -> None:
    today = timezone.localdate()
    for index in range(clients):
        record = ClientFactory(owner=owner)
        for extra in range(index % 4):
            PurchaseFactory(client=record, date=today - dt.timedelta(days=(index * 37) % 500 + 25 * extra),
                            amount=Decimal(10 * index + extra))


@pytest.fixture
def same_lock_key(monkeypatch):
    """The worker names the Redis lock as this test process does (cache.make_key's prefix)."""
    monkeypatch.setenv("CACHE_KEY_PREFIX", settings.CACHES["default"]["KEY_PREFIX"])


@pytest.fixture
def worker(same_lock_key, worker_queue):
    return worker_queue


@pytest.fixture
def smtp_down(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtp://127.0.0.1:1")  # nothing listens on port 1


@pytest.fixture
def worker_without_mail(same_lock_key, smtp_down, worker_queue):
    """A worker whose SMTP server refuses connections: the morning summaries fail for good."""
    return worker_queue


def finished(run_id: int, seconds: float = 90) -> NightlyRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = NightlyRun.objects.get(pk=run_id)
        if run.finished_at is not None:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still running: {list(run.steps.values_list('name', 'state'))}")


def lock_is_free() -> bool:
    token = nightly.lock_acquire()
    return token is not None and nightly.lock_release(token)


def test_chunked_run_on_a_real_worker_equals_the_single_run(worker, owner, settings):
    build_portfolio(owner, clients=40)
    lifecycle_recompute(as_of=None)
    expected = snapshot()
    Client.objects.update(status="prospect", purchase_count=0, first_purchase_date=None, last_purchase_date=None,
                          volume_tier="", frequency_class="", r_score=None, f_score=None, m_score=None, rfm_segment="")
    LifecycleState.objects.all().delete()  # as on a first run: the night is a full one, in chunks
    settings.CELERY_TASK_ALWAYS_EAGER = False

    result = nightly_recompute.apply_async(kwargs={"chunk_size": 7}, queue=worker).get(timeout=60)

    assert result["chunks"] >= 5
    run = finished(result["run"])
    assert snapshot() == expected
    assert LifecycleState.objects.get().full_as_of == timezone.localdate()  # the next night starts from it
    assert run.state == NightlyRun.State.DONE
    assert dict(run.steps.values_list("name", "state")) == dict.fromkeys(Step.values, State.DONE)
    assert lock_is_free()  # nightly_finish freed it


def test_on_a_real_worker_a_failing_step_stops_nothing_else_and_its_error_callback_frees_the_lock(
    worker_without_mail, owner, settings,
):
    build_portfolio(owner, clients=12)
    settings.CELERY_TASK_ALWAYS_EAGER = False

    result = nightly_recompute.apply_async(kwargs={"chunk_size": 5}, queue=worker_without_mail).get(timeout=60)

    run = finished(result["run"])
    steps = {step.name: step for step in run.steps.all()}
    assert {name: step.state for name, step in steps.items()} == {
        Step.LIFECYCLE: State.DONE, Step.FOLLOWUPS_COLOURS: State.DONE, Step.SNAPSHOTS: State.DONE,
        Step.RECOMMENDATIONS: State.DONE, Step.SUMMARIES: State.FAILED,
    }
    assert "ConnectionRefusedError" in steps[Step.SUMMARIES].error
    assert run.state == NightlyRun.State.FAILED  # closed by nightly_failed, the chord's error callback
    assert lock_is_free()
