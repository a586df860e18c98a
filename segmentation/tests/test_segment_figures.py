"""Issue 16: the segments page reads the nightly snapshots (statuses and saved segments per
salesperson) instead of counting a million clients; a segment saved today is counted once, when
it is saved, so that it shows its figures at once (issue 18); the clients shared with the user
beyond their portfolio are counted live."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, ClientShare
from clients.tests.factories import ClientFactory
from segmentation.dashboard import dashboard_build
from segmentation.models import DailySnapshot, SegmentSnapshot
from segmentation.segments import segment_create
from segmentation.snapshots import snapshot_take

pytestmark = pytest.mark.django_db


def _rows(response) -> dict:
    return {row["code"]: row["clients"] for row in response.context["rows"]}


def _saved(response) -> dict:
    return {item["segment"].name: item["cell"] for item in response.context["saved"]}


@pytest.fixture
def night(owner, teammate, outsider):
    for person, count in ((owner, 3), (teammate, 2), (outsider, 4)):
        for _ in range(count):
            ClientFactory(owner=person, city="Madrid", status="active", spend_12m=Decimal("10.00"))
    snapshot_take(day=timezone.localdate())


def test_a_segment_saved_today_shows_its_figures_at_once(client, night, manager, owner):
    segment = segment_create(owner=manager, name="Madrid", shared=True, query=QueryDict("city=madrid"))

    client.force_login(manager)
    saved = _saved(client.get(reverse("segmentation:segment_list")))
    assert (saved["Madrid"].clients, saved["Madrid"].revenue) == (5, Decimal("50.00"))  # the team's, not the outsider's
    board = dashboard_build(user=manager)
    assert [(row.label, row.cell.clients) for row in board.segments] == [("Madrid", 5)]
    assert SegmentSnapshot.objects.filter(segment=segment).count() == 3  # one row per salesperson, everyone's


def test_the_page_reads_last_nights_figures_and_says_so(client, night, owner):
    segment_create(owner=owner, name="Madrid", shared=False, query=QueryDict("city=madrid"))
    ClientFactory(owner=owner, city="Madrid", status="active")  # after the night and the saving

    client.force_login(owner)
    response = client.get(reverse("segmentation:segment_list"))
    assert _rows(response)["active"] == 3 and _saved(response)["Madrid"].clients == 3
    assert b'data-testid="figures-day"' in response.content and b'data-testid="segments-day"' in response.content
    # The segment itself lists its clients as they are now.
    detail = client.get(_saved_segment_url(owner))
    assert detail.context["cell"].clients == 4


def _saved_segment_url(owner) -> str:
    return owner.segments.get().get_absolute_url()


def test_a_segment_without_a_snapshot_is_counted_live(client, night, owner):
    segment = segment_create(owner=owner, name="Madrid", shared=False, query=QueryDict("city=madrid"))
    SegmentSnapshot.objects.filter(segment=segment).delete()  # saved before the snapshots were kept at saving
    ClientFactory(owner=owner, city="Madrid", status="active")

    client.force_login(owner)
    assert _saved(client.get(reverse("segmentation:segment_list")))["Madrid"].clients == 4


def test_clients_shared_with_the_user_are_counted(client, night, owner, outsider):
    segment_create(owner=owner, name="Madrid", shared=False, query=QueryDict("city=madrid"))
    shared = Client.objects.filter(owner=outsider).first()
    ClientShare.objects.create(client=shared, user=owner)

    client.force_login(owner)
    response = client.get(reverse("segmentation:segment_list"))
    assert _rows(response)["active"] == 4 and _saved(response)["Madrid"].clients == 4


def test_before_the_first_night_the_statuses_are_counted_live(client, owner):
    ClientFactory(owner=owner, status="dormant")
    assert not DailySnapshot.objects.exists()
    client.force_login(owner)
    response = client.get(reverse("segmentation:segment_list"))
    assert _rows(response)["dormant"] == 1 and b'data-testid="figures-day"' not in response.content


def test_an_older_snapshot_is_read_when_there_is_none_today(client, owner):
    ClientFactory(owner=owner, status="lost")
    snapshot_take(day=timezone.localdate() - dt.timedelta(days=1))
    ClientFactory(owner=owner, status="lost")
    client.force_login(owner)
    assert _rows(client.get(reverse("segmentation:segment_list")))["lost"] == 1
