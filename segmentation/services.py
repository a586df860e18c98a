import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, Purchase, Status, VolumeTier
from core.money import cents
from segmentation.alerts import recompute_alerts
from segmentation.automation import automatic_followups_create
from segmentation.engine import TWELVE_MONTHS_DAYS, apply_chunk, preview_statuses, preview_tiers, recompute_lifecycle
from segmentation.models import LifecycleSettings, StatusChange
from segmentation.rules import Thresholds, status_for, status_since_for
from segmentation.snapshots import segment_snapshots_take, snapshot_take


def current_thresholds() -> Thresholds:
    return LifecycleSettings.current().thresholds()


@transaction.atomic
def lifecycle_refresh_client(client_id: int, *, as_of: dt.date | None = None, cause: str = StatusChange.Cause.PURCHASE) -> Client:
    """Recomputes one client's figures and status at once (after a purchase or an edit)."""
    as_of = as_of or timezone.localdate()
    # FOR NO KEY UPDATE: concurrent purchases of this client (their FK check takes FOR KEY SHARE) do not deadlock.
    client = Client.objects.select_for_update(no_key=True).get(pk=client_id)
    window_start = as_of - dt.timedelta(days=TWELVE_MONTHS_DAYS - 1)
    figures = Purchase.objects.filter(client_id=client_id, date__lte=as_of).aggregate(
        first=Min("date"), last=Max("date"), count=Count("id"), total=Sum("amount"),
        spend_12m=Sum("amount", filter=Q(date__gte=window_start)),
    )
    total = figures["total"] or Decimal("0")
    count = figures["count"]
    client.first_purchase_date = figures["first"]
    client.last_purchase_date = figures["last"]
    client.purchase_count = count
    client.total_spent = total
    client.spend_12m = figures["spend_12m"] or Decimal("0")
    client.average_basket = cents(total / count) if count else Decimal("0")
    thresholds = current_thresholds()
    new_status = status_for(
        as_of=as_of, first_purchase=figures["first"], last_purchase=figures["last"],
        closed_at=client.closed_at, thresholds=thresholds,
    )
    fields = ["first_purchase_date", "last_purchase_date", "purchase_count", "total_spent", "spend_12m", "average_basket"]
    if new_status != client.status:
        if client.closed_at and new_status == "lost" and cause == StatusChange.Cause.PURCHASE:
            cause = StatusChange.Cause.CLOSURE
        StatusChange.objects.create(client=client, from_status=client.status, to_status=new_status, date=as_of, cause=cause)
        client.status_since = status_since_for(
            status=new_status, previous=client.status, as_of=as_of, first_purchase=figures["first"],
            last_purchase=figures["last"], closed_at=client.closed_at, thresholds=thresholds,
        )
        client.status = new_status
        fields += ["status", "status_since"]
    Client.objects.filter(pk=client_id).update(**{name: getattr(client, name) for name in fields})
    if new_status == Status.NEW and "status" in fields:
        # Of the automatic follow-ups only the welcome call follows from a purchase; the others
        # come from the nightly run (turning dormant, contracts nearing their end).
        automatic_followups_create(as_of=as_of, thresholds=thresholds, client_ids=[client_id])
    recompute_alerts(timezone.now(), thresholds, [client_id])
    return client


def alert_refresh_client(client_id: int) -> int:
    """Recomputes one client's colour alert at once (after a purchase, interaction or follow-up)."""
    return recompute_alerts(timezone.now(), current_thresholds(), [client_id])


def followups_and_colours_refresh(*, as_of: dt.date, client_ids: list[int] | None = None) -> dict:
    """The automatic follow-ups the new statuses ask for, then the colours, which depend on both."""
    thresholds = current_thresholds()
    created = automatic_followups_create(as_of=as_of, thresholds=thresholds, client_ids=client_ids)
    return {"followups_created": created, "alerts_changed": recompute_alerts(timezone.now(), thresholds, client_ids)}


