"""The demo's sources, referrals and status history (demo/origins.py): the sources page, the best
referrers and the dashboard's flows show something on a fresh `make demo`."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from clients.models import Client
from segmentation.models import FlowSnapshot, StatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    out = io.StringIO()
    call_command("seed_demo", stdout=out, clients=300, seed=3)
    return out.getvalue()


def test_seed_demo_records_sources_referrals_and_a_year_of_status_changes(demo):
    today = timezone.localdate()
    assert "referrals:" in demo and "status changes over the last year:" in demo
    assert Client.objects.filter(source="campaign").exclude(source_detail="").exists()
    referred = Client.objects.filter(referred_by__isnull=False).select_related("referred_by")
    assert referred.count() > 10
    for client in referred:
        assert client.source == "referral" and client.referred_by.owner_id == client.owner_id
        assert client.referred_by_id != client.pk
        if client.first_purchase_date:
            assert client.referred_by.first_purchase_date < client.first_purchase_date
    changes = StatusChange.objects.all()
    assert changes.filter(date__lt=today - dt.timedelta(days=365)).count() == 0
    assert changes.filter(date__gt=today).count() == 0
    assert {"new", "active", "dormant", "lost"} <= set(changes.values_list("to_status", flat=True))
    assert changes.filter(date__gte=today.replace(day=1) - dt.timedelta(days=40)).exists()  # the dashboard's flows
    # which read the night's count of them, taken after the history was written.
    since = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    counted = FlowSnapshot.objects.filter(date=today).aggregate(n=Sum("changes"))["n"]
    assert counted == changes.filter(date__gte=since).count() > 0
    # The history ends where the engine left each client: its latest change is its status.
    latest = {}
    for client_id, to_status in changes.order_by("client_id", "date", "id").values_list("client_id", "to_status"):
        latest[client_id] = to_status
    statuses = dict(Client.objects.filter(pk__in=latest).values_list("pk", "status"))
    mismatched = [pk for pk, status in latest.items() if statuses.get(pk) not in (status, None)]
    assert len(mismatched) <= len(latest) // 50, mismatched[:10]


def test_the_sources_and_referrers_pages_show_the_demo(demo):
    manager = User.objects.get(username="gerente")
    browser = Browser()
    browser.force_login(manager)
    report = browser.get(reverse("segmentation:source_report")).context["report"]
    assert report.total > 20
    assert {"referral", "web", "campaign"} <= {cohort.source for cohort in report.cohorts}
    assert any(cohort.active_share(12) is not None for cohort in report.cohorts)
    assert any(cohort.revenue_per_client for cohort in report.cohorts)
    rows = browser.get(reverse("clients:referrer_list")).context["rows"]
    assert rows and rows[0]["referred"] >= rows[-1]["referred"]
    page = browser.get(rows[0]["client"].get_absolute_url())
    assert page.context["referrals"].count == rows[0]["referred"]
    assert browser.get(reverse("segmentation:dashboard")).context["board"].sources
