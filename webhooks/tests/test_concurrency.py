"""The status changes' cursor never passes a change committed late (PostgreSQL takes ids before the
commit: a change with a lower id can become visible after one with a higher id)."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from clients.models import Status
from clients.tests.factories import ClientFactory
from segmentation.models import StatusChange
from webhooks import services
from webhooks.models import Delivery, Event, ScanState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite commits one writer at a time")
def test_the_scan_waits_for_a_status_change_still_being_written(admin_user, owner, receiver):
    services.endpoint_create(by=admin_user, url=receiver.url, events=[Event.CLIENT_STATUS_CHANGED])
    services.scan(kinds=["status"])
    early, late = ClientFactory(owner=owner), ClientFactory(owner=owner)
    written, release = threading.Event(), threading.Event()

    def slow_write():
        try:
            with transaction.atomic():
                StatusChange.objects.create(client=early, to_status=Status.NEW, date=timezone.localdate())
                written.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_write)
    writer.start()
    assert written.wait(10)
    StatusChange.objects.create(client=late, to_status=Status.NEW, date=timezone.localdate())  # a higher id, committed first

    assert services.scan(kinds=["status"]) == {"status": 0}  # postponed: a change is still being written
    cursor = ScanState.objects.get(kind="status").value
    release.set()
    writer.join()
    assert services.scan(kinds=["status"]) == {"status": 2}
    assert ScanState.objects.get(kind="status").value > cursor
    assert set(Delivery.objects.filter(event=Event.CLIENT_STATUS_CHANGED).values_list("payload__client__id", flat=True)) == {
        early.pk, late.pk,
    }
