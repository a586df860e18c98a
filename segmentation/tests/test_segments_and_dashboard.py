"""Saved segments and the dashboard: every figure against an independent count, each role its scope."""

import csv
import datetime as dt
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.tests.factories import ClientFactory, FollowUpFactory, PurchaseFactory
from segmentation.dashboard import dashboard_build
from segmentation.models import DailySnapshot, FlowSnapshot, Segment, StatusChange
from segmentation.rules import Thresholds
from segmentation.segments import segment_clients, segment_create, segment_params
from segmentation.services import lifecycle_recompute
from segmentation.snapshots import flow_snapshot_take, snapshot_backfill, snapshot_take

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def buyer(owner, *days_ago: int, amount: str = "100.00", **fields) -> Client:
    client = ClientFactory(owner=owner, **fields)
    for days in days_ago:
        PurchaseFactory(client=client, date=TODAY() - dt.timedelta(days=days), amount=Decimal(amount))
    return client


@pytest.fixture
def business(owner, teammate, outsider):
    """Two salespeople of the manager's team and one outside it, clients in every status."""
    for person, plan in ((owner, [5, 5, 60, 120, 120, 400]), (teammate, [10, 200]), (outsider, [3, 100, 100])):
        for index, days in enumerate(plan):
            buyer(person, days + 300, days, amount=str(50 * (index + 1)))
        ClientFactory(owner=person)  # a prospect each
    lifecycle_recompute()  # figures, statuses and today's snapshot
    return {"owner": owner, "teammate": teammate, "outsider": outsider}


def independent(people) -> tuple[Counter, dict]:
    clients = Client.objects.filter(owner__in=people)
    counts = Counter(clients.values_list("status", flat=True))
    revenue = {}
    for status, spend in clients.values_list("status", "spend_12m"):
        revenue[status] = revenue.get(status, Decimal("0")) + spend
    return counts, revenue


# --- segments ---------------------------------------------------------------------------------


def test_segment_keeps_only_the_lists_filters(owner):
    query = QueryDict("status=dormant&status=lost&city=Madrid&sort=-spend_12m&page=3&q=&last_purchase_after=2026-01-01")
    assert segment_params(query) == {
        "city": ["Madrid"],
        "last_purchase_after": ["2026-01-01"],
        "status": ["dormant", "lost"],
    }


def test_a_segment_is_dynamic_and_follows_the_access_rule(business, manager, owner, teammate, outsider):
    segment = segment_create(owner=manager, name="Dormidos", shared=True, query=QueryDict("status=dormant"))
    expected = set(Client.objects.filter(owner__in=[owner, teammate], status="dormant").values_list("pk", flat=True))
    assert set(segment_clients(user=manager, segment=segment).values_list("pk", flat=True)) == expected
    # Shared: each user sees the matching clients of their own portfolio only.
    mine = set(Client.objects.filter(owner=owner, status="dormant").values_list("pk", flat=True))
    assert set(segment_clients(user=owner, segment=segment).values_list("pk", flat=True)) == mine
    # Membership follows the data.
    newcomer = buyer(owner, 200, 100)
    lifecycle_recompute(full=True)  # the factory wrote its purchases around the write path
    assert newcomer in segment_clients(user=owner, segment=segment)


def test_segment_names_are_required_and_unique_per_owner(manager, owner):
    from django.core.exceptions import ValidationError

    segment_create(owner=manager, name="VIP", shared=False, query=QueryDict("volume_tier=very_high"))
    with pytest.raises(ValidationError):
        segment_create(owner=manager, name="VIP", shared=False, query=QueryDict(""))
    with pytest.raises(ValidationError):
        segment_create(owner=manager, name="  ", shared=False, query=QueryDict(""))
    segment_create(owner=owner, name="VIP", shared=False, query=QueryDict(""))  # another owner may


