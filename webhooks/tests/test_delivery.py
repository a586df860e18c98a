"""Sending: a real receiver gets the signed JSON; retries with backoff; pausing after K failures."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from clients.tests.factories import ClientFactory
from segmentation.records import purchase_record
from webhooks import services, transport
from webhooks.models import TEST_EVENT, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


def make_endpoint(admin_user, url: str, events=(Event.PURCHASE_RECORDED,)) -> Endpoint:
    return services.endpoint_create(by=admin_user, url=url, events=list(events))


def record_purchase(client, amount="120.00"):
    return purchase_record(client=client, by=client.owner, date=timezone.localdate(), amount=Decimal(amount))


def test_a_purchase_reaches_the_receiver_signed_with_the_endpoints_secret(
    admin_user, owner, receiver, django_capture_on_commit_callbacks,
):
    endpoint = make_endpoint(admin_user, receiver.url)
    client = ClientFactory(owner=owner, client_ref="ERP-7")

    with django_capture_on_commit_callbacks(execute=True):
        purchase = record_purchase(client)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hooks/cartera"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Cartera-Event"] == "purchase.recorded"
    assert transport.signature_valid(endpoint.secret, request.body, request.headers["Cartera-Signature"])
    assert not transport.signature_valid("whsec_other", request.body, request.headers["Cartera-Signature"])
    assert not transport.signature_valid(endpoint.secret, request.body + b" ", request.headers["Cartera-Signature"])
    body = json.loads(request.body)
    delivery = Delivery.objects.get()
    assert body["id"] == delivery.pk and request.headers["Cartera-Delivery"] == str(delivery.pk)
    assert body["event"] == "purchase.recorded"
    assert body["data"]["purchase"]["id"] == purchase.pk
    assert body["data"]["purchase"]["amount"] == "120.00"
    assert body["data"]["client"] == {"id": client.pk, "ref": "ERP-7"}
    assert delivery.state == Delivery.State.DELIVERED and delivery.last_status_code == 200
    assert delivery.attempts == 1 and delivery.responses[0]["code"] == 200


def test_the_signature_is_hmac_sha256_of_the_timestamp_a_dot_and_the_body():
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_x", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest()
    assert transport.signature("whsec_x", b'{"a":1}', 1700000000) == f"t=1700000000,v1={expected}"
    # A receiver refuses a signature too old (a replay).
    assert not transport.signature_valid("whsec_x", b'{"a":1}', f"t=1700000000,v1={expected}", now=1700000000 + 301)


def test_a_rolled_back_purchase_leaves_no_delivery_and_sends_nothing(
    admin_user, owner, receiver, django_capture_on_commit_callbacks,
):
    make_endpoint(admin_user, receiver.url)
    client = ClientFactory(owner=owner)

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                record_purchase(client)
                raise RuntimeError("something after the purchase failed")
        except RuntimeError:
            pass

    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_nobody_subscribed_no_delivery(admin_user, owner, receiver, django_capture_on_commit_callbacks):
    make_endpoint(admin_user, receiver.url, events=[Event.SURVEY_ANSWERED])
    with django_capture_on_commit_callbacks(execute=True):
        record_purchase(ClientFactory(owner=owner))
    assert not Delivery.objects.exists()


def _due_now(delivery: Delivery) -> None:
    """The time of its next attempt has come (instead of waiting for it)."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def test_a_failed_delivery_is_retried_after_1_5_25_minutes_and_delivered_when_answered(
    admin_user, owner, receiver, django_capture_on_commit_callbacks,
):
    make_endpoint(admin_user, receiver.url)
    receiver.answers = [500, 503, 404]
    with django_capture_on_commit_callbacks(execute=True):
        record_purchase(ClientFactory(owner=owner))
    delivery = Delivery.objects.get()
    waits = []
    for _attempt in range(3):
        delivery.refresh_from_db()
        if delivery.state != Delivery.State.PENDING or delivery.attempts == 0:
            break
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 60))
        _due_now(delivery)
        assert services.deliveries_due() == [delivery.pk]
        services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()

    assert waits == [1, 5, 25]
    assert [response["code"] for response in delivery.responses] == [500, 503, 404, 200]
    assert delivery.state == Delivery.State.DELIVERED and delivery.attempts == 4 and delivery.last_status_code == 200
    assert Endpoint.objects.get().consecutive_failures == 0
    # Delivered: nothing is due any more, a second attempt does nothing.
    assert services.deliveries_due() == [] and services.delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 4
    assert len({request.body for request in receiver.requests}) == 1  # the same body every time


def test_a_delivery_fails_for_good_after_its_last_attempt(admin_user, owner, receiver, django_capture_on_commit_callbacks):
    make_endpoint(admin_user, receiver.url)
    receiver.answers = [500] * services.MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        record_purchase(ClientFactory(owner=owner))
    delivery = Delivery.objects.get()
    for _attempt in range(services.MAX_ATTEMPTS - 1):
        _due_now(delivery)
        services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()

    assert delivery.state == Delivery.State.FAILED and delivery.attempts == services.MAX_ATTEMPTS
    assert delivery.next_attempt_at is None
    assert services.backoff(5) == dt.timedelta(minutes=625)


