"""An import job's steps: analyse for the preview, confirm once, run in the background.

A small file is analysed while the upload request waits; a larger one (IMPORT_BACKGROUND_BYTES)
by a task (`job_preview`), so that the request returns at once and the page shows a progress bar.

The progress of a running import lives in the cache (the job's row is inside the import's
transaction until it commits, so other connections could not see it move). Each report is also a
heartbeat: the job's heartbeat_at when outside that transaction, the cache entry's time inside
it. `jobs_fail_stale` marks failed, within IMPORT_STALE_MINUTES, a job whose heartbeat stopped.
It fails rather than requeues: the dead worker's transaction was rolled back, so nothing was
written, but the file itself may be what killed it (memory, a crash), and a requeue would loop on
it for hours without a word to the user; failed, the job says so in minutes and keeps its file,
so "back to the preview" and one click run it again.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Length
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


def job_create(*, user, kind: str, filename: str, data: bytes, table: Table | None) -> ImportJob:
    """A new job for an uploaded file: analysed now when it was read already (`table`, a small
    file), else in the background (`data` passed spreadsheets.file_sniff, the cheap checks)."""
    job = ImportJob(
        created_by=user, kind=kind, filename=filename[:255], data=b"", language=translation.get_language() or "es",
        owner=user,
    )
    job.file_size = len(data)
    if table is None:
        job.save()
        file_write(job, data)
        _analyse_later(job)
        return job
    job.mapping = proposed_mapping(kind, table)
    job_analyse(job, table)
    file_write(job, data)
    return job


def file_write(job: ImportJob, data: bytes) -> None:
    """Stores the upload on its saved job, and leaves the field deferred on the instance so that
    no later save() writes it again. On PostgreSQL through a server-side binding cursor: Django's
    client-side binding would spell a 20 MB file as 40 MB of escaped hex inside the SQL text,
    several copies of it at once (150 MB for one upload)."""
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute("UPDATE imports_importjob SET data = %b WHERE id = %s", [data, job.pk])
    else:  # SQLite: written a megabyte at a time into a blob of its size, not bound whole to a statement
        with connection.cursor() as cursor:
            cursor.execute("UPDATE imports_importjob SET data = zeroblob(%s) WHERE id = %s", [len(data), job.pk])
        if data:
            with connection.connection.blobopen("imports_importjob", "data", job.pk) as blob:
                view = memoryview(data)
                for start in range(0, len(data), 1 << 20):
                    blob.write(view[start:start + (1 << 20)])
    job.__dict__.pop("data", None)


def file_read(job_id: int) -> bytes:
    """The job's upload, fetched in binary (one copy of it, not its hex spelling and a decoding)."""
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute("SELECT data FROM imports_importjob WHERE id = %s", [job_id], binary=True)
            return bytes(cursor.fetchone()[0])
    return bytes(ImportJob.objects.filter(pk=job_id).values_list("data", flat=True).get())


def job_is_large(job: ImportJob) -> bool:
    size = getattr(job, "file_size", None)
    if size is None:
        size = ImportJob.objects.filter(pk=job.pk).values_list(Length("data"), flat=True).get()
    return size > settings.IMPORT_BACKGROUND_BYTES


def job_reanalyse(job: ImportJob) -> None:
    """The preview's choices changed: analysed again, now for a small file, in the background else."""
    if job_is_large(job):
        job.save()
        _analyse_later(job)
    else:
        job_analyse(job)


def _analyse_later(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.ANALYSING, heartbeat_at=None)
    job.state, job.heartbeat_at = ImportJob.State.ANALYSING, None
    progress_set(job.pk, "reading", 0, 0)
    transaction.on_commit(lambda: enqueue("imports.tasks.import_preview", job.pk))


def job_preview(job_id: int) -> None:
    """The background analysis of a large file for its preview: read it (a refused file fails the
    job with the reason), propose the columns on a first analysis, count every row's errors."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.ANALYSING, heartbeat_at__isnull=True).update(
        heartbeat_at=timezone.now(),
    )
    if not claimed:
        return  # analysed already, or another worker has it
    # The file apart, so that saving the preview's figures does not write it back.
    job = ImportJob.objects.select_related("created_by", "owner").defer("data").get(pk=job_id)
    with translation.override(job.language):
        try:
            data = file_read(job_id)
            estimate = data.count(b"\n")  # rows, roughly; 0 (unknown) for an Excel file
            table = read_table(data, progress=lambda done: _beat(job.pk, "reading", done, estimate))
            del data
            if not job.mapping:
                job.mapping = proposed_mapping(job.kind, table)
            job_analyse(job, table, progress=lambda done: _beat(job.pk, "checking", done, len(table.rows)))
        except FileRefused as error:
            job.data = b""  # not a table: nothing to preview again
            _finish(job, ImportJob.State.FAILED, failure=str(error))
        except Exception:
            logger.exception("Analysis of import %s failed", job.pk)
            _finish(job, ImportJob.State.FAILED, failure=_("The file's analysis stopped on an unexpected error."))


def job_analyse(job: ImportJob, table: Table | None = None, progress=None) -> Analysis:
    """Analyses the file with the job's mapping and options; saves the preview's figures."""
    table = table or read_table(file_read(job.pk))
    analysis = _analysis(job, table, progress)
    job.state = ImportJob.State.PREVIEW
    job.rows = len(table.rows)
    job.summary = analysis.summary() | {
        "problems": analysis.problems,
        # Rows imported all the same (a wrong tax id or phone already held): the first 100, as for errors.
        "warnings": [warning.as_list() for warning in analysis.warnings[:100]],
        "warning_count": len(analysis.warnings),
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
        create_missing_clients=job.create_missing_clients, create_missing_products=job.create_missing_products,
        progress=progress,
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


def jobs_requeue(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Imports confirmed, and large files uploaded, that no worker started (the broker was down,
    a worker lost the message) are queued again; running one twice is harmless, job_run and
    job_preview claim each once. Those whose worker died are marked failed first (jobs_fail_stale)."""
    jobs_fail_stale()
    waiting = timezone.now() - older_than
    stuck = list(
        ImportJob.objects.filter(state=ImportJob.State.QUEUED, created_at__lt=waiting).values_list("pk", flat=True)
    )
    unread = list(
        ImportJob.objects.filter(state=ImportJob.State.ANALYSING, heartbeat_at__isnull=True, created_at__lt=waiting)
        .values_list("pk", flat=True)
    )
    return sum(enqueue("imports.tasks.import_run", pk) for pk in stuck) + sum(
        enqueue("imports.tasks.import_preview", pk) for pk in unread
    )


