import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, Status, VolumeTier
from core import events
from segmentation.alerts import colours_key, night_candidates, recompute_alerts
from segmentation.automation import automatic_followups_create
from segmentation.engine import (
    GlobalCuts,
    clients_refresh,
    night_recompute,
    preview_statuses,
    preview_tiers,
    recompute_lifecycle,
    thresholds_key,
)
from segmentation.ideal import fit_refresh_all
from segmentation.leaving import leave_reasons_update
from segmentation.models import LifecycleSettings, LifecycleState, StatusChange
from segmentation.rules import Thresholds
from segmentation.snapshots import (
    flow_snapshot_take,
    renewal_snapshot_take,
    segment_snapshots_take,
    snapshot_take,
    source_snapshot_take,
)


def current_thresholds() -> Thresholds:
    return LifecycleSettings.current().thresholds()


def _cuts_for(as_of: dt.date, thresholds) -> GlobalCuts | None:
    """The last run's cut points moved to `as_of`, for a write's refresh (None before any run or
    after new thresholds: the write then sets the status alone and the night the rest)."""
    state = LifecycleState.objects.filter(pk=1).first()
    if state is None or state.as_of is None or not state.cuts or state.thresholds_key != thresholds_key(thresholds):
        return None
    return GlobalCuts.from_json(state.cuts).shifted((as_of - state.as_of).days)


@transaction.atomic
def lifecycle_refresh_client(client_id: int, *, as_of: dt.date | None = None, cause: str = StatusChange.Cause.PURCHASE) -> Client:
    """Recomputes one client's figures, status and classes at once (after a purchase or an edit),
    then the welcome call of a client that has just become new and its colour."""
    as_of = as_of or timezone.localdate()
    # FOR NO KEY UPDATE: concurrent purchases of this client (their FK check takes FOR KEY SHARE) do not deadlock.
    before = Client.objects.select_for_update(no_key=True).values_list("status", flat=True).get(pk=client_id)
    thresholds = current_thresholds()
    clients_refresh(as_of, thresholds, (client_id, client_id + 1), _cuts_for(as_of, thresholds), cause=cause)
    client = Client.objects.get(pk=client_id)
    if client.status != before:  # a StatusChange row: the webhooks read it (core.events)
        events.emit(events.STATUS_CHANGED)
    if client.status == Status.NEW and before != Status.NEW:
        # Of the automatic follow-ups only the welcome call follows from a purchase; the others
        # come from the nightly run (turning dormant, contracts nearing their end).
        automatic_followups_create(as_of=as_of, thresholds=thresholds, client_ids=[client_id])
    recompute_alerts(timezone.now(), thresholds, [client_id])
    return client


def leave_reason_refresh_client(client_id: int) -> int:
    """A lost client's reason for leaving after an interaction is recorded (segmentation/leaving.py):
    the competitor or objection it notes may be the reason. Nothing for the other statuses."""
    with connection.cursor() as cursor:
        return leave_reasons_update(cursor, "AND c.id = %(client)s", {"client": client_id})


def alert_refresh_client(client_id: int) -> int:
    """Recomputes one client's colour alert at once (after a purchase, interaction or follow-up)."""
    return recompute_alerts(timezone.now(), current_thresholds(), [client_id])


def followups_and_colours_refresh(*, as_of: dt.date, client_ids: list[int] | None = None, full: bool = False) -> dict:
    """The automatic follow-ups the new statuses ask for, then the colours, which depend on both.

    Every client (`client_ids` None): the colours that can have moved since the last night's
    (alerts.night_candidates), or every colour when `full`, on the first run, after new
    thresholds or after a full lifecycle run today."""
    thresholds = current_thresholds()
    created = automatic_followups_create(as_of=as_of, thresholds=thresholds, client_ids=client_ids)
    if client_ids is not None:
        return {"followups_created": created, "alerts_changed": recompute_alerts(timezone.now(), thresholds, client_ids)}
    now = timezone.now()
    today, key = timezone.localdate(now), colours_key(thresholds)
    with transaction.atomic():
        state = LifecycleState.objects.select_for_update().filter(pk=1).first()
        full = (
            full or state is None or state.colours_as_of is None or state.colours_key != key
            or today < state.colours_as_of or state.full_as_of == as_of
        )
        scope = None if full else night_candidates(now, thresholds, since=state.colours_as_of)
        changed = recompute_alerts(now, thresholds, scope)
        LifecycleState.objects.update_or_create(pk=1, defaults={"colours_as_of": today, "colours_key": key})
    # The night's statuses and colours are done: what turned red, changed status or entered the
    # renewal notice is read from there, set-based (the webhooks, core.events).
    events.emit(events.NIGHTLY_DONE, {"as_of": as_of.isoformat()})
    return {
        "followups_created": created, "alerts_changed": changed, "colours_mode": "full" if full else "incremental",
        "colours_evaluated": None if scope is None else len(scope),
    }


