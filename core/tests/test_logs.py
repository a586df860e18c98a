"""Structured logs: one JSON line per request and per background task, with the user's id and never
their personal data; Sentry only when SENTRY_DSN is set."""

import json
import logging
from unittest import mock

import pytest
import sentry_sdk
from celery import current_app
from django.conf import settings
from django.urls import reverse
from sentry_sdk.transport import Transport

from clients.tests.factories import ClientFactory
from clients.views import ClientListView
from core.logs import ContextFilter, JsonFormatter, _before_task_publish, init_sentry, log_context

pytestmark = pytest.mark.django_db


def lines(caplog, logger: str) -> list[dict]:
    """The records of `logger`, as the production handler writes them (context filter, JSON)."""
    records = [record for record in caplog.records if record.name == logger]
    for record in records:
        ContextFilter().filter(record)
    return [json.loads(JsonFormatter().format(record)) for record in records]


@pytest.fixture
def requests_log(caplog):
    caplog.set_level(logging.INFO, logger="cartera.requests")
    return caplog


@pytest.fixture
def owner(owner):
    owner.email = "ana.comercial@example.com"
    owner.save(update_fields=["email"])
    return owner


def test_a_request_writes_one_json_line_with_the_user_id_and_no_personal_data(client, owner, requests_log):
    person = ClientFactory(owner=owner, first_name="Zoë", last_name="Quintanilla", email="zoe.q@example.com")
    client.force_login(owner)

    response = client.get(reverse("clients:client_list"), {"q": "Quintanilla"})  # a search for a client's name

    assert response.status_code == 200
    (line,) = lines(requests_log, "cartera.requests")
    assert line["user_id"] == owner.pk
    assert line["method"] == "GET" and line["path"] == "/clients/" and line["route"] == "clients/"
    assert line["status"] == 200 and line["duration_ms"] > 0 and line["level"] == "INFO"
    assert line["request_id"] == response["X-Request-ID"] and len(line["request_id"]) == 32
    text = json.dumps(line, ensure_ascii=False)
    for personal in (person.first_name, person.last_name, person.email, owner.username, owner.email, "q="):
        assert personal not in text


def test_an_anonymous_request_has_no_user_id_and_a_proxy_request_id_is_kept(client, db, requests_log):
    response = client.get(reverse("login"), HTTP_X_REQUEST_ID="nginx-4f2a9c1e")

    (line,) = lines(requests_log, "cartera.requests")
    assert line["user_id"] is None and line["status"] == 200
    assert line["request_id"] == "nginx-4f2a9c1e" == response["X-Request-ID"]


def test_a_request_id_that_could_forge_a_log_line_is_replaced(client, db, requests_log):
    client.get(reverse("login"), HTTP_X_REQUEST_ID='x" , "user_id": 1')

    (line,) = lines(requests_log, "cartera.requests")
    assert '"' not in line["request_id"] and len(line["request_id"]) == 32


def test_a_token_in_the_path_is_masked(client, db, requests_log):
    token = "secret-token-AbCdEf123456"

    client.get(reverse("campaigns:unsubscribe", args=[token]))

    (line,) = lines(requests_log, "cartera.requests")
    assert line["path"] == "/campaigns/unsubscribe/[masked]/" and line["route"] == "campaigns/unsubscribe/<str:token>/"
    assert token not in json.dumps(line)


def test_what_a_view_logs_carries_the_request_and_user_ids(client, owner, caplog):
    caplog.set_level(logging.INFO)
    client.force_login(owner)

    def get_queryset(view):
        logging.getLogger("clients.views").warning("slow list")
        return original(view)

    original = ClientListView.get_queryset
    with mock.patch.object(ClientListView, "get_queryset", get_queryset):
        response = client.get(reverse("clients:client_list"))

    (line,) = lines(caplog, "clients.views")
    assert line["message"] == "slow list" and line["user_id"] == owner.pk
    assert line["request_id"] == response["X-Request-ID"]


# --- Tasks ---------------------------------------------------------------------------------------


@current_app.task(name="core.tests.test_logs.probe")
def probe(fail: bool = False) -> str:
    if fail:
        raise LookupError("zoe.q@example.com not found")  # a message may hold data: the line has the class only
    logging.getLogger("core.tests").info("inside the task")
    return "zoe.q@example.com"


