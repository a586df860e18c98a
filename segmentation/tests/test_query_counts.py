"""The segment, dashboard and thresholds pages run a constant number of queries."""

import pytest

from clients.models import Client
from clients.tests.factories import ClientFactory

# session, user, the user's groups (roles), the clients shared with the user (access rule).
BASE = 4


def _business(owner, manager, size: int) -> None:
    from django.http import QueryDict
    from django.utils import timezone

    from clients.tests.factories import ContractFactory, FollowUpFactory
    from segmentation.segments import segment_create
    from segmentation.services import lifecycle_recompute

    for index, record in enumerate(ClientFactory.create_batch(size, owner=owner)):
        FollowUpFactory(client=record, due_at=timezone.now() - timezone.timedelta(days=1))
        ended = timezone.localdate() - timezone.timedelta(days=10 + index)  # the renewal rate's
        ContractFactory(client=record, start_date=ended - timezone.timedelta(days=365), end_date=ended,
                        renewal_status="renewed" if index % 2 else "not_renewing")
    lifecycle_recompute()  # takes the day's snapshot
    for index in range(size // 2):
        segment_create(owner=manager, name=f"s{index}", shared=index % 2 == 0, query=QueryDict("status=prospect"))
    _answers(owner, Client.objects.filter(owner=owner)[: size // 2])


def _answers(owner, clients) -> None:
    """NPS answers from some of the clients, for the dashboard's NPS figures."""
    from campaigns.models import Campaign, Recipient, SurveyAnswer
    from segmentation.models import Segment

    campaign = Campaign.objects.create(
        name="NPS", goal=Campaign.Goal.SURVEY, segment=Segment.objects.first(), created_by=owner, subject="s", body="b",
    )
    for index, record in enumerate(clients):
        recipient = Recipient.objects.create(campaign=campaign, client=record, status_at_launch=record.status)
        SurveyAnswer.objects.create(recipient=recipient, client=record, score=index % 11)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
def test_segment_list_queries_do_not_grow(client, django_assert_num_queries, manager, owner, size):
    _business(owner, manager, size)
    client.force_login(manager)
    # session, user, groups; the segments; the access rule (team members, shares) for the
    # status rows and again for the segments' figures; one GROUP BY status; one aggregate for
    # every segment's figures.
    with django_assert_num_queries(3 + 1 + 2 + 2 + 1 + 1):
        assert client.get("/segments/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
def test_dashboard_queries_do_not_grow(client, django_assert_num_queries, manager, owner, size):
    from django.utils import timezone

    from campaigns.nps import nps_snapshot_take
    from segmentation.services import snapshots_take

    _business(owner, manager, size)
    snapshots_take(as_of=timezone.localdate())  # the night's, after the segments and answers exist
    nps_snapshot_take(day=timezone.localdate())
    client.force_login(manager)
    # session, user, groups; the people in scope; the snapshot's day; its rows; overdue
    # follow-ups (capped counts, one query); the trend; the flows (when the night's flow snapshot
    # was taken, then it and the changes since); the reasons for leaving (the alert's settings, then this
    # month's bajas per reason with the revenue lost); the segments; their figures
    # from the segment snapshots; the night's NPS snapshot (per salesperson and campaign or
    # segment: one query); the contracts that came to term in the last 12 months (the renewal
    # rate: when the night's renewal snapshot was taken, its rows less the contracts saved since,
    # those contracts as they are now); the ideal profile's fit (segmentation.ideal.dashboard_fit); the altas of
    # the last 12 months per source (the sources card).
    with django_assert_num_queries(3 + 11 + 1 + 3 + 1 + 1):
        assert client.get("/dashboard/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
def test_thresholds_preview_queries_do_not_grow(client, django_assert_num_queries, admin_user, owner, size):
    from segmentation.tests.test_settings_page import FORM, buyers

    buyers(owner, *[(10 * n, 100 + n) for n in range(size)])
    client.force_login(admin_user)
    # session, user, groups; the settings row for the form and again for the current
    # thresholds; statuses now and proposed (one GROUP BY each); tiers now and proposed
    # (mean spend, then one GROUP BY, each).
    with django_assert_num_queries(3 + 2 + 2 + 4):
        assert client.post("/settings/lifecycle/", {**FORM, "preview": "1"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
def test_segment_page_queries_do_not_grow(client, django_assert_num_queries, manager, owner, size):
    from django.http import QueryDict

    from segmentation.segments import segment_create

    ClientFactory.create_batch(size, owner=owner)
    segment = segment_create(owner=manager, name="Todos", shared=False, query=QueryDict("status=prospect"))
    client.force_login(manager)
    # session, user, groups; the segment; the access rule (team members, shares); the page of
    # clients (lazy paginator: no COUNT); the segment's figures.
    with django_assert_num_queries(3 + 1 + 2 + 1 + 1):
        assert client.get(segment.get_absolute_url()).status_code == 200