def snapshots_take(*, as_of: dt.date) -> dict:
    """The day's snapshots: the dashboard's figures and trends, and each saved segment's."""
    return {"snapshot_rows": snapshot_take(day=as_of), "segment_snapshot_rows": segment_snapshots_take(day=as_of)}


def after_recompute(*, as_of: dt.date, client_ids: list[int] | None = None) -> dict:
    """What follows a recompute of every client (or of `client_ids`): follow-ups and colours;
    after a full run, the day's snapshots."""
    result = followups_and_colours_refresh(as_of=as_of, client_ids=client_ids)
    if client_ids is None:
        result.update(snapshots_take(as_of=as_of))
    return result


def lifecycle_recompute(
    *, as_of: dt.date | None = None, id_range: tuple[int, int] | None = None, with_consequences: bool = True,
) -> dict:
    """Recomputes every client (or the ids in [lo, hi)) with the administrador's thresholds.

    A run over every client then creates the automatic follow-ups, recomputes every alert and
    takes the day's snapshots, unless `with_consequences` is False: the nightly run does those
    as steps of their own (segmentation.tasks).
    """
    from django.conf import settings

    as_of = as_of or timezone.localdate()
    result = recompute_lifecycle(as_of, current_thresholds(), id_range, workers=settings.LIFECYCLE_WORKERS)
    if id_range is None and with_consequences:
        result.update(after_recompute(as_of=as_of))
    return result


def lifecycle_recompute_clients(
    *, client_ids: list[int], as_of: dt.date | None = None, cause: str = StatusChange.Cause.RECOMPUTE,
) -> dict:
    """Recomputes a set of clients (after an import) in one engine pass.

    The quintiles and the mean spend are computed over everyone, so these clients end up
    exactly as a full run would leave them; the others are untouched.
    """
    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        result = apply_chunk(as_of, current_thresholds(), None, list(client_ids), cause=cause)
        result.update(after_recompute(as_of=as_of, client_ids=list(client_ids)))
    return result


@dataclass(frozen=True)
class PreviewRow:
    code: str
    label: str
    now: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.now


def lifecycle_settings_preview(*, proposed: Thresholds) -> dict[str, list[PreviewRow]]:
    """How many clients each status and tier would hold with `proposed`, against the current ones.

    Both sides are computed the same way (stored dates and spend, today) so that the difference
    is the effect of the thresholds alone, not of purchases since the last nightly run.
    """
    today = timezone.localdate()
    current = current_thresholds()
    statuses_now, statuses_after = preview_statuses(today, current), preview_statuses(today, proposed)
    tiers_now, tiers_after = preview_tiers(current), preview_tiers(proposed)
    tier_labels = [*VolumeTier.choices, ("", _("No purchases in 12 months"))]
    return {
        "statuses": [PreviewRow(c, str(label), statuses_now[c], statuses_after[c]) for c, label in Status.choices],
        "tiers": [PreviewRow(c, str(label), tiers_now[c], tiers_after[c]) for c, label in tier_labels],
    }


NIGHTLY_TASK_NAME = "Nightly lifecycle recompute"  # seeded by migration 0003


@transaction.atomic
def lifecycle_settings_update(*, lifecycle_settings: LifecycleSettings) -> LifecycleSettings:
    """Saves the thresholds and moves the nightly run to the chosen hour (django_celery_beat)."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    lifecycle_settings.full_clean()
    lifecycle_settings.save()
    task = PeriodicTask.objects.filter(name=NIGHTLY_TASK_NAME).select_related("crontab").first()
    if task is not None and (task.crontab is None or task.crontab.hour != str(lifecycle_settings.nightly_hour)):
        task.crontab, _created = CrontabSchedule.objects.get_or_create(
            minute="0", hour=str(lifecycle_settings.nightly_hour), day_of_week="*", day_of_month="*",
            month_of_year="*", timezone=settings.TIME_ZONE,
        )
        task.save()
    return lifecycle_settings