def test_saving_from_the_list_sets_the_owner_on_the_server(client, owner, teammate):
    client.force_login(owner)
    response = client.post(
        reverse("segmentation:segment_save"),
        {"name": "Madrid dormidos", "query": "status=dormant&city=Madrid&page=2", "owner": teammate.pk},
    )
    segment = Segment.objects.get()
    assert response.url == segment.get_absolute_url()
    assert (segment.owner, segment.shared, segment.params) == (
        owner,
        False,
        {"city": ["Madrid"], "status": ["dormant"]},
    )


def test_a_bad_segment_comes_back_to_the_list_with_a_message(client, owner):
    client.force_login(owner)
    response = client.post(reverse("segmentation:segment_save"), {"name": "", "query": "status=dormant"}, follow=True)
    assert (
        "Ponle un nombre al segmento." in response.content.decode()
        or "Give the segment a name." in response.content.decode()
    )
    assert not Segment.objects.exists()


def test_private_segments_of_others_are_404_and_shared_ones_open(client, manager, owner):
    private = segment_create(owner=manager, name="Mío", shared=False, query=QueryDict(""))
    shared = segment_create(owner=manager, name="Para todos", shared=True, query=QueryDict(""))
    client.force_login(owner)
    assert client.get(private.get_absolute_url()).status_code == 404
    assert client.get(shared.get_absolute_url()).status_code == 200
    assert client.post(reverse("segmentation:segment_delete", args=[shared.pk])).status_code == 403
    assert client.post(reverse("segmentation:segment_delete", args=[private.pk])).status_code == 404


def test_segment_list_shows_live_counts_and_revenue(client, business, manager, owner, teammate):
    segment_create(owner=manager, name="Dormidos", shared=False, query=QueryDict("status=dormant"))
    client.force_login(manager)
    saved = client.get(reverse("segmentation:segment_list")).context["saved"]
    dormant = Client.objects.filter(owner__in=[owner, teammate], status="dormant")
    assert saved[0]["cell"].clients == dormant.count()
    assert saved[0]["cell"].revenue == sum(c.spend_12m for c in dormant)


# --- snapshots --------------------------------------------------------------------------------


def test_snapshot_equals_the_clients_and_taking_it_again_replaces_it(business):
    day = TODAY()
    counts, revenue = independent(Client.objects.values("owner"))
    rows = DailySnapshot.objects.filter(date=day)
    assert sum(r.clients for r in rows) == Client.objects.count()
    by_status = Counter()
    for row in rows:
        by_status[row.status] += row.clients
    assert by_status == counts
    before = rows.count()
    snapshot_take(day=day)
    assert DailySnapshot.objects.filter(date=day).count() == before


def test_backfilled_snapshot_has_the_statuses_of_that_day(owner):
    buyer(owner, 200, created_at=timezone.now() - dt.timedelta(days=400))  # 100 days before: 100 days since → dormant
    day = TODAY() - dt.timedelta(days=100)
    ClientFactory(owner=owner, created_at=timezone.now())  # did not exist then
    snapshot_backfill(day=day, thresholds=Thresholds())
    assert list(DailySnapshot.objects.filter(date=day).values_list("status", "clients")) == [("dormant", 1)]


# --- dashboard ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "owner", "admin_user", "other_manager"])
def test_each_role_sees_its_scope_and_the_figures_equal_an_independent_count(business, role, request):
    user = request.getfixturevalue(role)
    scope = {
        "manager": [business["owner"], business["teammate"]],
        "owner": [business["owner"]],
        "admin_user": list(business.values()),
        "other_manager": [business["outsider"]],  # the other team's comercial
    }[role]
    board = dashboard_build(user=user)
    counts, revenue = independent(scope)
    assert {row.code: row.cell.clients for row in board.statuses if row.cell.clients} == dict(counts)
    assert {row.code: row.cell.revenue for row in board.statuses if row.cell.clients} == revenue
    assert board.total.clients == sum(counts.values())
    assert {entry["person"] for entry in board.by_person} >= set(scope)


