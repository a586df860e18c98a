"""Phone and visit campaigns: calls spread over each salesperson's working days and hours, with
the campaign's talking points, and the campaign page saying how."""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.test import TestCase
from django.urls import reverse
from django.utils import dateformat, timezone, translation

from audit.models import AuditEntry
from campaigns.models import Campaign
from campaigns.pacing import Pace, first_working_day, slot_time, working_days
from campaigns.services import _followups_create, campaign_launch
from clients.models import Alert, Client, FollowUp
from clients.tests.factories import ClientFactory
from segmentation.models import LifecycleSettings
from segmentation.segments import segment_create

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def next_saturday(after: dt.date) -> dt.date:
    return after + dt.timedelta(days=(5 - after.weekday()) % 7 or 7)


SATURDAY = next_saturday(TODAY + dt.timedelta(days=3))
MONDAY = SATURDAY + dt.timedelta(days=2)


@pytest.fixture
def pace(db) -> LifecycleSettings:
    settings = LifecycleSettings.current()
    settings.campaign_calls_per_day, settings.workday_start, settings.workday_end = 3, dt.time(9), dt.time(18)
    settings.save()
    return settings


def call_campaign(creator, *, due: dt.date = SATURDAY, channel=Campaign.Channel.PHONE, body: str = "") -> Campaign:
    segment = segment_create(owner=creator, name=f"Todos {Campaign.objects.count()}", shared=False, query=QueryDict(""))
    return Campaign.objects.create(
        name="Recuperar", goal=Campaign.Goal.REACTIVATION, channel=channel, segment=segment, followup_due=due,
        body=body, created_by=creator,
    )


def launch(campaign: Campaign, user) -> bool:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return campaign_launch(campaign, user=user)


def local(followup: FollowUp) -> dt.datetime:
    return timezone.localtime(followup.due_at)


def test_working_days_and_slots():
    assert first_working_day(SATURDAY, TODAY) == MONDAY
    assert first_working_day(TODAY - dt.timedelta(days=10), TODAY) == first_working_day(TODAY, TODAY)
    assert working_days(MONDAY - dt.timedelta(days=3), 3) == [
        MONDAY - dt.timedelta(days=3), MONDAY, MONDAY + dt.timedelta(days=1)]  # Friday, Monday, Tuesday
    day = Pace(per_day=8, start=dt.time(9), end=dt.time(18))
    assert [slot_time(day, n, 3) for n in range(3)] == [dt.time(9), dt.time(12), dt.time(15)]
    assert slot_time(day, 7, 8) == dt.time(16, 52)  # 9:00 + 7 × 67.5 min


def test_each_salespersons_calls_are_spread_over_working_days_and_hours(pace, manager, owner, teammate):
    mine = [ClientFactory(owner=owner) for _ in range(7)]
    theirs = [ClientFactory(owner=teammate) for _ in range(2)]
    campaign = call_campaign(manager)
    assert launch(campaign, manager)

    calls = list(FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN, origin_key=str(campaign.pk)))
    assert sorted(c.client_id for c in calls) == sorted(c.pk for c in mine + theirs)  # one each
    per_day = Counter((c.assigned_to_id, local(c).date()) for c in calls)
    # 7 calls at 3 a day: Monday, Tuesday 3 each, Wednesday 1; the teammate's 2 on Monday.
    assert per_day == {
        (owner.pk, MONDAY): 3, (owner.pk, MONDAY + dt.timedelta(days=1)): 3, (owner.pk, MONDAY + dt.timedelta(days=2)): 1,
        (teammate.pk, MONDAY): 2,
    }
    assert all(dt.time(9) <= local(c).time() < dt.time(18) and local(c).weekday() < 5 for c in calls)
    owners_monday = sorted(local(c).time() for c in calls if c.assigned_to_id == owner.pk and local(c).date() == MONDAY)
    assert owners_monday == [dt.time(9), dt.time(12), dt.time(15)]
    teammates = sorted(local(c).time() for c in calls if c.assigned_to_id == teammate.pk)
    assert teammates == [dt.time(9), dt.time(13, 30)]
    assert {c.assigned_to_id for c in calls if c.client.owner_id == owner.pk} == {owner.pk}


def test_a_large_portfolio_skips_the_weekend(pace, manager, owner):
    for _ in range(7):
        ClientFactory(owner=owner)
    friday = MONDAY - dt.timedelta(days=3)
    campaign = call_campaign(manager, due=friday)
    launch(campaign, manager)
    days = Counter(local(c).date() for c in FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN))
    assert days == {friday: 3, MONDAY: 3, MONDAY + dt.timedelta(days=1): 1}