WRITING_PHASES = ("writing", "recomputing")  # inside the import's transaction: heartbeats in the cache only


def jobs_fail_stale() -> int:
    """Jobs running or being analysed whose heartbeat (the row's, and the cache's for an import
    inside its transaction) is older than IMPORT_STALE_MINUTES lost their worker: marked failed,
    their file kept (see the module's docstring: fail, not requeue). Returns how many."""
    cutoff = timezone.now() - dt.timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    stale = ImportJob.objects.filter(
        Q(state=ImportJob.State.RUNNING) | Q(state=ImportJob.State.ANALYSING, heartbeat_at__isnull=False),
    ).filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)).defer("data")
    failed = 0
    for job in stale:
        progress = cache.get(progress_key(job.pk)) or {}
        if progress.get("phase") in WRITING_PHASES and progress.get("at", 0) > cutoff.timestamp():
            continue  # still writing: its row's heartbeat waits for the transaction's commit
        with translation.override(job.language):
            failure = (
                _("The import was interrupted (its worker stopped); nothing was written.")
                if job.state == ImportJob.State.RUNNING
                else _("The file's analysis was interrupted (its worker stopped).")
            )
        # Claimed as job_run claims: only if nobody moved it meanwhile.
        failed += ImportJob.objects.filter(pk=job.pk, state=job.state, heartbeat_at=job.heartbeat_at).update(
            state=ImportJob.State.FAILED, failure=failure, finished_at=timezone.now(),
        )
        progress_set(job.pk, ImportJob.State.FAILED, job.rows, job.rows)
    return failed


def jobs_purge(*, days: int | None = None) -> int:
    """Previews nobody confirmed within IMPORT_PREVIEW_DAYS are deleted, and refused imports as
    old lose their file (the report stays in the list). Returns the previews deleted."""
    cutoff = timezone.now() - dt.timedelta(days=settings.IMPORT_PREVIEW_DAYS if days is None else days)
    old = ImportJob.objects.filter(created_at__lt=cutoff)
    deleted, _by_model = old.filter(state__in=[ImportJob.State.PREVIEW, ImportJob.State.ANALYSING]).filter(
        Q(state=ImportJob.State.PREVIEW) | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff)
    ).delete()
    old.filter(state=ImportJob.State.FAILED).exclude(data=b"").update(data=b"")
    return deleted


def job_reopen(job: ImportJob) -> None:
    """A refused import goes back to its preview (the file is kept), analysed against today's data."""
    if job.state == ImportJob.State.FAILED and job.file_size:
        job.state, job.failure, job.finished_at = ImportJob.State.PREVIEW, "", None
        job_reanalyse(job)


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def progress_set(job_id: int, phase: str, done: int, total: int) -> None:
    cache.set(progress_key(job_id), {"phase": phase, "done": done, "total": total, "at": time.time()}, PROGRESS_SECONDS)


def _beat(job_id: int, phase: str, done: int, total: int) -> None:
    """A progress report, and the job's heartbeat: on its row too when outside the import's
    transaction (inside it, an update would stay unseen until the commit)."""
    progress_set(job_id, phase, done, total)
    if not connection.in_atomic_block:
        ImportJob.objects.filter(pk=job_id).update(heartbeat_at=timezone.now())


def progress_get(job: ImportJob) -> dict:
    """{"phase", "done", "total", "percent"}: analysing counts for a fifth, writing for the rest."""
    progress = cache.get(progress_key(job.pk)) or {"phase": job.state, "done": 0, "total": job.rows}
    total = max(progress["total"], 1)
    share = progress["done"] / total
    if progress["phase"] == "reading":  # a preview's background analysis: reading, then checking
        percent = 50 * min(share, 1)
    elif progress["phase"] == "checking":
        percent = 50 + 50 * share
    elif progress["phase"] == "analysing":
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
        state=ImportJob.State.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(),
    )
    if not claimed:
        return  # already run, or not confirmed
    job = ImportJob.objects.select_related("created_by", "owner").defer("data").get(pk=job_id)
    with translation.override(job.language):
        try:
            _run(job)
        except Exception:
            logger.exception("Import %s failed", job.pk)
            _finish(job, ImportJob.State.FAILED, failure=_("The import stopped on an unexpected error; nothing was written."))


def _run(job: ImportJob) -> None:
    try:
        table = read_table(file_read(job.pk))
    except FileRefused as error:
        _finish(job, ImportJob.State.FAILED, failure=str(error))
        return
    total = len(table.rows)
    _beat(job.pk, "analysing", 0, total)
    analysis = _analysis(job, table, progress=lambda done: _beat(job.pk, "analysing", done, total))
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
        _beat(job.pk, "writing" if done < writes else "recomputing", done, writes)

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
