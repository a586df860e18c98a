"""Where altas come from (segmentation/sources.py): every figure against a hand-computed example.

Today is 2026-12-15, the dormancy threshold 90 days; the period is the 24 months from 2025-01-01.

    client  source    first buy   closed      purchases (date €)                       visible to owner
    A       referral  2025-03-10  —           03-10 100, 05-20 50, 12-01 200, 2026-03-09 1000   yes
    B       referral  2025-06-01  —           06-01 300                                          yes
    C       campaign  2026-10-20  —           10-20 80, 12-01 20                                 yes
    D       campaign  2025-09-01  2025-10-01  09-01 500, 11-15 100 (bought again after closing)  yes
    I       campaign  2026-01-10  2026-02-01  01-10 40                                           yes
    F       web       2026-12-15  —           12-15 70                                           yes
    E       —         2024-12-31  —           before the period                                  yes
    G       web       2025-05-05  —           another portfolio's                                 no
    H       referral  2025-04-04  —           in the trash                                       no

Day 90 / 180 / 365 after the first purchase, and a purchase after the first one in [day − 90, day]
and after any closing:
    A: 2025-06-08 yes (05-20) · 2025-09-06 no · 2026-03-10 yes (2026-03-09); first 365 days: 1,350
    B: 2025-08-30 no (its first purchase, 90 days before, is not buying again) · 2025-11-28 no
       · 2026-06-01 no; 300
    C: 2027-01-18 not yet come: counted in no share
    D: 2025-11-30 yes (11-15, after the closing) · 2026-02-28 no · 2026-09-01 no; 600
    I: 2026-04-10 no (its purchase came before the closing) · 2026-07-09 no · 2027-01-10 not yet
So referral: 2 altas, 3 months 1 of 2 (50 %), 6 months 0 of 2, 12 months 1 of 2 (50 %),
revenue (1,350 + 300) / 2 = 825; campaign: 3 altas, 3 months 1 of 2 (50 %), 6 months 0 of 2,
12 months 0 of 1 (D only), revenue 600 / 1; web: 1 alta, nothing known yet.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.services import current_thresholds
from segmentation.sources import dashboard_sources, period_start, sources_report

TODAY = dt.date(2026, 12, 15)
D = dt.date


def _client(owner, source, first, purchases, *, closed=None, **extra):
    client = ClientFactory(owner=owner, source=source, first_purchase_date=first, closed_at=closed, **extra)
    for day, amount in purchases:
        PurchaseFactory(client=client, date=day, amount=Decimal(amount))
    return client


@pytest.fixture
def example(owner, outsider):
    clients = {
        "A": _client(owner, "referral", D(2025, 3, 10), [
            (D(2025, 3, 10), "100"), (D(2025, 5, 20), "50"), (D(2025, 12, 1), "200"), (D(2026, 3, 9), "1000"),
        ]),
        "B": _client(owner, "referral", D(2025, 6, 1), [(D(2025, 6, 1), "300")]),
        "C": _client(owner, "campaign", D(2026, 10, 20), [(D(2026, 10, 20), "80"), (D(2026, 12, 1), "20")]),
        "D": _client(owner, "campaign", D(2025, 9, 1), [(D(2025, 9, 1), "500"), (D(2025, 11, 15), "100")],
                     closed=D(2025, 10, 1), close_reason="price"),
        "I": _client(owner, "campaign", D(2026, 1, 10), [(D(2026, 1, 10), "40")], closed=D(2026, 2, 1), close_reason="price"),
        "F": _client(owner, "web", TODAY, [(TODAY, "70")]),
        "E": _client(owner, "", D(2024, 12, 31), [(D(2024, 12, 31), "900")]),
        "G": _client(outsider, "web", D(2025, 5, 5), [(D(2025, 5, 5), "10")]),
        "H": _client(owner, "referral", D(2025, 4, 4), [(D(2025, 4, 4), "10")]),
    }
    Client.objects.filter(pk=clients["H"].pk).update(deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return clients


def _report(user):
    return sources_report(visible=Client.objects.visible_to(user), dormant_after_days=90, today=TODAY)


def test_period_starts_on_the_first_of_the_month_23_months_back():
    assert period_start(TODAY) == D(2025, 1, 1)
    assert period_start(D(2026, 1, 31), 12) == D(2025, 2, 1)


@pytest.mark.django_db
def test_cohort_figures_match_the_hand_computed_example(example, owner):
    report = _report(owner)
    cohorts = {cohort.source: cohort for cohort in report.cohorts}
    assert list(cohorts) == ["campaign", "referral", "web"]  # in the order of Client.Source
    referral, campaign, web = cohorts["referral"], cohorts["campaign"], cohorts["web"]
    assert referral.altas == 2
    assert referral.active == {3: (2, 1), 6: (2, 0), 12: (2, 1)}
    assert [referral.active_share(m) for m in (3, 6, 12)] == [50.0, 0.0, 50.0]
    assert (referral.revenue_clients, referral.revenue, referral.revenue_per_client) == (2, Decimal("1650"), Decimal("825.00"))
    assert campaign.altas == 3
    assert campaign.active == {3: (2, 1), 6: (2, 0), 12: (1, 0)}
    assert campaign.active_share(3) == 50.0
    assert (campaign.revenue_clients, campaign.revenue_per_client) == (1, Decimal("600.00"))
    assert web.altas == 1
    assert web.active == {3: (0, 0), 6: (0, 0), 12: (0, 0)}
    assert web.active_share(3) is None and web.revenue_per_client is None
    assert report.total == 6


@pytest.mark.django_db
def test_altas_per_source_and_month_match_the_example(example, owner):
    report = _report(owner)
    assert report.months[0] == D(2026, 12, 1) and report.months[-1] == D(2025, 1, 1) and len(report.months) == 24
    assert [code for code, _label in report.sources] == ["campaign", "referral", "web"]
    rows = {row["month"]: (row["cells"], row["total"]) for row in report.rows}
    assert rows[D(2025, 3, 1)] == ([0, 1, 0], 1)
    assert rows[D(2025, 6, 1)] == ([0, 1, 0], 1)
    assert rows[D(2025, 9, 1)] == ([1, 0, 0], 1)
    assert rows[D(2026, 1, 1)] == ([1, 0, 0], 1)
    assert rows[D(2026, 10, 1)] == ([1, 0, 0], 1)
    assert rows[D(2026, 12, 1)] == ([0, 0, 1], 1)
    assert sum(total for _cells, total in rows.values()) == 6


@pytest.mark.django_db
def test_an_administrador_counts_every_portfolio(example, admin_user):
    cohorts = {cohort.source: cohort for cohort in _report(admin_user).cohorts}
    assert cohorts["web"].altas == 2  # G, another team's
    assert cohorts["web"].active == {3: (1, 0), 6: (1, 0), 12: (1, 0)}  # G bought once only
    assert cohorts["referral"].altas == 2  # H is in the trash


@pytest.mark.django_db
def test_dashboard_card_counts_the_last_twelve_months(example, owner):
    rows = dashboard_sources(owner_ids=[owner.pk], today=TODAY)
    assert [(row["code"], row["altas"]) for row in rows] == [("campaign", 2), ("web", 1)]  # I and C; F


@pytest.mark.django_db
def test_dashboard_card_reads_the_nights_source_snapshot(example, owner):
    from segmentation.snapshots import source_snapshot_take

    source_snapshot_take(day=TODAY)
    rows = dashboard_sources(owner_ids=[owner.pk], today=TODAY, day=TODAY)
    assert [(row["code"], row["altas"]) for row in rows] == [("campaign", 2), ("web", 1)]  # as counted live
    assert dashboard_sources(owner_ids=[owner.pk], today=TODAY, day=TODAY - dt.timedelta(days=1)) == []  # no night then


@pytest.mark.django_db
def test_sources_page_shows_the_figures(client, example, manager):
    client.force_login(manager)
    with translation.override("en"):
        response = client.get(reverse("segmentation:source_report"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    report = response.context["report"]
    assert {c.source: c.altas for c in report.cohorts}["referral"] == 2  # the manager sees the team's clients
    assert b'data-testid="cohort-referral"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 8])
def test_sources_page_queries_do_not_grow(client, django_assert_num_queries, manager, owner, size):
    for index in range(size):
        _client(owner, ["web", "referral", "campaign", ""][index % 4], D(2025, 2, 1) + dt.timedelta(days=37 * index),
                [(D(2025, 2, 1) + dt.timedelta(days=37 * index), "10")])
    current_thresholds()  # the settings' row exists, as after the first migration
    client.force_login(manager)
    # session, user, the thresholds, groups; the manager's team and shares (access rule), the
    # altas per month and source, the cohorts' figures.
    with django_assert_num_queries(8):
        response = client.get(reverse("segmentation:source_report"))
    assert response.status_code == 200
