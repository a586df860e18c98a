"""The nightly run: steps owned by their apps, chained with Celery's primitives.

    lifecycle ──► follow-ups and colours ──┬──► snapshots ──────────┐
    (segmentation; with a broker, id-range │──► recommendations ────┼──► finish: run closed,
     chunks in parallel, then a merge)     └──► morning summaries ──┘    lock freed

An arrow means "runs after, and only if, the step before it succeeded":

* lifecycle: every client's figures, status and classes. With a broker, a chord of id-range
  chunks sharing the global cut points computed by the launcher; in-process, one pass.
* follow-ups and colours (segmentation): the automatic follow-ups need the new statuses and the
  colours need both, so they are one step, in that order.
* snapshots (segmentation), recommendations (clients.tasks) and the morning summaries
  (segmentation.summary) each need the statuses, follow-ups and colours and nothing from each
  other: the header of a chord, run side by side, so that one failing stops none of the others.
  The summaries list the reds, the day's agenda and the clients that turned dormant; they do not
  wait for the snapshots or the recommendations. The snapshots step first writes the ideal
  profile fit of the clients whose fit changed and its figures per salesperson
  (segmentation.ideal.fit_refresh_all: the dashboard shows them beside the snapshots), then the
  snapshots, then campaigns' NPS snapshot (campaigns.nps.nps_snapshot_take), in its record's detail.

Every step is a thin task that calls its app's service and records itself (NightlyStep, via
segmentation.nightly.step_recorded); it is idempotent, so a retry or a second run changes
nothing more. A transient error (database, Redis, broker) is retried a few times with backoff
(core.tasks.RetriedTask). A step that fails for good is recorded with its error; the steps that
depend on it do not run (recorded as "not run"), and the error callback `nightly_failed` closes the
run and frees the lock at once, instead of leaving it held until it expires. When the three last
steps have ended, `nightly_finish` does the same (a worker calls `nightly_failed` instead if one
of them failed). The lock is taken by `nightly_recompute` and by `manage.py recompute_lifecycle`.

Not part of this graph, each its own beat entry (migration 0009_chores_schedule): the resumption of
interrupted campaigns (campaigns.tasks), the purge of the trash (privacy.tasks) and the requeue of
imports the broker never took (imports.tasks). The nightly entry (02:00 Europe/Madrid, moved by
LifecycleSettings.nightly_hour) lives in django_celery_beat, seeded by migration 0003.
"""

import datetime as dt
import logging

from celery import chain, chord, shared_task
from celery.canvas import Signature
from celery.result import allow_join_result
from django.utils import timezone

from clients.tasks import recommendations_step
from core.tasks import RetriedTask
from segmentation.models import NightlyStep
from segmentation.nightly import (
    LOCK_KEY,  # noqa: F401 - the lock's name, for callers that inspect it
    lock_acquire,
    lock_release,
    run_close,
    run_start,
    step_finished,
    step_recorded,
    step_started,
)

logger = logging.getLogger(__name__)

Step = NightlyStep.Name
CHUNK_SIZE = 50_000


