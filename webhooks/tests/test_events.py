"""Each event comes from its real path: the services for the per-row events, the night (and a
write's status change) for the set-based ones, written set-based by the scan."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from campaigns.services import survey_answer_record
from clients.models import Alert, Client, Status
from clients.tests.factories import ClientFactory, ContractFactory, FollowUpFactory, PurchaseFactory
from core import events
from segmentation import tasks
from segmentation.models import StatusChange
from segmentation.records import purchase_record
from segmentation.segments import segment_create
from webhooks import services
from webhooks.models import Delivery, Event, ScanMark, ScanState

pytestmark = pytest.mark.django_db

SCANNED = [Event.CLIENT_STATUS_CHANGED, Event.CLIENT_TURNED_RED, Event.CONTRACT_RENEWAL_DUE]


def bodies(receiver, event: str) -> list[dict]:
    found = [json.loads(request.body) for request in receiver.requests]
    return [body for body in found if body["event"] == event]


def test_a_survey_answer_is_delivered_and_a_detractor_turning_red_is_found_by_the_scan(
    admin_user, owner, receiver, django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_create(by=admin_user, url=receiver.url, events=[Event.SURVEY_ANSWERED, Event.CLIENT_TURNED_RED])
    client = ClientFactory(owner=owner, client_ref="C-1")
    segment = segment_create(owner=owner, name="Todos", shared=False, query=QueryDict(""))
    campaign = Campaign.objects.create(name="NPS", goal=Campaign.Goal.SURVEY, segment=segment, created_by=owner,
                                       subject="s", body="b", state=Campaign.State.SENDING, launched_at=timezone.now())
    recipient = Recipient.objects.create(campaign=campaign, client=client, status_at_launch=client.status)

    with django_capture_on_commit_callbacks(execute=True):
        answer = survey_answer_record(recipient=recipient, score=3, comment="Lento")
    [survey] = bodies(receiver, Event.SURVEY_ANSWERED)
    assert survey["data"]["answer"]["id"] == answer.pk and survey["data"]["answer"]["score"] == 3
    assert survey["data"]["client"] == {"id": client.pk, "ref": "C-1"}
    client.refresh_from_db()
    assert client.alert == Alert.RED  # the detractor's call

    with django_capture_on_commit_callbacks(execute=True):
        written = services.scan(kinds=["red"])  # as the beat does every 15 minutes
    assert written == {"red": 1}
    [red] = bodies(receiver, Event.CLIENT_TURNED_RED)
    assert red["data"]["client"] == {"id": client.pk, "ref": "C-1"} and red["data"]["reason"] == "detractor"
    assert services.scan(kinds=["red"]) == {"red": 0}  # announced once


def test_the_night_announces_status_changes_reds_and_contracts_entering_the_notice(
    admin_user, owner, receiver, django_capture_on_commit_callbacks,
):
    today = timezone.localdate()
    dormant = ClientFactory(owner=owner)
    PurchaseFactory(client=dormant, date=today - dt.timedelta(days=120))
    overdue = ClientFactory(owner=owner)
    FollowUpFactory(client=overdue, assigned_to=owner, due_at=timezone.now() - dt.timedelta(days=2))
    renewing = ClientFactory(owner=owner)
    ContractFactory(client=renewing, end_date=today + dt.timedelta(days=5))  # in the notice before: not announced
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_create(by=admin_user, url=receiver.url, events=SCANNED)
    assert receiver.requests == []  # what was there before the subscription is not announced
    contract = ContractFactory(client=renewing, end_date=today + dt.timedelta(days=10))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.nightly_recompute(today.isoformat())

    changes = bodies(receiver, Event.CLIENT_STATUS_CHANGED)
    assert {(body["data"]["client"]["id"], body["data"]["to_status"]) for body in changes} >= {(dormant.pk, Status.DORMANT)}
    assert len(changes) == StatusChange.objects.count()
    assert {body["data"]["client"]["id"] for body in bodies(receiver, Event.CLIENT_TURNED_RED)} >= {overdue.pk}
    [renewal] = bodies(receiver, Event.CONTRACT_RENEWAL_DUE)
    assert renewal["data"]["contract"]["id"] == contract.pk and renewal["data"]["client"]["id"] == renewing.pk
    assert renewal["data"]["contract"]["end_date"] == (today + dt.timedelta(days=10)).isoformat()
    assert Delivery.objects.exclude(state=Delivery.State.DELIVERED).count() == 0

    # The next night (or scan) announces nothing again.
    sent = len(receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.scan() == {"status": 0, "red": 0, "renewal": 0}
    assert len(receiver.requests) == sent


def test_a_status_changed_by_a_purchase_is_announced_after_the_commit(
    admin_user, owner, receiver, django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        services.endpoint_create(by=admin_user, url=receiver.url, events=[Event.CLIENT_STATUS_CHANGED])
    client = ClientFactory(owner=owner)

    with django_capture_on_commit_callbacks(execute=True):
        purchase_record(client=client, by=owner, date=timezone.localdate(), amount=Decimal("50.00"))

    [change] = bodies(receiver, Event.CLIENT_STATUS_CHANGED)
    row = StatusChange.objects.get(client=client)
    assert change["data"]["status_change_id"] == row.pk
    assert change["data"]["to_status"] == Status.NEW and change["data"]["cause"] == "purchase"


def test_a_client_leaving_red_and_turning_red_again_is_announced_again(admin_user, owner, receiver):
    services.endpoint_create(by=admin_user, url=receiver.url, events=[Event.CLIENT_TURNED_RED])
    client = ClientFactory(owner=owner)
    services.scan(kinds=["red"])  # starts: nothing red


    Client.objects.filter(pk=client.pk).update(alert=Alert.RED, alert_reason="followup_overdue")
    assert services.scan(kinds=["red"]) == {"red": 1}
    Client.objects.filter(pk=client.pk).update(alert=Alert.GREEN, alert_reason="awaiting_reply")
    assert services.scan(kinds=["red"]) == {"red": 0}
    assert not ScanMark.objects.exists()
    Client.objects.filter(pk=client.pk).update(alert=Alert.RED, alert_reason="followup_overdue")
    assert services.scan(kinds=["red"]) == {"red": 1}
    assert Delivery.objects.filter(event=Event.CLIENT_TURNED_RED).count() == 2


def test_with_nobody_subscribed_the_scan_keeps_nothing_and_the_night_queues_nothing(owner, monkeypatch):
    queued = []
    monkeypatch.setattr(services, "enqueue", lambda *args: queued.append(args))
    client = ClientFactory(owner=owner)
    StatusChange.objects.create(client=client, to_status=Status.NEW, date=timezone.localdate())

    events.emit(events.NIGHTLY_DONE, {})
    events.emit(events.STATUS_CHANGED, {})
    assert services.scan() == {"status": 0, "red": 0, "renewal": 0}

    assert queued == [] and not ScanState.objects.exists() and not ScanMark.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("changes", [1, 50])
def test_the_scan_writes_status_change_deliveries_set_based(admin_user, owner, django_assert_num_queries, changes):
    services.endpoint_create(by=admin_user, url="http://127.0.0.1:9/a", events=[Event.CLIENT_STATUS_CHANGED])
    services.endpoint_create(by=admin_user, url="http://127.0.0.1:9/b", events=[Event.CLIENT_STATUS_CHANGED])
    services.scan(kinds=["status"])  # the cursor starts here
    clients = [ClientFactory(owner=owner) for _ in range(changes)]
    StatusChange.objects.bulk_create(
        StatusChange(client=client, from_status=Status.PROSPECT, to_status=Status.NEW, date=timezone.localdate())
        for client in clients
    )

    # The endpoints; a savepoint; (PostgreSQL: lock_timeout, a savepoint, the table lock, its
    # release); the last id; the cursor created if missing, then locked; the INSERT … SELECT of
    # every delivery; the cursor moved; the release: the same for 1 or 50 changes.
    with django_assert_num_queries(12 if connection.vendor == "postgresql" else 8):
        written = services.scan(kinds=["status"])

    assert written == {"status": 2 * changes}
    assert Delivery.objects.filter(event=Event.CLIENT_STATUS_CHANGED).count() == 2 * changes
    payload = Delivery.objects.filter(event=Event.CLIENT_STATUS_CHANGED).order_by("pk").first().payload
    assert payload["client"]["id"] == clients[0].pk and payload["to_status"] == Status.NEW
    assert payload["from_status"] == Status.PROSPECT
    assert services.scan(kinds=["status"]) == {"status": 0}


@pytest.mark.parametrize("reds", [1, 50])
def test_the_red_scan_runs_a_constant_number_of_queries(admin_user, owner, django_assert_num_queries, reds):
    services.endpoint_create(by=admin_user, url="http://127.0.0.1:9/a", events=[Event.CLIENT_TURNED_RED])
    services.scan(kinds=["red"])
    for _ in range(reds):
        ClientFactory(owner=owner, alert=Alert.RED, alert_reason="followup_overdue")

    # The endpoints; a savepoint; seeded?; the reds read once into a temporary table (dropped
    # first if left over, created, dropped at the end); the INSERT … SELECT; the marks deleted,
    # then added; the release.
    with django_assert_num_queries(10):
        assert services.scan(kinds=["red"]) == {"red": reds}
