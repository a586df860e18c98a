"""Queueing background work when the broker may be down, and the retry policy of scheduled work."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import import_module

from celery import Signature, Task, current_app
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Errors that a later attempt may not meet: the database, Redis or the broker briefly unreachable,
# a lock wait timed out. Anything else is a bug or bad data, and retrying it would only repeat it.
TRANSIENT_ERRORS = (
    DatabaseOperationalError, DatabaseInterfaceError, RedisConnectionError, RedisTimeoutError, OperationalError,
)


# What a broker (or its connection pool) raises when Redis is down or unreachable: kombu wraps most
# of it in its OperationalError, but not every path does.
QUEUE_UNREACHABLE = (OperationalError, RedisConnectionError, RedisTimeoutError, OSError)
# The tasks that could not be queued during this request (see queue_watch), or None outside one.
_unqueued: ContextVar[list[str] | None] = ContextVar("unqueued", default=None)


def enqueue(task_name: str, *args) -> bool:
    """Sends the task named `task_name` to the workers; False (logged) when the broker cannot be
    reached, so that the request carries on and the work waits to be queued again (a scheduled
    task retries it: imports_requeue, exports_recover, campaigns_requeue).

    Fire and forget: nobody waits for these results, so none is asked for. Asking for one made
    Celery subscribe to the task's result in Redis before sending it, and with Redis down that
    retried for about 19 s and then raised a RuntimeError (not the broker's error): a 500.
    The broker's own connection timeout and publish retry policy (settings) keep the rest short.

    By name, so that a service never imports a tasks module (the tasks import the services).
    Through a signature rather than `send_task`: without a broker (task_always_eager) it then runs
    in this process, as `.delay()` would.
    """
    try:
        _signature(task_name, args).apply_async(ignore_result=True)
    except QUEUE_UNREACHABLE as error:
        logger.warning("Broker unreachable, %s%r not queued yet: %s", task_name, args, error)
        unqueued = _unqueued.get()
        if unqueued is not None:
            unqueued.append(task_name)
        return False
    return True


@contextmanager
def queue_watch() -> Iterator[list[str]]:
    """The names of the tasks that `enqueue` could not queue inside the block (core.middleware
    tells the user their work waits)."""
    unqueued: list[str] = []
    token = _unqueued.set(unqueued)
    try:
        yield unqueued
    finally:
        _unqueued.reset(token)


def _signature(task_name: str, args: tuple) -> Signature:
    app = current_app
    if task_name not in app.tasks:
        # Celery imports every app's tasks.py only when a worker starts; a web process may not have
        # imported this one yet. Unregistered, the signature would go to the broker even in eager mode.
        import_module(task_name.rpartition(".")[0])
    return app.signature(task_name, args=args)


class RetriedTask(Task):
    """A scheduled task that retries itself on transient errors, a few times, further apart each time.

    In-process (task_always_eager) its failure is reported as a worker reports it: kept in its
    result and passed to its error callbacks, not raised at the caller. Otherwise
    CELERY_TASK_EAGER_PROPAGATES would skip the retries and the error callbacks, and stop a group
    at its first failing member, so the demo would not behave as production does.
    """

    autoretry_for = TRANSIENT_ERRORS
    max_retries = 3
    retry_backoff = 30  # about 30 s, 1 min, 2 min (full jitter): enough for a database failover
    retry_backoff_max = 600

    def apply(self, args=None, kwargs=None, *, throw=None, **options):
        return super().apply(args, kwargs, throw=False if throw is None else throw, **options)
