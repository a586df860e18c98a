import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.models import LifecycleSettings
from segmentation.services import lifecycle_recompute

URL = "/settings/lifecycle/"
FORM = {
    "alta_window_days": 30, "dormido_after_days": 90, "baja_after_days": 365, "tier_very_high": "2.0",
    "tier_high": "1.2", "tier_medium": "0.6", "frequent_max_days": 30, "habitual_max_days": 90, "nightly_hour": 2,
    "valuable_dormant_days": 7, "renewal_notice_days": 30, "due_soon_days": 2, "awaiting_limit_days": 7,
    "contact_cadence_days": 45, "valuable_dormant_enabled": "on", "auto_reactivation_enabled": "on",
    "reactivation_due_days": 2, "auto_renewal_enabled": "on", "renewal_call_days": 30, "auto_welcome_enabled": "on",
    "welcome_after_days": 7, "morning_summary_enabled": "on", "renewal_window_days": 60, "campaign_calls_per_day": 8,
    "workday_start": "09:00", "workday_end": "18:00", "leave_alert_share": 40, "leave_alert_minimum": 5,
}


def buyers(owner, *days_ago_and_amount):
    today = timezone.localdate()
    for days, amount in days_ago_and_amount:
        PurchaseFactory(client=ClientFactory(owner=owner), date=today - dt.timedelta(days=days), amount=amount)
    lifecycle_recompute()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_only_administradores_edit_thresholds(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("segmentation:lifecycle_settings")).status_code == 403
    assert client.post(reverse("segmentation:lifecycle_settings"), {**FORM, "save": "1"}).status_code == 403


@pytest.mark.django_db
def test_preview_shows_the_effect_without_saving(client, admin_user, owner):
    buyers(owner, (70, 100), (80, 100), (10, 100), (200, 100))
    client.force_login(admin_user)
    response = client.post(URL, {**FORM, "dormido_after_days": 60, "preview": "1"})
    assert response.status_code == 200
    statuses = {row.code: row for row in response.context["preview"]["statuses"]}
    assert (statuses["active"].now, statuses["active"].after) == (2, 0)  # bought 70 and 80 days ago
    assert (statuses["new"].now, statuses["new"].after) == (1, 1)
    assert (statuses["dormant"].now, statuses["dormant"].after, statuses["dormant"].delta) == (1, 3, 2)
    assert LifecycleSettings.current().dormido_after_days == 90


@pytest.mark.django_db
def test_preview_of_tiers_matches_what_the_next_run_gives(client, admin_user, owner):
    buyers(owner, (5, 100), (6, 300), (7, 50), (8, 900))
    client.force_login(admin_user)
    proposed = {**FORM, "tier_very_high": "3.0", "tier_high": "1.5", "tier_medium": "0.3"}
    preview = client.post(URL, {**proposed, "preview": "1"}).context["preview"]
    client.post(URL, {**proposed, "save": "1"})
    lifecycle_recompute()
    actual = {code: Client.objects.filter(volume_tier=code).count() for code in ("very_high", "high", "medium", "low", "")}
    assert {row.code: row.after for row in preview["tiers"]} == actual


@pytest.mark.django_db
def test_saving_validates_and_moves_the_nightly_hour(client, admin_user, beat_schedule):
    from django_celery_beat.models import PeriodicTask

    client.force_login(admin_user)
    response = client.post(URL, {**FORM, "dormido_after_days": 400, "save": "1"})
    assert response.status_code == 200
    assert "The lost threshold must be longer" in response.content.decode() or "baja" in response.content.decode().lower()
    assert LifecycleSettings.current().dormido_after_days == 90
    response = client.post(URL, {**FORM, "dormido_after_days": 60, "nightly_hour": 4, "save": "1"})
    assert response.status_code == 302
    assert LifecycleSettings.current().dormido_after_days == 60
    assert PeriodicTask.objects.get(name="Nightly lifecycle recompute").crontab.hour == "4"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_administrador_previews_then_saves_a_shorter_dormancy(live_server, login, admin_user, owner):
    buyers(owner, (70, 100), (80, 100), (10, 100))
    page = login(admin_user)
    page.get_by_role("button", name="Administración").click()
    page.get_by_role("link", name="Umbrales").click()
    page.fill("input[name=dormido_after_days]", "60")
    page.get_by_role("button", name="Vista previa").click()
    expect(page.get_by_test_id("delta-statuses-dormant")).to_have_text("+2")
    assert LifecycleSettings.current().dormido_after_days == 90
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert LifecycleSettings.current().dormido_after_days == 60