def snapshots_take(*, as_of: dt.date) -> dict:
    """The day's snapshots: the dashboard's figures and trends, and each saved segment's; first
    every client's ideal profile fit and its figures per salesperson (segmentation/ideal.py), which
    segments may filter on and the dashboard shows."""
    result = fit_refresh_all()
    result.update(
        snapshot_rows=snapshot_take(day=as_of), segment_snapshot_rows=segment_snapshots_take(day=as_of),
        source_snapshot_rows=source_snapshot_take(day=as_of), flow_snapshot_rows=flow_snapshot_take(day=as_of),
        renewal_snapshot_rows=renewal_snapshot_take(day=as_of),
    )
    return result


def after_recompute(*, as_of: dt.date, client_ids: list[int] | None = None, full: bool = False) -> dict:
    """What follows a recompute of every client (or of `client_ids`): follow-ups and colours;
    after a run over every client, the day's snapshots."""
    result = followups_and_colours_refresh(as_of=as_of, client_ids=client_ids, full=full)
    if client_ids is None:
        result.update(snapshots_take(as_of=as_of))
    return result


def lifecycle_full_needed(*, as_of: dt.date, thresholds: Thresholds | None = None) -> bool:
    """Whether the night on `as_of` must read every purchase: no run yet, new thresholds, or a
    day before the last run's."""
    thresholds = thresholds or current_thresholds()
    return _full_needed(LifecycleState.objects.filter(pk=1).first(), as_of, thresholds)


def _full_needed(state: LifecycleState | None, as_of: dt.date, thresholds: Thresholds) -> bool:
    return (
        state is None or state.as_of is None or state.thresholds_key != thresholds_key(thresholds)
        or as_of < state.as_of
    )


def lifecycle_state_record(*, as_of: dt.date, thresholds: Thresholds, cuts: dict, full: bool) -> None:
    """The run on `as_of` is done: the next night starts from it."""
    values = {"as_of": as_of, "thresholds_key": thresholds_key(thresholds), "cuts": cuts}
    if full:
        values["full_as_of"] = as_of
    LifecycleState.objects.update_or_create(pk=1, defaults=values)


def lifecycle_recompute(
    *, as_of: dt.date | None = None, id_range: tuple[int, int] | None = None, with_consequences: bool = True,
    full: bool = False,
) -> dict:
    """Recomputes every client (or the ids in [lo, hi)) with the administrador's thresholds.

    Every client: the incremental night (engine.night_recompute) from the last run's state, or a
    full run when `full`, on the first run, after new thresholds or for a day before the last
    run's. A run over every client then creates the automatic follow-ups, recomputes the alerts
    and takes the day's snapshots, unless `with_consequences` is False: the nightly run does those
    as steps of their own (segmentation.tasks).
    """
    from django.conf import settings

    as_of = as_of or timezone.localdate()
    thresholds = current_thresholds()
    if id_range is not None:
        return recompute_lifecycle(as_of, thresholds, id_range)
    with transaction.atomic():
        state = LifecycleState.objects.select_for_update().filter(pk=1).first()
        full = full or _full_needed(state, as_of, thresholds)
        if full:
            result = recompute_lifecycle(as_of, thresholds, workers=settings.LIFECYCLE_WORKERS)
            result["mode"] = "full"
        else:
            result = night_recompute(as_of, thresholds, since=state.as_of, previous=GlobalCuts.from_json(state.cuts))
        lifecycle_state_record(as_of=as_of, thresholds=thresholds, cuts=result["cuts"], full=full)
    if with_consequences:
        result.update(after_recompute(as_of=as_of, full=full))
    return result


def lifecycle_recompute_clients(
    *, client_ids: list[int], as_of: dt.date | None = None, cause: str = StatusChange.Cause.RECOMPUTE,
) -> dict:
    """Recomputes a set of clients (after an import or a new exchange rate) in one engine pass:
    their figures from their purchases, their classes on the last night's cut points (as a single
    write does); the others are untouched until the night."""
    as_of = as_of or timezone.localdate()
    thresholds = current_thresholds()
    with transaction.atomic():
        result = clients_refresh(as_of, thresholds, list(client_ids), _cuts_for(as_of, thresholds), cause=cause)
        result.update(after_recompute(as_of=as_of, client_ids=list(client_ids)))
        events.emit(events.STATUS_CHANGED)
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