def test_dashboard_per_salesperson_overdue_and_reds(business, manager, owner, teammate):
    late = Client.objects.filter(owner=owner).first()
    FollowUpFactory(client=late, due_at=timezone.now() - dt.timedelta(days=2))
    FollowUpFactory(client=late, due_at=timezone.now() - dt.timedelta(days=1))
    FollowUpFactory(client=late, due_at=timezone.now() + dt.timedelta(days=1))
    lifecycle_recompute()  # the colour and the snapshot
    board = dashboard_build(user=manager)
    entries = {entry["person"]: entry for entry in board.by_person}
    assert (entries[owner]["overdue"], entries[teammate]["overdue"]) == (2, 0)
    assert entries[owner]["reds"] == Client.objects.filter(owner=owner, alert="red").count() >= 1
    assert Client.objects.get(pk=late.pk).alert == "red"
    assert entries[owner]["total"].clients == Client.objects.filter(owner=owner).count()
    for row in entries[owner]["statuses"]:
        mine = Client.objects.filter(owner=owner, status=row.code)
        assert (row.cell.clients, row.cell.revenue) == (mine.count(), sum((c.spend_12m for c in mine), Decimal("0")))
    assert board.overdue_total == 2


def test_dashboard_overdue_counts_stop_at_the_cap_and_say_so(client, business, manager, owner, teammate):
    from clients.models import FollowUp
    from core.sql import COUNT_CAP

    late = Client.objects.filter(owner=owner).first()
    FollowUp.objects.bulk_create(
        FollowUp(client=late, assigned_to=owner, kind=FollowUp.Kind.CALL, due_at=timezone.now() - dt.timedelta(hours=index + 1))
        for index in range(COUNT_CAP + 5)
    )
    FollowUpFactory(client=Client.objects.filter(owner=teammate).first(), due_at=timezone.now() - dt.timedelta(days=1))
    board = dashboard_build(user=manager)
    entries = {entry["person"]: entry for entry in board.by_person}
    assert (entries[owner]["overdue"], entries[owner]["overdue_capped"]) == (COUNT_CAP + 1, True)
    assert (entries[teammate]["overdue"], entries[teammate]["overdue_capped"]) == (1, False)
    assert (board.overdue_total, board.overdue_capped) == (COUNT_CAP + 2, True)
    client.force_login(manager)
    page = client.get(reverse("segmentation:dashboard")).content.decode()
    assert f'data-testid="overdue-{owner.username}">{COUNT_CAP}+</a>' in page
    assert f'data-testid="overdue-{teammate.username}">1</a>' in page
    assert f'data-testid="total-overdue">{COUNT_CAP + 2}+</div>' in page


def _flows(user) -> dict:
    return {
        (f["from_status"], f["to_status"]): (f["this_month"], f["last_month"]) for f in dashboard_build(user=user).flows
    }


@pytest.mark.parametrize("night", [False, True], ids=["live", "from the night's snapshot"])
def test_dashboard_flows_compare_this_month_with_last(business, manager, owner, outsider, night):
    client = Client.objects.filter(owner=owner).first()
    today = TODAY()
    last_month = today.replace(day=1) - dt.timedelta(days=3)
    StatusChange.objects.all().delete()
    FlowSnapshot.objects.all().delete()
    for date in (today, today, last_month):
        StatusChange.objects.create(client=client, from_status="active", to_status="dormant", date=date)
    StatusChange.objects.create(client=client, from_status="dormant", to_status="active", date=last_month)
    StatusChange.objects.create(client=client, from_status="dormant", to_status="active", date=last_month - dt.timedelta(days=31))
    StatusChange.objects.create(  # another team's
        client=Client.objects.filter(owner=outsider).first(), from_status="active", to_status="dormant", date=today,
    )
    if night:
        flow_snapshot_take(day=today)
        assert FlowSnapshot.objects.filter(date=today).exists()
    assert _flows(manager) == {("active", "dormant"): (2, 1), ("dormant", "active"): (0, 1)}


