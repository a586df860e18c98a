"""Which database each read and write goes to (core.routers), and the pin after a write
(core.middleware). No database needed: the router only reads settings and connection state."""

import time

import pytest
from django.core import signing
from django.http import HttpResponse, StreamingHttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import RequestFactory

from clients.models import Client
from core.middleware import PIN_COOKIE, PrimaryPinMiddleware
from core.routers import ReplicaRouter, pinned_to_primary, replica_allowed, replica_reads, replica_view

REPLICA_DB = {"ENGINE": "django.db.backends.postgresql", "NAME": "replica", "TEST": {"MIRROR": None}}


@pytest.fixture
def router(settings):
    """A router whose replica alias is configured (it is never connected to here)."""
    from django.db import connections

    connections.settings["replica"] = {**connections.settings["default"], **REPLICA_DB}
    try:
        yield ReplicaRouter()
    finally:
        del connections.settings["replica"]


def test_reads_stay_on_the_primary_outside_a_replica_scope(router):
    assert router.db_for_read(Client) is None  # None: Django's default, "default"


def test_reads_in_a_replica_scope_go_to_the_replica(router):
    with replica_reads():
        assert router.db_for_read(Client) == "replica"
    assert router.db_for_read(Client) is None


def test_writes_always_go_to_the_primary(router):
    assert router.db_for_write(Client) == "default"
    with replica_reads():
        assert router.db_for_write(Client) == "default"


def test_a_scope_that_wrote_reads_the_primary_afterwards(router):
    with replica_reads():
        router.db_for_write(Client)
        assert router.db_for_read(Client) is None
    with replica_reads():  # a new scope starts clean
        assert router.db_for_read(Client) == "replica"


def test_a_pinned_request_reads_the_primary_even_in_a_replica_scope(router):
    with pinned_to_primary(), replica_reads():
        assert not replica_allowed()
        assert router.db_for_read(Client) is None


def test_a_disabled_scope_reads_the_primary(router):
    with replica_reads(), replica_reads(enabled=False):
        assert router.db_for_read(Client) is None


def test_reads_inside_a_transaction_stay_on_the_primary(router, monkeypatch):
    from django.db import connections

    monkeypatch.setattr(connections["default"], "in_atomic_block", True)
    with replica_reads():
        assert router.db_for_read(Client) is None


def test_without_a_replica_configured_nothing_moves():
    with replica_reads():
        assert ReplicaRouter().db_for_read(Client) is None


def test_the_replica_is_never_migrated(router):
    assert router.allow_migrate("replica", "clients") is False
    assert router.allow_migrate("default", "clients") is None


def test_a_test_mirror_reads_the_database_it_mirrors(router):
    from django.db import connections

    connections.settings["replica"]["TEST"] = {"MIRROR": "default"}
    with replica_reads():
        assert router.db_for_read(Client) == "default"


def test_replica_view_keeps_its_scope_while_rendering_and_streaming(router):
    seen = []

    def chunks():
        for _ in range(2):
            seen.append(router.db_for_read(Client))
            yield b"x"

    class Probe:
        def render(self, context=None, request=None):
            seen.append(router.db_for_read(Client))
            return ""

    def page(request):
        response = TemplateResponse(request, engines["django"].from_string(""))
        response.template_name = Probe()
        return response

    request = RequestFactory().get("/")
    replica_view(page)(request)
    streamed = replica_view(lambda request: StreamingHttpResponse(chunks()))(request)
    assert b"".join(streamed.streaming_content) == b"xx"
    assert seen == ["replica", "replica", "replica"]
    assert router.db_for_read(Client) is None  # nothing leaks out of the view


def test_replica_view_of_a_pinned_request_streams_from_the_primary(router):
    seen = []

    def chunks():
        seen.append(router.db_for_read(Client))
        yield b"x"

    with pinned_to_primary():
        streamed = replica_view(lambda request: StreamingHttpResponse(chunks()))(RequestFactory().get("/"))
    list(streamed.streaming_content)  # after the middleware's pin is gone
    assert seen == [None]


# --- The pin after a write -----------------------------------------------------------------------

def _through_middleware(request, status=200):
    observed = {}

    def view(request):
        observed["replica_allowed"] = replica_allowed()
        return HttpResponse(status=status)

    response = PrimaryPinMiddleware(view)(request)
    return response, observed["replica_allowed"]


def test_a_successful_write_pins_the_browser_to_the_primary(settings):
    settings.REPLICA_PIN_SECONDS = 10
    response, allowed = _through_middleware(RequestFactory().post("/clients/new/"))
    assert not allowed  # the write's own reads
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 10 and cookie["httponly"]
    follow = RequestFactory().get("/clients/")
    follow.COOKIES[PIN_COOKIE] = cookie.value
    assert _through_middleware(follow)[1] is False  # the redirect's page reads the primary


def test_a_pin_ends_after_its_seconds(settings, monkeypatch):
    settings.REPLICA_PIN_SECONDS = 10
    response, _ = _through_middleware(RequestFactory().post("/clients/new/"))
    later = time.time() + 11
    monkeypatch.setattr(signing.time, "time", lambda: later)  # the signer's clock, 11 s on
    follow = RequestFactory().get("/clients/")
    follow.COOKIES[PIN_COOKIE] = response.cookies[PIN_COOKIE].value
    assert _through_middleware(follow)[1] is True


def test_a_refused_write_or_a_read_sets_no_pin():
    assert PIN_COOKIE not in _through_middleware(RequestFactory().post("/clients/new/"), status=400)[0].cookies
    response, allowed = _through_middleware(RequestFactory().get("/clients/"))
    assert allowed and PIN_COOKIE not in response.cookies


def test_a_forged_pin_cookie_is_ignored():
    request = RequestFactory().get("/clients/")
    request.COOKIES[PIN_COOKIE] = "1:forged:signature"
    assert _through_middleware(request)[1] is True