def _as_of(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else timezone.localdate()


@shared_task(base=RetriedTask)
def nightly_recompute(as_of: str | None = None, chunk_size: int = CHUNK_SIZE) -> dict:
    """Beat's entry: takes the lock, records a run and starts its steps. A second run while one
    holds the lock does nothing."""
    day = _as_of(as_of)
    token = lock_acquire()
    if token is None:
        logger.info("Nightly run for %s skipped: another run holds the lock", day)
        return {"skipped": True}
    run = None
    try:
        run = run_start(as_of=day)
        chunked = not nightly_recompute.app.conf.task_always_eager
        workflow, chunks = nightly_workflow(run.pk, day, token, chunk_size=chunk_size if chunked else None)
        _launch(workflow, run.pk, token)
    except BaseException as error:
        if run is None:
            lock_release(token)
        else:
            run_close(run.pk, token, error=error)
        raise
    run.refresh_from_db(fields=["state"])
    return {"run": run.pk, "state": run.state, "chunks": chunks}


def nightly_workflow(run_id: int, day: dt.date, token: str, *, chunk_size: int | None) -> tuple[Signature, int]:
    """The canvas of the graph in the module docstring; `chunk_size` None: the lifecycle in one task."""
    on = day.isoformat()
    failed = nightly_failed.s(run_id=run_id, token=token)
    if chunk_size is None:
        lifecycle, chunks = lifecycle_step.si(run_id, on).on_error(failed), 0
    else:
        lifecycle, chunks = _lifecycle_chord(run_id, day, chunk_size, failed)
    independent = [snapshots_step.si(run_id, on), recommendations_step.si(run_id, on), summaries_step.si(run_id, on)]
    workflow = chain(
        lifecycle,
        followups_colours_step.si(run_id, on).on_error(failed),
        chord(independent, nightly_finish.si(run_id, token).on_error(failed)),
    )
    return workflow, chunks


def _lifecycle_chord(run_id: int, day: dt.date, chunk_size: int, failed: Signature) -> tuple[Signature, int]:
    """A full run's chunks, recomputed in parallel with the global cut points computed once here;
    the incremental night (the usual one) is a single task."""
    from segmentation.engine import global_cuts, id_chunks
    from segmentation.services import lifecycle_full_needed

    ranges = id_chunks(chunk_size) if lifecycle_full_needed(as_of=day) else []
    if not ranges:  # no clients (a chord needs a header), or the incremental night
        return lifecycle_step.si(run_id, day.isoformat()).on_error(failed), 0
    step_started(run_id, Step.LIFECYCLE)
    cuts = global_cuts(day).as_json()
    header = [recompute_chunk.si(lo, hi, day.isoformat(), cuts) for lo, hi in ranges]
    merge = lifecycle_merge.s(run_id, day.isoformat()).on_error(failed)
    return chord(header, merge), len(header)


def _launch(workflow: Signature, run_id: int, token: str) -> None:
    if not nightly_recompute.app.conf.task_always_eager:
        workflow.apply_async()
        return
    # In-process, as on a worker: a failing step does not fail the launcher (nor get it retried).
    # The chord would raise its header's first failure instead of calling its body (a worker
    # calls nightly_failed then): with propagate=False nightly_finish runs and reads the failures
    # from the records (RetriedTask already kept them from stopping the header).
    try:
        with allow_join_result():  # eager results, already computed: nothing waits on a worker
            workflow.apply(propagate=False)
    except Exception as error:  # a step the rest needs failed for good; recorded and logged by it
        run_close(run_id, token, error=error)  # nightly_failed has closed the run already: a no-op then


@shared_task(bind=True, base=RetriedTask)
def lifecycle_step(self, run_id: int, as_of: str) -> dict:
    """Every client's figures, status and classes in one pass (no broker: the demo)."""
    from segmentation.services import lifecycle_recompute

    with step_recorded(self, run_id, Step.LIFECYCLE) as step:
        result = lifecycle_recompute(as_of=_as_of(as_of), with_consequences=False)
        step.rows, step.detail = result["rows_changed"], result
    return result


@shared_task(base=RetriedTask)
def recompute_chunk(lo: int, hi: int, as_of: str, cuts: dict | None = None) -> dict:
    """Recomputes the clients with id in [lo, hi); `cuts` from the launcher, or computed here."""
    from segmentation.engine import GlobalCuts, apply_chunk
    from segmentation.services import current_thresholds

    shared = GlobalCuts.from_json(cuts) if cuts is not None else None
    return apply_chunk(_as_of(as_of), current_thresholds(), shared, (lo, hi))


@shared_task(base=RetriedTask)
def lifecycle_merge(results: list[dict], run_id: int, as_of: str) -> dict:
    """The chunks' figures added up and the full run recorded as the next night's start: the
    lifecycle step is done."""
    from segmentation.engine import merge_results
    from segmentation.services import current_thresholds, lifecycle_state_record

    merged = merge_results(results)
    merged["mode"] = "full"
    lifecycle_state_record(as_of=_as_of(as_of), thresholds=current_thresholds(), cuts=merged["cuts"], full=True)
    step_finished(run_id, Step.LIFECYCLE, rows=merged["rows_changed"], detail=merged)
    return merged


@shared_task(bind=True, base=RetriedTask)
def followups_colours_step(self, run_id: int, as_of: str) -> dict:
    """The automatic follow-ups the new statuses ask for, then every client's colour."""
    from segmentation.services import followups_and_colours_refresh

    with step_recorded(self, run_id, Step.FOLLOWUPS_COLOURS) as step:
        result = followups_and_colours_refresh(as_of=_as_of(as_of))
        step.rows, step.detail = sum(result["followups_created"].values()) + result["alerts_changed"], result
    return result


@shared_task(bind=True, base=RetriedTask)
def snapshots_step(self, run_id: int, as_of: str) -> dict:
    """The dashboard's snapshots of the day (taking a day again replaces its rows)."""
    from campaigns.nps import nps_snapshot_take
    from segmentation.services import snapshots_take

    with step_recorded(self, run_id, Step.SNAPSHOTS) as step:
        day = _as_of(as_of)
        result = snapshots_take(as_of=day)
        result["nps_snapshot_rows"] = nps_snapshot_take(day=day)  # campaigns' own, which the dashboard reads
        step.rows, step.detail = sum(result.values()), result
    return result


@shared_task(bind=True, base=RetriedTask)
def summaries_step(self, run_id: int, as_of: str) -> int:
    """Each salesperson's morning summary; one already sent today is not sent again."""
    from segmentation.services import current_thresholds
    from segmentation.summary import morning_summaries_send

    with step_recorded(self, run_id, Step.SUMMARIES) as step:
        sent = morning_summaries_send(day=_as_of(as_of), thresholds=current_thresholds())
        step.rows, step.detail = sent, {"sent": sent}
    return sent


@shared_task(base=RetriedTask)
def nightly_finish(run_id: int, token: str) -> str:
    """The last steps have ended: the run is closed (failed if one of them failed) and the lock freed."""
    return run_close(run_id, token)


@shared_task
def nightly_failed(request, exc, traceback, run_id: int, token: str) -> str:
    """Error callback of every stage: a step failed for good, the run ends now and frees the lock."""
    return run_close(run_id, token, error=exc)


@shared_task(base=RetriedTask)
def ideal_fit_recompute() -> dict:
    """Every client's fit after the ideal profile changed (idempotent: a second run writes nothing)."""
    from segmentation.ideal import fit_refresh_all

    return fit_refresh_all()