def test_dashboard_flows_add_the_changes_written_since_the_nights_snapshot(business, manager, owner):
    client = Client.objects.filter(owner=owner).first()
    today = TODAY()
    flow_snapshot_take(day=today)
    before = _flows(manager)
    StatusChange.objects.create(client=client, from_status="dormant", to_status="active", date=today)
    after = _flows(manager)
    assert after[("dormant", "active")][0] == before.get(("dormant", "active"), (0, 0))[0] + 1
    # The night's figures are read, not recounted: a change gone since still counts until the next night.
    StatusChange.objects.filter(client__owner=owner, created_at__lt=FlowSnapshot.objects.values("taken_at")[:1]).delete()
    assert _flows(manager) == after
    flow_snapshot_take(day=today)
    live = _flows(manager)
    FlowSnapshot.objects.all().delete()
    assert _flows(manager) == live != after


def test_dashboard_flows_are_live_when_the_night_is_of_an_earlier_month(business, manager, owner):
    client = Client.objects.filter(owner=owner).first()
    today = TODAY()
    snapshot_backfill(day=today.replace(day=1) - dt.timedelta(days=1), thresholds=Thresholds())
    DailySnapshot.objects.filter(date=today).delete()
    flow_snapshot_take(day=today.replace(day=1) - dt.timedelta(days=1))
    StatusChange.objects.all().delete()
    StatusChange.objects.create(client=client, from_status="active", to_status="dormant", date=today)
    assert _flows(manager) == {("active", "dormant"): (1, 0)}


def test_dashboard_trend_has_the_last_snapshot_of_each_month(business, manager, owner):
    for days in (70, 40, 35):
        snapshot_backfill(day=TODAY() - dt.timedelta(days=days), thresholds=Thresholds())
    trend = dashboard_build(user=manager).trend
    dates = [point["date"] for point in trend]
    assert dates == sorted(dates) and dates[-1] == TODAY()
    assert len({(d.year, d.month) for d in dates}) == len(dates)


def test_dashboard_page_links_each_number_to_exactly_those_clients(client, business, manager, owner, teammate):
    client.force_login(manager)
    content = client.get(reverse("segmentation:dashboard")).content.decode()
    dormant = Client.objects.filter(owner__in=[owner, teammate], status="dormant").count()
    assert f'href="/clients/?status=dormant" data-testid="status-dormant">{dormant}<' in content
    listed = client.get("/clients/?status=dormant").context["table"].data
    assert len(list(listed)) == dormant


def test_an_administrador_picks_a_team(client, business, admin_user, team, owner, teammate):
    client.force_login(admin_user)
    response = client.get(reverse("segmentation:dashboard"), {"team": team.pk})
    board = response.context["board"]
    assert {entry["person"] for entry in board.by_person} == {owner, teammate}
    assert client.get(reverse("segmentation:dashboard"), {"team": 999}).status_code == 404
    # The everyone view: each team's line opens that team's clients.
    content = client.get(reverse("segmentation:dashboard")).content.decode()
    assert f"/clients/?status=dormant&amp;team={team.pk}" in content
    listed = client.get("/clients/", {"status": "dormant", "team": team.pk}).context["table"].data
    assert {c.pk for c in listed} == set(
        Client.objects.filter(owner__team=team, status="dormant").values_list("pk", flat=True)
    )