@pytest.fixture
def tasks_log(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def test_a_task_writes_one_json_line_with_its_name_state_and_duration(tasks_log):
    token = log_context.set({"request_id": "req-12345678", "user_id": 42})  # queued during a request
    try:
        result = probe.apply()
    finally:
        log_context.reset(token)

    (line,) = lines(tasks_log, "cartera.tasks")
    assert line["task"] == "core.tests.test_logs.probe" and line["task_id"] == result.id
    assert line["state"] == "SUCCESS" and line["duration_ms"] >= 0
    assert line["user_id"] == 42 and line["request_id"] == "req-12345678"
    assert "zoe.q@example.com" not in json.dumps(line)  # not its return value
    (inside,) = lines(tasks_log, "core.tests")
    assert inside["task_id"] == result.id and inside["user_id"] == 42


def test_a_failed_task_writes_its_state_and_error_class_only(tasks_log):
    with pytest.raises(LookupError):
        probe.apply(kwargs={"fail": True})

    (line,) = lines(tasks_log, "cartera.tasks")
    assert line["state"] == "FAILURE" and line["error"] == "LookupError" and line["level"] == "WARNING"
    assert "zoe.q@example.com" not in json.dumps(line)
    assert log_context.get() is None  # the task's context is gone after it


def test_a_task_queued_during_a_request_carries_its_ids_to_the_worker():
    headers: dict = {}
    token = log_context.set({"request_id": "req-12345678", "user_id": 7})
    try:
        _before_task_publish(headers=headers)
    finally:
        log_context.reset(token)

    assert headers == {"cartera_request_id": "req-12345678", "cartera_user_id": 7}


# --- Format ----------------------------------------------------------------------------------------


def test_the_json_formatter_keeps_one_line_with_the_traceback_and_non_ascii():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "año %s", ("ñ",), None)
        record.exc_info = __import__("sys").exc_info()

    output = JsonFormatter().format(record)

    assert "\n" not in output
    entry = json.loads(output)
    assert entry["message"] == "año ñ" and "ValueError: boom" in entry["exception"]
    assert entry["time"].endswith("Z")


def test_text_logs_with_debug_json_otherwise():
    assert settings.LOG_FORMAT == "text"  # the suite's settings have DEBUG on (pytest-django turns it off after)
    assert settings.LOGGING["formatters"]["json"] == {"()": "core.logs.JsonFormatter"}
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["context"]


# --- Sentry ----------------------------------------------------------------------------------------


class RecordingTransport(Transport):
    """sentry_sdk's own tests' pattern: keep the envelopes instead of sending them."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope) -> None:
        self.envelopes.append(envelope)


def test_without_a_dsn_sentry_is_not_initialised():
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()
    assert init_sentry(dsn="", environment="production") is False
    assert not sentry_sdk.get_client().is_active()


@pytest.fixture
def sentry():
    transport = RecordingTransport()
    assert init_sentry(
        dsn="https://public@sentry.example.com/1", environment="staging", release="cartera@1.2.3", transport=transport,
    )
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)  # back to no client for the rest of the suite


def test_with_a_dsn_an_error_in_a_request_is_reported_without_personal_data(client, owner, sentry):
    client.raise_request_exception = False
    client.force_login(owner)

    with mock.patch.object(ClientListView, "get_queryset", side_effect=RuntimeError("list broke")):
        response = client.get(reverse("clients:client_list"), {"q": "Quintanilla"})

    assert response.status_code == 500
    collected = sentry_sdk.get_client().options["data_collection"]
    assert not sentry_sdk.get_client().should_send_default_pii()
    assert collected["user_info"] is False and collected["stack_frame_variables"] is False
    assert {"django", "celery"} <= set(sentry_sdk.get_client().integrations)
    events = [item.payload.json for envelope in sentry.envelopes for item in envelope.items if item.type == "event"]
    (event,) = events
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["environment"] == "staging" and event["release"] == "cartera@1.2.3"
    text = json.dumps(event)
    assert "Quintanilla" not in text  # the search
    assert owner.username not in text and owner.email not in text and "sessionid" not in text
    assert "user" not in event or "email" not in event["user"]
