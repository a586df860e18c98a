"""With Redis, a delivery leaves through a real Celery worker process after the commit."""

import json
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.tests.factories import ClientFactory
from conftest import worker_process
from segmentation.records import purchase_record
from webhooks import services, transport
from webhooks.models import Delivery, Event

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_purchase_is_delivered_by_a_worker_after_the_commit(admin_user, owner, receiver):
    endpoint = services.endpoint_create(by=admin_user, url=receiver.url, events=[Event.PURCHASE_RECORDED])
    client = ClientFactory(owner=owner)
    with worker_process(env={"WEBHOOKS_ALLOW_PRIVATE": "true"}, options=("-c", "1", "--pool", "solo", "--loglevel", "WARNING")):
        purchase = purchase_record(client=client, by=owner, date=timezone.localdate(), amount=Decimal("75.00"))
        deadline = time.monotonic() + 60
        while Delivery.objects.get().state != Delivery.State.DELIVERED and time.monotonic() < deadline:
            time.sleep(0.2)

    [request] = receiver.requests
    assert transport.signature_valid(endpoint.secret, request.body, request.headers["Cartera-Signature"])
    assert json.loads(request.body)["data"]["purchase"]["id"] == purchase.pk
    assert Delivery.objects.get().last_status_code == 200