def test_a_segment_exports_its_clients_only(client, business, manager, owner, teammate, outsider):
    for record in Client.objects.all():  # a unique reference to tell the rows apart
        Client.objects.filter(pk=record.pk).update(client_ref=f"R{record.pk}")
    segment = segment_create(owner=manager, name="Dormidos del equipo", shared=True, query=QueryDict("status=dormant"))
    client.force_login(manager)
    response = client.get(reverse("segmentation:segment_export", args=[segment.pk, "csv"]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    refs = [row[0] for row in csv.reader(io.StringIO(body), delimiter=";")][1:]
    expected = Client.objects.filter(owner__in=[owner, teammate], status="dormant")
    assert sorted(refs) == sorted(expected.values_list("client_ref", flat=True))
    assert not set(refs) & set(Client.objects.filter(owner=outsider).values_list("client_ref", flat=True))
    assert "dormidos-del-equipo" in response["Content-Disposition"]
    client.force_login(outsider)
    own = client.get(reverse("segmentation:segment_export", args=[segment.pk, "csv"]))
    assert (
        b"".join(own.streaming_content).decode("utf-8-sig").count("\n")
        == 1 + Client.objects.filter(owner=outsider, status="dormant").count()
    )


def test_dashboard_segment_shares_come_from_the_nights_segment_snapshot(business, manager, owner, teammate):
    segment = segment_create(owner=manager, name="Dormidos", shared=False, query=QueryDict("status=dormant"))
    lifecycle_recompute()  # the night: statuses, snapshots, segment snapshots
    board = dashboard_build(user=manager)
    [row] = board.segments
    dormant = Client.objects.filter(owner__in=[owner, teammate], status="dormant")
    assert (row.label, row.cell.clients, row.cell.revenue) == (
        "Dormidos",
        dormant.count(),
        sum(c.spend_12m for c in dormant),
    )
    total = sum(Client.objects.filter(owner__in=[owner, teammate]).values_list("spend_12m", flat=True))
    assert row.share == round(float(row.cell.revenue * 100 / total), 1)
    assert segment.snapshots.exists()


def test_segments_with_the_same_query_are_counted_once_and_each_gets_its_snapshot(business, manager, owner):
    from django.db import connection
    from django.db.models import Count, Sum
    from django.test.utils import CaptureQueriesContext

    from segmentation.models import SegmentSnapshot
    from segmentation.snapshots import segment_snapshots_take

    first = segment_create(owner=manager, name="Todos", shared=False, query=QueryDict(""))
    second = segment_create(owner=manager, name="Todos otra vez", shared=False, query=QueryDict(""))
    own = segment_create(owner=owner, name="Mis dormidos", shared=False, query=QueryDict("status=dormant"))
    day = timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        segment_snapshots_take(day=day)
    grouped = [q["sql"] for q in queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 2  # the empty filter once, the dormant one once

    def rows(segment):
        return sorted(SegmentSnapshot.objects.filter(segment=segment, date=day).values_list("owner_id", "clients", "spend_12m"))

    assert rows(first) == rows(second) and rows(first)
    assert sum(n for _owner, n, _spend in rows(first)) == Client.objects.not_in_trash().count()
    dormant = Client.objects.not_in_trash().filter(status="dormant").order_by().values_list("owner_id")
    assert rows(own) == sorted(dormant.annotate(n=Count("pk"), s=Sum("spend_12m")))  # the reader scopes them


def test_a_segment_whose_filter_can_match_nobody_gets_no_rows_and_the_others_theirs(business, manager, owner, monkeypatch):
    from clients.filters import ClientFilter
    from segmentation.models import SegmentSnapshot
    from segmentation.snapshots import segment_snapshots_take

    nobody = segment_create(owner=manager, name="Nadie", shared=False, query=QueryDict("status=dormant"))
    everyone = segment_create(owner=owner, name="Todos", shared=False, query=QueryDict(""))
    real_qs = ClientFilter.qs
    # Django refuses to write SQL for a filter that can match nothing (EmptyResultSet).
    monkeypatch.setattr(ClientFilter, "qs", property(
        lambda filterset: Client.objects.none() if filterset.data.get("status") else real_qs.fget(filterset)
    ))
    segment_snapshots_take(day=timezone.localdate())
    assert not SegmentSnapshot.objects.filter(segment=nobody).exists()
    assert SegmentSnapshot.objects.filter(segment=everyone).exists()


def test_a_segment_a_campaign_was_sent_to_is_not_deleted(client, owner):
    from campaigns.models import Campaign

    segment = segment_create(owner=owner, name="Con campaña", shared=False, query=QueryDict(""))
    Campaign.objects.create(name="C", goal=Campaign.Goal.PROMOTION, segment=segment, created_by=owner, subject="s", body="b")
    client.force_login(owner)
    response = client.post(reverse("segmentation:segment_delete", args=[segment.pk]))
    assert response.status_code == 302 and Segment.objects.filter(pk=segment.pk).exists()
