"""Logs a machine reads: one JSON object per line (LOG_FORMAT=json), one line per request
(core.middleware.RequestLogMiddleware) and one per background task (the Celery signals below), each
with the user's id and never their personal data; and Sentry when SENTRY_DSN is set.

The formatter is our own rather than python-json-logger: twenty lines of the standard library that
write exactly the fields below, one dependency fewer to pin and audit.

What a line may hold: ids (user, request, task, client…), method, route, status, durations, names of
tasks and exception classes. Never a name, e-mail, phone, query string or token: a search for a
client's name travels in the query string, so a request line leaves the query string out, and the
segments of a path that carry a token (unsubscribe, survey, calendar feed, password reset) are masked.
"""

import json
import logging
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The fields every line logged during a request or a task carries (request_id, user_id, task_id…).
# A request keeps its HttpRequest under "_request": the user is read from it once authenticated.
log_context: ContextVar[dict[str, Any] | None] = ContextVar("cartera_log_context", default=None)

# The attributes every LogRecord has: anything else on a record came through `extra=` or the filter.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

task_logger = logging.getLogger("cartera.tasks")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items()
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ContextFilter(logging.Filter):
    """Gives every record logged inside a request or a task that request's or task's ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = log_context.get()
        if context:
            for key, value in context.items():
                if not key.startswith("_") and not hasattr(record, key):
                    setattr(record, key, value)
            request = context.get("_request")
            if request is not None and not hasattr(record, "user_id"):
                record.user_id = request_user_id(request)
        return True


def request_user_id(request) -> int | None:
    """The signed-in user's id, if the request already looked the user up: never a query of its own
    (the pages' query counts stay what their tests say)."""
    user = getattr(request, "_cached_user", None)  # set by django.contrib.auth's lazy request.user
    return user.pk if user is not None and user.is_authenticated else None


# --- Background tasks: one line each -----------------------------------------------------------------

_started: dict[str, tuple[float, object]] = {}  # task id -> (start, the log context token to reset)
_failures: dict[str, str] = {}  # task id -> the exception's class name


def _task_prerun(task_id: str, task, **kwargs) -> None:
    outer = log_context.get() or {}  # an in-process (eager) task runs inside its request
    headers = getattr(task.request, "headers", None) or {}
    context = {
        "task": task.name, "task_id": task_id,
        "request_id": _header(task, headers, "cartera_request_id") or outer.get("request_id"),
        "user_id": _header(task, headers, "cartera_user_id") or outer.get("user_id") or (
            request_user_id(outer["_request"]) if outer.get("_request") is not None else None
        ),
    }
    _started[task_id] = (time.perf_counter(), log_context.set(context))


def _task_failure(task_id: str, exception: BaseException, **kwargs) -> None:
    _failures[task_id] = type(exception).__name__


def _task_postrun(task_id: str, task, state: str | None = None, **kwargs) -> None:
    started, token = _started.pop(task_id, (None, None))
    context = log_context.get() or {}
    fields = {
        "task": task.name, "task_id": task_id, "state": state,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        "user_id": context.get("user_id"), "request_id": context.get("request_id"),
    }
    error = _failures.pop(task_id, None)
    if state is None:  # raised through its caller (in-process with CELERY_TASK_EAGER_PROPAGATES): no failure signal
        raised = sys.exc_info()[1]
        fields["state"], error = ("FAILURE", type(raised).__name__) if raised else (state, error)
    if error:
        fields["error"] = error
    task_logger.log(
        logging.WARNING if fields["state"] == "FAILURE" else logging.INFO, "task %s %s", task.name, fields["state"],
        extra=fields,
    )
    if token is not None:
        try:
            log_context.reset(token)
        except ValueError:  # set in another context (cannot happen with Celery's pools; never fail a task for it)
            log_context.set(None)


def _before_task_publish(headers: dict | None = None, **kwargs) -> None:
    """A task queued during a request carries the request's and user's ids to the worker."""
    context = log_context.get()
    if not context or headers is None:
        return
    user_id = context.get("user_id")
    if user_id is None and context.get("_request") is not None:
        user_id = request_user_id(context["_request"])
    headers.setdefault("cartera_request_id", context.get("request_id"))
    headers.setdefault("cartera_user_id", user_id)


def _header(task, headers: dict, name: str) -> Any:
    # Celery puts a message's custom headers on task.request (and, in some versions, in its .headers).
    return getattr(task.request, name, None) or headers.get(name)


def connect_task_logs() -> None:
    from celery import signals

    signals.before_task_publish.connect(_before_task_publish, weak=False, dispatch_uid="cartera-log-publish")
    signals.task_prerun.connect(_task_prerun, weak=False, dispatch_uid="cartera-log-prerun")
    signals.task_failure.connect(_task_failure, weak=False, dispatch_uid="cartera-log-failure")
    signals.task_postrun.connect(_task_postrun, weak=False, dispatch_uid="cartera-log-postrun")


# --- Sentry ----------------------------------------------------------------------------------------------


# What Sentry may collect with an error: the exception, its stack (without local variables), the
# route, the method and the harmless headers (user agent…); nothing that identifies a user or a client.
PRIVATE_DATA_COLLECTION = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
    "graphql": {"document": False, "variables": False},
    "gen_ai": {"inputs": False, "outputs": False},
}


def init_sentry(*, dsn: str, environment: str, release: str = "", traces_sample_rate: float = 0.0, **options) -> bool:
    """Reports errors (Django requests and Celery tasks) to Sentry when a DSN is given; without one
    the SDK is not even initialised, so nothing can be sent.

    Never personal data. sentry-sdk 2.75 deprecates `send_default_pii` (a warning at start) for
    `data_collection`, which is also finer: besides the user's identity (off, as with
    send_default_pii=False) it turns off what send_default_pii=False still sent and that holds our
    clients' data here: request bodies (client forms), query strings (searches by name), the
    stack frames' local variables (a Client in a view), SQL parameters and task arguments.
    """
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        data_collection=PRIVATE_DATA_COLLECTION,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        **options,  # the tests' recording transport
    )
    return True
