"""The nightly run's lock and its records (the steps themselves are in each app's tasks.py).

The lock: one lifecycle recompute of every client at a time, whoever starts it (beat, a second
beat, `manage.py recompute_lifecycle`), otherwise every status change would be recorded twice.
It is atomic: with Redis, redis-py's Lock (SET NX PX, released by a script that compares the
token); without it, a RunLock row taken by one conditional UPDATE (`expires_at <= now`), which
the database serialises. Only the holder's token frees it; a run whose worker died frees it by
expiring after LOCK_SECONDS.

The records: a NightlyRun per run, a NightlyStep per step created "waiting" when the run starts,
then written by the step's task through `step_recorded` (start, attempts, duration, rows changed,
error). `run_close` ends the run: the steps never reached become "not run", the lock is freed.
"""

import datetime as dt
import logging
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone
from redis.exceptions import LockError

from core.tasks import TRANSIENT_ERRORS
from segmentation.models import NightlyRun, NightlyStep, RunLock

logger = logging.getLogger(__name__)

LOCK_KEY = "segmentation:nightly-recompute"
# Longer than any run; a run whose worker was killed frees the lock by itself the next night.
LOCK_SECONDS = 6 * 3600
ERROR_CHARS = 4_000  # enough for the message and the last frames

Step, State = NightlyStep.Name, NightlyStep.State


class LockHeld(Exception):
    """Another lifecycle recompute holds the lock."""


# --- The lock ---------------------------------------------------------------------------------

def _redis_lock():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    # Named like a cache key, so that test processes and installations sharing a Redis stay apart.
    return client.lock(cache.make_key(LOCK_KEY), timeout=LOCK_SECONDS, blocking=False, thread_local=False)


def lock_acquire() -> str | None:
    """Takes the lock; its token, or None when someone else holds it."""
    token = uuid.uuid4().hex
    if settings.REDIS_URL:
        return token if _redis_lock().acquire(token=token) else None
    now = timezone.now()
    RunLock.objects.bulk_create([RunLock(name=LOCK_KEY, expires_at=now)], ignore_conflicts=True)
    taken = RunLock.objects.filter(name=LOCK_KEY, expires_at__lte=now).update(
        token=token, expires_at=now + dt.timedelta(seconds=LOCK_SECONDS)
    )
    return token if taken else None


def lock_release(token: str) -> bool:
    """Frees the lock if `token` still holds it (a late callback must not free a newer run's lock)."""
    if settings.REDIS_URL:
        lock = _redis_lock()
        lock.local.token = lock.redis.get_encoder().encode(token)
        try:
            lock.release()
        except LockError:
            return False
        return True
    return bool(RunLock.objects.filter(name=LOCK_KEY, token=token).update(token="", expires_at=timezone.now()))


@contextmanager
def lock_held() -> Iterator[str]:
    """The lock for a run in this process (the management command); LockHeld when it is taken."""
    token = lock_acquire()
    if token is None:
        raise LockHeld
    try:
        yield token
    finally:
        lock_release(token)


# --- The records ------------------------------------------------------------------------------

def run_start(*, as_of: dt.date) -> NightlyRun:
    """A new run, its steps waiting. Called with the lock held: a run still open is one whose
    worker died (its lock expired), so it is closed as failed first."""
    _runs_interrupted_close()
    run = NightlyRun.objects.create(as_of=as_of)
    NightlyStep.objects.bulk_create([NightlyStep(run=run, name=name) for name in Step.values])
    return run


def _runs_interrupted_close() -> None:
    open_runs = NightlyRun.objects.filter(finished_at__isnull=True)
    steps = NightlyStep.objects.filter(run__in=open_runs)
    steps.filter(state__in=[State.RUNNING, State.RETRYING]).update(
        state=State.FAILED, error="Interrupted: the worker running this step stopped before it ended.",
    )
    steps.filter(state=State.PENDING).update(state=State.SKIPPED)
    open_runs.update(state=NightlyRun.State.FAILED, finished_at=timezone.now())


def step_started(run_id: int, name: str) -> None:
    NightlyStep.objects.filter(run_id=run_id, name=name).update(
        state=State.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, error="",
    )


def step_finished(run_id: int, name: str, *, rows: int | None, detail: dict, seconds: float | None = None) -> None:
    steps = NightlyStep.objects.filter(run_id=run_id, name=name)
    if seconds is None:  # started by another task (the chunks' launcher): from the recorded start
        started = steps.values_list("started_at", flat=True).first()
        seconds = (timezone.now() - started).total_seconds() if started else 0.0
    steps.update(state=State.DONE, duration=dt.timedelta(seconds=seconds), rows_changed=rows, detail=detail)


def _error_text(error: BaseException) -> str:
    text = "".join(traceback.format_exception_only(error)).strip()
    frames = "".join(traceback.format_tb(error.__traceback__, limit=-3)) if error.__traceback__ else ""
    return (text + ("\n" + frames if frames else ""))[:ERROR_CHARS]


def _step_failed(run_id: int, name: str, error: BaseException, *, retrying: bool, seconds: float) -> None:
    try:
        NightlyStep.objects.filter(run_id=run_id, name=name).update(
            state=State.RETRYING if retrying else State.FAILED, error=_error_text(error),
            duration=dt.timedelta(seconds=seconds),
        )
    except DatabaseError:  # the database itself is what failed: the log has it
        logger.exception("Could not record the failure of step %s of nightly run %s", name, run_id)


@dataclass
class StepOutcome:
    """What a step's task tells its record: the rows it changed and its service's figures."""

    rows: int | None = None
    detail: dict = field(default_factory=dict)


@contextmanager
def step_recorded(task, run_id: int, name: str) -> Iterator[StepOutcome]:
    """Records one attempt of a step run by `task` (bound): running, then done with its rows and
    duration, or "retrying" (a transient error with retries left) or failed, with its error."""
    step_started(run_id, name)
    outcome = StepOutcome()
    started = time.monotonic()
    try:
        yield outcome
    except Exception as error:
        retrying = isinstance(error, TRANSIENT_ERRORS) and task.request.retries < task.max_retries
        logger.log(logging.WARNING if retrying else logging.ERROR, "Nightly run %s, step %s %s: %s",
                   run_id, name, "will be retried" if retrying else "failed", error, exc_info=not retrying)
        _step_failed(run_id, name, error, retrying=retrying, seconds=time.monotonic() - started)
        raise
    step_finished(run_id, name, rows=outcome.rows, detail=outcome.detail, seconds=time.monotonic() - started)


def run_close(run_id: int, token: str, *, error: BaseException | None = None) -> str:
    """Ends the run once (done, or failed if a step failed) and frees the lock.

    `error`: the run stops here (an error callback, or the launcher itself failed); a step still
    marked running is the one that failed with it (the chunks of the lifecycle run by other tasks).
    """
    steps = NightlyStep.objects.filter(run_id=run_id)
    if error is not None:
        steps.filter(state__in=[State.RUNNING, State.RETRYING]).update(state=State.FAILED, error=_error_text(error))
    steps.filter(state=State.PENDING).update(state=State.SKIPPED)
    failed = error is not None or steps.filter(state=State.FAILED).exists()
    state = NightlyRun.State.FAILED if failed else NightlyRun.State.DONE
    NightlyRun.objects.filter(pk=run_id, finished_at__isnull=True).update(state=state, finished_at=timezone.now())
    lock_release(token)
    logger.info("Nightly run %s ended: %s", run_id, state)
    return state
