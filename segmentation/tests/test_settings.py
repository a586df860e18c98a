import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django_celery_beat.models import PeriodicTask

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.engine import preview_statuses, recompute_lifecycle
from segmentation.models import LifecycleSettings
from segmentation.rules import Thresholds
from segmentation.services import current_thresholds, lifecycle_refresh_client, lifecycle_settings_update

AS_OF = dt.date(2026, 6, 30)


def test_current_creates_the_one_row_with_the_domain_defaults(db):
    settings = LifecycleSettings.current()

    assert settings.pk == 1
    assert LifecycleSettings.current().pk == 1
    assert LifecycleSettings.objects.count() == 1
    assert settings.thresholds() == Thresholds()
    assert settings.nightly_hour == 2


def test_current_thresholds_read_the_saved_settings(db):
    LifecycleSettings.objects.create(pk=1, dormido_after_days=60, tier_high=Decimal("1.5"), habitual_max_days=70)

    thresholds = current_thresholds()

    assert (thresholds.dormido_after_days, thresholds.tier_high, thresholds.habitual_max_days) == (60, Decimal("1.5"), 70)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"alta_window_days": 0}, "alta_window_days"),
        ({"alta_window_days": 90}, "dormido_after_days"),
        ({"dormido_after_days": 365}, "baja_after_days"),
        ({"tier_very_high": Decimal("1.2")}, "tier_very_high"),
        ({"tier_medium": Decimal("1.3")}, "tier_high"),
        ({"tier_medium": Decimal("0")}, "tier_medium"),
        ({"frequent_max_days": 90}, "habitual_max_days"),
        ({"nightly_hour": 24}, "nightly_hour"),
    ],
)
def test_settings_reject_inconsistent_thresholds(db, changes, field):
    settings = LifecycleSettings(**changes)

    with pytest.raises(ValidationError) as error:
        settings.full_clean()

    assert field in error.value.message_dict


def test_default_settings_are_valid(db):
    LifecycleSettings().full_clean()


def test_the_single_client_refresh_uses_the_saved_thresholds(owner):
    LifecycleSettings.objects.create(pk=1, alta_window_days=5, dormido_after_days=10, baja_after_days=20)
    client = ClientFactory(owner=owner)
    PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=11))

    assert lifecycle_refresh_client(client.pk, as_of=AS_OF).status == "dormant"


def test_the_single_client_refresh_agrees_with_the_engine_on_figures_and_status(owner):
    clients = []
    for amounts, days in [(["0.02", "0.03"], [1, 2]), (["10.10", "20.20", "30.31"], [10, 200, 364]), (["5"], [365])]:
        client = ClientFactory(owner=owner)
        for amount, day in zip(amounts, days, strict=True):
            PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=day), amount=Decimal(amount))
        clients.append(client)
    fields = ["status", "first_purchase_date", "last_purchase_date", "purchase_count", "total_spent", "spend_12m", "average_basket"]
    for client in clients:
        lifecycle_refresh_client(client.pk, as_of=AS_OF)
    refreshed = list(Client.objects.order_by("id").values(*fields))

    result = recompute_lifecycle(AS_OF, current_thresholds())

    assert list(Client.objects.order_by("id").values(*fields)) == refreshed
    assert result["status_changes"] == 0


def test_preview_counts_statuses_with_other_thresholds_without_writing(owner):
    client = ClientFactory(owner=owner)
    PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=50))
    lifecycle_refresh_client(client.pk, as_of=AS_OF)

    preview = preview_statuses(AS_OF, Thresholds(dormido_after_days=40))

    assert preview == {"prospect": 0, "new": 0, "active": 0, "dormant": 1, "lost": 0}
    assert Client.objects.get().status == "active"


def test_preview_with_the_same_thresholds_matches_the_engine(owner):
    for days, closed in [(5, None), (50, None), (100, None), (400, None), (None, None), (20, 10), (None, 3)]:
        client = ClientFactory(owner=owner, closed_at=AS_OF - dt.timedelta(days=closed) if closed else None)
        if days is not None:
            PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=days))

    result = recompute_lifecycle(AS_OF, Thresholds())

    assert preview_statuses(AS_OF, Thresholds()) == result["statuses"]
    assert result["statuses"] == {"prospect": 1, "new": 1, "active": 1, "dormant": 1, "lost": 3}


def test_changing_the_nightly_hour_moves_the_beat_schedule(beat_schedule):
    settings = LifecycleSettings.current()
    settings.nightly_hour = 4

    lifecycle_settings_update(lifecycle_settings=settings)

    crontab = PeriodicTask.objects.get(name="Nightly lifecycle recompute").crontab
    assert (crontab.hour, crontab.minute, str(crontab.timezone)) == ("4", "0", "Europe/Madrid")


def test_admin_opens_the_single_row_and_saves_valid_thresholds(client, admin_user, beat_schedule):
    client.force_login(admin_user)

    response = client.get(reverse("admin:segmentation_lifecyclesettings_changelist"))
    assert response.status_code == 302
    page = client.get(response.url)
    assert page.status_code == 200
    assert page.content.decode().count(": 0 → 0</div>") == 5  # no clients: every status stays at 0

    data = {
        "alta_window_days": 20, "dormido_after_days": 80, "baja_after_days": 300, "tier_very_high": "2.5",
        "tier_high": "1.2", "tier_medium": "0.6", "frequent_max_days": 30, "habitual_max_days": 90, "nightly_hour": 3,
        "valuable_dormant_days": 7, "renewal_notice_days": 30, "due_soon_days": 2, "awaiting_limit_days": 7,
        "contact_cadence_days": 45,
    }
    saved = client.post(response.url, data)
    assert saved.status_code == 302
    assert LifecycleSettings.current().dormido_after_days == 80
    assert PeriodicTask.objects.get(name="Nightly lifecycle recompute").crontab.hour == "3"


def test_admin_refuses_inconsistent_thresholds(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:segmentation_lifecyclesettings_change", args=[LifecycleSettings.current().pk])
    data = {
        "alta_window_days": 100, "dormido_after_days": 90, "baja_after_days": 365, "tier_very_high": "2.0",
        "tier_high": "1.2", "tier_medium": "0.6", "frequent_max_days": 30, "habitual_max_days": 90, "nightly_hour": 2,
        "valuable_dormant_days": 7, "renewal_notice_days": 30, "due_soon_days": 2, "awaiting_limit_days": 7,
        "contact_cadence_days": 45,
    }

    response = client.post(url, data)

    assert response.status_code == 200
    assert str(_("The dormant threshold must be longer than the new-client window.")) in response.content.decode()
    assert LifecycleSettings.current().alta_window_days == 30


def test_the_settings_page_is_for_administradores_only(client, owner, manager):
    url = reverse("admin:segmentation_lifecyclesettings_changelist")
    for user in (owner, manager):
        client.force_login(user)
        assert client.get(url).status_code == 302
        assert "/login/" in client.get(url).url