def test_red_and_valuable_clients_are_called_first(pace, manager, owner):
    small = ClientFactory(owner=owner)
    big = ClientFactory(owner=owner)
    red = ClientFactory(owner=owner)
    last = ClientFactory(owner=owner)
    Client.objects.filter(pk=big.pk).update(spend_12m=Decimal("900"))
    Client.objects.filter(pk=small.pk).update(spend_12m=Decimal("100"))
    Client.objects.filter(pk=red.pk).update(alert=Alert.RED)
    campaign = call_campaign(manager)
    launch(campaign, manager)
    order = list(FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN).order_by("due_at").values_list("client_id", flat=True))
    assert order == [red.pk, big.pk, small.pk, last.pk]


def test_the_talking_points_reach_every_follow_up_and_the_audit(pace, manager, owner):
    record = ClientFactory(owner=owner)
    campaign = call_campaign(manager, channel=Campaign.Channel.VISIT, body="Llevar muestras del café nuevo.\n")
    launch(campaign, manager)
    visit = FollowUp.objects.get(client=record, origin=FollowUp.Origin.CAMPAIGN)
    assert visit.kind == FollowUp.Kind.VISIT
    assert visit.notes == "Recuperar\n\nLlevar muestras del café nuevo."
    entry = AuditEntry.objects.get(subject=AuditEntry.Subject.FOLLOWUP, object_id=visit.pk, action=AuditEntry.Action.CREATE)
    assert entry.user == manager and entry.client_id == record.pk


def test_a_second_launch_creates_nothing(pace, manager, owner):
    for _ in range(4):
        ClientFactory(owner=owner)
    campaign = call_campaign(manager)
    assert launch(campaign, manager)
    before = list(FollowUp.objects.order_by("pk").values_list("pk", "due_at"))
    entries = AuditEntry.objects.count()
    assert launch(campaign, manager) is False
    _followups_create(campaign, user=manager, now=timezone.now())  # even the step itself, run again
    assert list(FollowUp.objects.order_by("pk").values_list("pk", "due_at")) == before
    assert AuditEntry.objects.count() == entries  # no entry for a follow-up that was not created
    assert FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN).count() == 4


@pytest.mark.parametrize("size", [2, 30])
def test_the_launch_runs_a_constant_number_of_queries(pace, manager, owner, teammate, django_assert_num_queries, size):
    for index in range(size):
        ClientFactory(owner=owner if index % 2 else teammate)
    campaign = call_campaign(manager)
    # savepoint; lock the campaign; its creator, segment, roles, team and shares (the audience's
    # access rule); INSERT … SELECT the recipients; the pace; the numbered recipients (one window
    # query); insert the follow-ups; read them back; insert the audit entries; the thresholds and
    # the alerts' recompute; save the campaign; release. The same at any size (up to 2,000 rows
    # per insert batch).
    with django_assert_num_queries(QUERIES_LAUNCH):
        launch(campaign, manager)
    assert FollowUp.objects.count() == size


QUERIES_LAUNCH = 18


def test_the_campaign_page_shows_how_the_calls_will_be_and_were_spread(client, pace, manager, owner, teammate):
    for _ in range(7):
        ClientFactory(owner=owner)
    ClientFactory(owner=teammate)
    campaign = call_campaign(manager, body="Ofrecer la renovación")
    client.force_login(manager)
    with translation.override("en"):
        wednesday = dateformat.format(MONDAY + dt.timedelta(days=2), "D j M")
        expected = f"2 salespeople, up to 3 calls a day, from {dateformat.format(MONDAY, 'D j M')} to {wednesday}."
        page = client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        assert expected in " ".join(page.content.decode().split())
        launch(campaign, manager)
        page = client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
        text = " ".join(page.content.decode().split())
        assert "How the calls were spread" in text and expected in text


def test_the_form_calls_the_message_talking_points_for_calls(client, manager):
    client.force_login(manager)
    page = client.get(reverse("campaigns:campaign_create"), HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-talk-label="Talking points"' in page.content
    response = client.post(reverse("campaigns:campaign_create"), {"channel": "phone"}, HTTP_ACCEPT_LANGUAGE="en")
    assert b'<label class="form-label" for="id_body">Talking points</label>' in response.content


@pytest.mark.parametrize("size", [1, 6])
def test_a_call_campaigns_page_runs_a_constant_number_of_queries(client, pace, manager, owner, teammate, django_assert_num_queries, size):
    for index in range(size):
        ClientFactory(owner=owner if index % 2 else teammate)
    campaign = call_campaign(manager, body="Ofrecer la renovación")
    client.force_login(manager)
    # session, user, roles, the people whose campaigns the user sees, the campaign, the access
    # rule's team and shares, the audience count, the pace, the clients per salesperson
    with django_assert_num_queries(QUERIES_DRAFT):
        client.get(campaign.get_absolute_url())
    launch(campaign, manager)
    # session, user, roles, the people, the campaign, the results (states, unsubscribed, NPS,
    # purchases and their revenue, reactivated), the follow-ups per salesperson and day
    with django_assert_num_queries(QUERIES_LAUNCHED):
        client.get(campaign.get_absolute_url())


QUERIES_DRAFT = 10
QUERIES_LAUNCHED = 11
