"""Issue 18: the list's filters and saved segments cover source, referred or not, qualification
and temperature, consent per purpose, age band, ideal profile fit, reason for leaving and days
since the last contact; a segment with no snapshot on the dashboard's day is counted live.

Every case below is a hand-made example: each client is named for what it must match."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone

from campaigns.models import Consent
from clients.filters import ClientFilter, years_before
from clients.models import Client, Status
from clients.tests.factories import ClientFactory, InteractionFactory
from segmentation.dashboard import dashboard_build
from segmentation.models import Segment, SegmentSnapshot
from segmentation.segments import segment_clients, segment_create, segment_params
from segmentation.snapshots import snapshot_take

pytestmark = pytest.mark.django_db


def names(owner, query: str) -> set[str]:
    filterset = ClientFilter(QueryDict(query), queryset=Client.objects.visible_to(owner), user=owner)
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("first_name", flat=True))


def test_source_referred_qualification_and_temperature(owner):
    referrer = ClientFactory(owner=owner, first_name="referrer", source="web")
    ClientFactory(owner=owner, first_name="referred", source="referral", referred_by=referrer)
    ClientFactory(owner=owner, first_name="walkin", source="walk_in", prospect_qualification="probable", temperature="hot")
    ClientFactory(owner=owner, first_name="potential", prospect_qualification="potential", temperature="cold")

    assert names(owner, "source=referral&source=web") == {"referrer", "referred"}
    assert names(owner, "referred=yes") == {"referred"}
    assert names(owner, "referred=no") == {"referrer", "walkin", "potential"}
    assert names(owner, "prospect_qualification=probable") == {"walkin"}
    assert names(owner, "prospect_qualification=potential&temperature=cold") == {"potential"}


def test_consent_per_purpose(owner):
    yes = ClientFactory(owner=owner, first_name="yes")
    no = ClientFactory(owner=owner, first_name="no")
    other = ClientFactory(owner=owner, first_name="other")
    ClientFactory(owner=owner, first_name="never")
    Consent.objects.create(client=yes, purpose="newsletter", granted=True, source="form")
    Consent.objects.create(client=no, purpose="newsletter", granted=False, source="unsubscribe")
    Consent.objects.create(client=other, purpose="surveys", granted=True, source="form")

    assert names(owner, "consent=newsletter") == {"yes"}
    assert names(owner, "consent=surveys") == {"other"}
    assert not ClientFilter(QueryDict("consent=spam"), queryset=Client.objects.none(), user=owner).is_valid()


def test_age_bands_count_whole_years_as_the_record_does(owner):
    today = timezone.localdate()
    born = {
        "turns25today": years_before(today, 25),
        "turns25tomorrow": years_before(today, 25) + dt.timedelta(days=1),
        "is34": years_before(today, 35) + dt.timedelta(days=1),
        "turns35today": years_before(today, 35),
        "is70": years_before(today, 70),
    }
    for name, birth_date in born.items():
        ClientFactory(owner=owner, first_name=name, birth_date=birth_date)
    ClientFactory(owner=owner, first_name="unknown", birth_date=None)
    ages = {client.first_name: client.age for client in Client.objects.exclude(birth_date=None)}
    assert ages == {"turns25today": 25, "turns25tomorrow": 24, "is34": 34, "turns35today": 35, "is70": 70}

    assert names(owner, "age=0-24") == {"turns25tomorrow"}
    assert names(owner, "age=25-34") == {"turns25today", "is34"}
    assert names(owner, "age=35-44&age=65%2B") == {"turns35today", "is70"}


def test_ideal_profile_fit_range_and_fits_at_least(owner):
    for name, fit in (("fit90", 90), ("fit70", 70), ("fit40", 40), ("unscored", None)):
        ClientFactory(owner=owner, first_name=name, icp_fit=fit)

    assert names(owner, "icp_fit_min=70") == {"fit90", "fit70"}
    assert names(owner, "icp_fit_min=40&icp_fit_max=70") == {"fit70", "fit40"}
    assert names(owner, "icp_fit_max=50") == {"fit40"}
    assert not ClientFilter(QueryDict("icp_fit_min=-1"), queryset=Client.objects.none(), user=owner).is_valid()


def test_reason_for_leaving_and_not_recorded(owner):
    ClientFactory(owner=owner, first_name="price", status=Status.LOST, leave_reason="price")
    ClientFactory(owner=owner, first_name="competitor", status=Status.LOST, leave_reason="competitor")
    ClientFactory(owner=owner, first_name="unknown", status=Status.LOST, leave_reason="")
    ClientFactory(owner=owner, first_name="active", status=Status.ACTIVE, leave_reason="")

    assert names(owner, "leave_reason=price") == {"price"}
    assert names(owner, "leave_reason=none") == {"unknown"}
    assert names(owner, "leave_reason=competitor&leave_reason=none") == {"competitor", "unknown"}


def test_days_since_the_last_contact(owner):
    now = timezone.localtime()
    for name, days_ago in (("today", 0), ("three", 3), ("ten", 10)):
        client = ClientFactory(owner=owner, first_name=name)
        InteractionFactory(client=client, happened_at=now - dt.timedelta(days=days_ago))
        if name == "ten":  # an older contact does not count: the last one does
            InteractionFactory(client=client, happened_at=now - dt.timedelta(days=40))
    ClientFactory(owner=owner, first_name="never")

    assert names(owner, "contact_days_min=3") == {"three", "ten", "never"}
    assert names(owner, "contact_days_max=3") == {"today", "three"}
    assert names(owner, "contact_days_min=4&contact_days_max=10") == {"ten"}
    assert names(owner, "contact_days_min=0") == {"today", "three", "ten", "never"}


def test_a_segment_saves_the_new_filters_and_shows_on_the_dashboard_at_once(owner, manager):
    for index in range(3):
        ClientFactory(owner=owner, first_name=f"web{index}", source="web", icp_fit=80, spend_12m=Decimal("100"))
    ClientFactory(owner=owner, first_name="low", source="web", icp_fit=20, spend_12m=Decimal("50"))
    snapshot_take(day=timezone.localdate())
    query = QueryDict("source=web&icp_fit_min=60&referred=no&page=2")
    assert segment_params(query) == {"icp_fit_min": ["60"], "referred": ["no"], "source": ["web"]}

    segment = segment_create(owner=manager, name="Web que encaja", shared=False, query=query)
    assert set(segment_clients(user=manager, segment=segment).values_list("first_name", flat=True)) == {"web0", "web1", "web2"}
    board = dashboard_build(user=manager)
    assert [(row.label, row.cell.clients, row.cell.revenue) for row in board.segments] == [
        ("Web que encaja", 3, Decimal("300")),
    ]


def test_a_segment_without_a_snapshot_that_day_is_counted_live_in_constant_queries(
    owner, manager, django_assert_num_queries,
):
    """A segment written without its snapshot (or whose snapshot is of another day) is not zero."""
    ClientFactory(owner=owner, source="web", spend_12m=Decimal("10"))
    ClientFactory(owner=owner, source="event", spend_12m=Decimal("20"))
    snapshot_take(day=timezone.localdate())
    Segment.objects.create(owner=manager, name="Web", params={"source": ["web"]})
    assert not SegmentSnapshot.objects.exists()

    board = dashboard_build(user=manager)
    assert [(row.label, row.cell.clients, row.cell.revenue) for row in board.segments] == [("Web", 1, Decimal("10"))]

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        dashboard_build(user=manager)
    Segment.objects.create(owner=manager, name="Event", params={"source": ["event"]})
    Segment.objects.create(owner=manager, name="Both", params={"source": ["event", "web"]})
    with django_assert_num_queries(len(one.captured_queries)):
        board = dashboard_build(user=manager)
    assert {row.label: row.cell.clients for row in board.segments} == {"Web": 1, "Event": 1, "Both": 2}
