"""An import job's steps: analyse for the preview, confirm once, run in the background.

The progress of a running import lives in the cache (the job's row is inside the import's
transaction until it commits, so other connections could not see it move).
"""

import datetime as dt
import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.models import Client
from core.tasks import enqueue
from imports.models import ImportJob
from imports.services import Analysis, import_analyse, import_apply, proposed_mapping
from imports.spreadsheets import FileRefused, Table, read_table

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 24 * 3600
SAMPLE_ROWS = 10  # rows the preview shows as they are in the file


def job_create(*, user, kind: str, filename: str, data: bytes, table: Table) -> ImportJob:
    """A new job for an uploaded file (already read once, so known to be a table)."""
    job = ImportJob(
        created_by=user, kind=kind, filename=filename[:255], data=data, language=translation.get_language() or "es",
        mapping=proposed_mapping(kind, table), owner=user,
    )
    job_analyse(job, table)
    return job


def job_analyse(job: ImportJob, table: Table | None = None) -> Analysis:
    """Analyses the file with the job's mapping and options; saves the preview's figures."""
    table = table or read_table(bytes(job.data))
    analysis = _analysis(job, table)
    job.rows = len(table.rows)
    job.summary = analysis.summary() | {
        "problems": analysis.problems,
        "headers": table.headers,
        "sample": [[line, values] for line, values in table.rows[:SAMPLE_ROWS]],
    }
    job.errors = [error.as_list() for error in analysis.errors]
    job.save()
    return analysis


def _analysis(job: ImportJob, table: Table, progress=None) -> Analysis:
    return import_analyse(
        table, job.kind, {name: int(index) for name, index in job.mapping.items()},
        visible=Client.objects.visible_to(job.created_by), owner_chosen=job.owner_id is not None,
        create_missing_clients=job.create_missing_clients, progress=progress,
    )


def job_confirmable(job: ImportJob) -> bool:
    """The preview found the file importable, and errors only if the valid rows were chosen."""
    summary = job.summary
    return not summary.get("problems") and (not summary.get("errors") or job.only_valid) and bool(
        summary.get("clients_created") or summary.get("clients_completed") or summary.get("purchases_created")
    )


def job_confirm(job: ImportJob) -> bool:
    """Queues the import once: a second click, or a second tab, queues nothing."""
    if not job_confirmable(job):
        return False
    claimed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.PREVIEW).update(state=ImportJob.State.QUEUED)
    if claimed:
        progress_set(job.pk, "queued", 0, job.rows)
        transaction.on_commit(lambda: enqueue("imports.tasks.import_run", job.pk))
    return bool(claimed)


STALE_RUN = dt.timedelta(hours=2)  # far longer than a 100,000-row import takes


def jobs_requeue(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Imports confirmed but never started (the broker was down, a worker lost the message) are
    queued again; running one twice is harmless, job_run claims it once. An import still
    "running" long after it started lost its worker: its transaction was rolled back, so it is
    marked as refused (nothing was written) and can go back to its preview."""
    for job in ImportJob.objects.filter(state=ImportJob.State.RUNNING, started_at__lt=timezone.now() - STALE_RUN):
        with translation.override(job.language):
            _finish(job, ImportJob.State.FAILED, failure=_("The import was interrupted (its worker stopped); nothing was written."))

    stuck = list(
        ImportJob.objects.filter(state=ImportJob.State.QUEUED, created_at__lt=timezone.now() - older_than)
        .values_list("pk", flat=True)
    )
    return sum(enqueue("imports.tasks.import_run", pk) for pk in stuck)


def job_reopen(job: ImportJob) -> None:
    """A refused import goes back to its preview (the file is kept), analysed against today's data."""
    if job.state == ImportJob.State.FAILED and job.data:
        job.state, job.failure, job.finished_at = ImportJob.State.PREVIEW, "", None
        job_analyse(job)


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def progress_set(job_id: int, phase: str, done: int, total: int) -> None:
    cache.set(progress_key(job_id), {"phase": phase, "done": done, "total": total}, PROGRESS_SECONDS)


def progress_get(job: ImportJob) -> dict:
    """{"phase", "done", "total", "percent"}: analysing counts for a fifth, writing for the rest."""
    progress = cache.get(progress_key(job.pk)) or {"phase": job.state, "done": 0, "total": job.rows}
    total = max(progress["total"], 1)
    share = progress["done"] / total
    if progress["phase"] == "analysing":
        percent = 20 * share
    elif progress["phase"] == "writing":
        percent = 20 + 75 * share
    elif progress["phase"] == "recomputing":
        percent = 95
    else:
        percent = 100 if job.finished else 0
    return progress | {"percent": int(percent)}


def job_run(job_id: int) -> None:
    """The background import: analyse again (the data may have moved since the preview), then
    write everything or, when chosen, the valid rows; all of it or nothing at all."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, started_at=timezone.now(),
    )
    if not claimed:
        return  # already run, or not confirmed
    job = ImportJob.objects.select_related("created_by", "owner").get(pk=job_id)
    with translation.override(job.language):
        try:
            _run(job)
        except Exception:
            logger.exception("Import %s failed", job.pk)
            _finish(job, ImportJob.State.FAILED, failure=_("The import stopped on an unexpected error; nothing was written."))


def _run(job: ImportJob) -> None:
    try:
        table = read_table(bytes(job.data))
    except FileRefused as error:
        _finish(job, ImportJob.State.FAILED, failure=str(error))
        return
    total = len(table.rows)
    progress_set(job.pk, "analysing", 0, total)
    analysis = _analysis(job, table, progress=lambda done: progress_set(job.pk, "analysing", done, total))
    job.summary = analysis.summary() | {"problems": analysis.problems}
    job.errors = [error.as_list() for error in analysis.errors]
    if not analysis.importable:
        _finish(job, ImportJob.State.FAILED, failure=" ".join(analysis.problems))
        return
    if analysis.errors and not job.only_valid:
        _finish(job, ImportJob.State.FAILED, failure=_("Some rows have errors, so nothing was written."))
        return
    writes = len(analysis.new_clients) + len(analysis.purchases)

    def written(done: int) -> None:
        progress_set(job.pk, "writing" if done < writes else "recomputing", done, writes)

    result = import_apply(analysis, owner=job.owner or job.created_by, created_by=job.created_by, progress=written)
    job.summary |= {"status_changes": result.status_changes}
    _finish(job, ImportJob.State.DONE)


def _finish(job: ImportJob, state: str, failure: str = "") -> None:
    job.state = state
    job.failure = failure
    job.finished_at = timezone.now()
    if state == ImportJob.State.DONE:
        job.data = b""  # the rows are in the base now; a refused file stays to be previewed again
    job.save()
    progress_set(job.pk, state, job.rows, job.rows)