def test_an_endpoint_failing_k_times_in_a_row_is_paused_and_the_administradores_told(
    admin_user, owner, receiver, django_capture_on_commit_callbacks,
):
    admin_user.email = "admin@example.com"
    admin_user.save()
    endpoint = make_endpoint(admin_user, receiver.url)
    receiver.answers = [500] * services.PAUSE_AFTER
    client = ClientFactory(owner=owner)
    for _purchase in range(services.PAUSE_AFTER):
        with django_capture_on_commit_callbacks(execute=True):
            record_purchase(client, amount="10.00")
    endpoint.refresh_from_db()

    assert endpoint.state == Endpoint.State.PAUSED and endpoint.paused_reason == Endpoint.PausedReason.FAILING
    assert endpoint.consecutive_failures == services.PAUSE_AFTER
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@example.com"] and receiver.url in mail.outbox[0].body
    # Paused: a new purchase writes no delivery, the waiting ones are not sent.
    with django_capture_on_commit_callbacks(execute=True):
        record_purchase(client, amount="10.00")
    assert Delivery.objects.count() == services.PAUSE_AFTER
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert services.deliveries_due() == []

    # Resumed: what waited goes now, and is answered.
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_resume(endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0
    assert Delivery.objects.filter(state=Delivery.State.DELIVERED).count() == services.PAUSE_AFTER
    assert len(mail.outbox) == 1


def test_a_test_event_is_sent_once_to_a_paused_endpoint_and_does_not_count(
    admin_user, receiver, django_capture_on_commit_callbacks,
):
    endpoint = make_endpoint(admin_user, receiver.url)
    services.endpoint_pause(endpoint=endpoint)
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_test_send(endpoint=endpoint, by=admin_user)
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.event == TEST_EVENT and delivery.state == Delivery.State.FAILED and delivery.last_status_code == 500
    assert endpoint.consecutive_failures == 0
    assert json.loads(receiver.requests[0].body)["event"] == TEST_EVENT


def test_a_redirect_is_not_followed_and_counts_as_a_failure(admin_user, receiver, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(admin_user, receiver.url)
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.endpoint_test_send(endpoint=endpoint, by=admin_user)
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302 and delivery.state == Delivery.State.FAILED
    assert len(receiver.requests) == 1


@override_settings(WEBHOOKS_ALLOW_PRIVATE=False)
@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.5/x", "http://192.168.1.1/x", "http://169.254.169.254/x",
    "http://[::1]/x", "ftp://example.com/x",
])
def test_private_and_loopback_addresses_are_refused_unless_allowed(url):
    outcome = transport.post(url, b"{}", {})
    assert outcome.status is None and outcome.error.startswith("refused")


@override_settings(WEBHOOKS_ALLOW_PRIVATE=False)
def test_the_receiver_on_loopback_gets_nothing_when_private_addresses_are_refused(admin_user, receiver):
    endpoint = Endpoint.objects.create(url=receiver.url, events=[Event.PURCHASE_RECORDED])
    delivery = Delivery.objects.create(endpoint=endpoint, event=TEST_EVENT, created_at=timezone.now(), next_attempt_at=timezone.now())
    services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.last_error.startswith("refused")


def test_an_unreachable_endpoint_is_an_error_not_an_exception():
    outcome = transport.post("http://127.0.0.1:9/x", b"{}", {})  # nothing listens on the discard port
    assert outcome.status is None and outcome.error and not outcome.ok


def test_the_due_deliveries_are_sent_in_batches_and_a_second_run_sends_nothing(
    admin_user, receiver, monkeypatch,
):
    from webhooks import tasks

    monkeypatch.setattr(services, "SEND_BATCH", 3)
    endpoint = Endpoint.objects.create(url=receiver.url, events=[Event.PURCHASE_RECORDED])
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(endpoint=endpoint, event=Event.PURCHASE_RECORDED, payload={"n": n}, created_at=now, next_attempt_at=now)
        for n in range(7)
    )

    assert tasks.deliveries_send_due() == 7
    assert tasks.deliveries_send_due() == 0
    assert sorted(json.loads(request.body)["data"]["n"] for request in receiver.requests) == list(range(7))
    assert Delivery.objects.filter(state=Delivery.State.DELIVERED).count() == 7


def test_a_bulk_write_emits_its_rows_at_once_in_one_insert(admin_user, receiver, django_assert_num_queries,
                                                            django_capture_on_commit_callbacks):
    from core import events

    make_endpoint(admin_user, receiver.url)
    make_endpoint(admin_user, receiver.url + "/2")
    items = [{"purchase": {"id": n}} for n in range(30)]
    services.subscribers()  # warm, as after the first write
    # The active endpoints, then one INSERT of the 60 deliveries.
    with django_assert_num_queries(2), django_capture_on_commit_callbacks(execute=False):
        events.emit_many(events.PURCHASE_RECORDED, items)
    assert Delivery.objects.filter(event=Event.PURCHASE_RECORDED).count() == 60


def test_ended_deliveries_are_forgotten_after_30_days_and_pending_ones_kept():
    from webhooks import tasks

    endpoint = Endpoint.objects.create(url="https://erp.example.com/hooks", events=[Event.PURCHASE_RECORDED])
    old, recent = timezone.now() - dt.timedelta(days=31), timezone.now() - dt.timedelta(days=29)
    for created, state in [(old, "delivered"), (old, "failed"), (old, "pending"), (recent, "delivered")]:
        Delivery.objects.create(endpoint=endpoint, event=Event.PURCHASE_RECORDED, created_at=created, state=state)

    assert tasks.deliveries_purge() == 2
    assert tasks.deliveries_purge() == 0
    assert sorted(Delivery.objects.values_list("state", flat=True)) == ["delivered", "pending"]


def test_an_https_endpoint_must_show_a_valid_certificate(tmp_path):
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        outcome = transport.post(f"https://localhost:{server.server_address[1]}/hook", b"{}", {})
    finally:
        thread.join(5)
        server.server_close()

    assert outcome.status is None and "CERTIFICATE_VERIFY_FAILED" in outcome.error
    assert received == []
