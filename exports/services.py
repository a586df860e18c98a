"""Background exports of the client list and of segments: create, run once, download, purge.

An export with more than EXPORT_BACKGROUND_ROWS clients would hold a web worker for minutes (and,
for XLSX, the whole file in memory while it is sent), so it becomes a job that a worker writes to a
file in the default storage while the user watches a progress bar; small ones stay immediate
(clients.exports). Why files rather than chunks in the database: a million-row CSV is a few
hundred MB, which would weigh on the database's backups and WAL for a file kept a few days;
the storage streams it back to the browser, and the database keeps only the job's row.

The job stores what the user asked for (the list's querystring or the segment), never the clients:
the clients are chosen when it runs, through the access rule of that moment, so a user who lost
access to clients between asking and running does not export them. Progress lives in the cache, as
the imports' does.

With a read replica (core.routers), a job reads the clients there only when it was asked for more
than REPLICA_PIN_SECONDS ago: the request that created it is a write, and the user's edits just
before it may not have reached the replica yet, so a job run at once (the usual case) reads the
primary, as that user's pages do; one that waited in the queue reads the replica. Its own writes
(the claim, the progress, the final state) go to the primary either way.
"""

import datetime as dt
import io
import logging
import tempfile

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from clients.exports import CLIENTS_SHEET, EXPORT_LIMIT, client_headers, client_rows, write_csv, write_xlsx
from clients.filters import ClientFilter, list_ordering
from clients.models import Client
from core.routers import replica_reads
from core.tasks import enqueue
from exports.models import ExportJob
from segmentation.models import Segment
from segmentation.segments import segment_clients

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 24 * 3600
PROGRESS_EVERY = 2000  # rows between two progress updates: one cache write per chunk read
STALE_RUN = dt.timedelta(hours=6)  # far longer than a million rows take
STUCK_QUEUED = dt.timedelta(minutes=10)


class ExportRefused(Exception):
    """What the user asked for cannot be exported (invalid filters, a segment gone); the message says why."""


def export_queryset(*, user: User, kind: str, params: dict) -> QuerySet[Client]:
    """The clients of an export, in the order of the page it comes from, through the access rule."""
    visible = Client.objects.visible_to(user).select_related("owner")
    if kind == ExportJob.Kind.SEGMENT:
        segment = Segment.objects.visible_to(user).filter(pk=params.get("segment")).first()
        if segment is None:
            raise ExportRefused(_("This segment no longer exists or is no longer shared with you."))
        return segment_clients(user=user, segment=segment, visible=visible).order_by("sort_name", "id")
    query = QueryDict(params.get("query", ""))
    filterset = ClientFilter(query, queryset=visible, user=user)
    if not filterset.is_valid():
        raise ExportRefused(_("The filters are not valid, so nothing was exported. Correct them and try again."))
    return filterset.qs.order_by(*list_ordering(query.get("sort", "")))


def export_is_large(queryset: QuerySet[Client]) -> bool:
    """More than EXPORT_BACKGROUND_ROWS clients; the count stops there (COUNT over a LIMIT)."""
    threshold = settings.EXPORT_BACKGROUND_ROWS
    return queryset.order_by()[: threshold + 1].count() > threshold


def export_job_create(*, user: User, kind: str, fmt: str, params: dict, name: str) -> ExportJob:
    """A queued export; the worker takes it once this transaction has committed."""
    job = ExportJob.objects.create(
        created_by=user, kind=kind, format=fmt, params=params, name=name[:100],
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    progress_set(job.pk, 0, 0)
    transaction.on_commit(lambda: enqueue("exports.tasks.export_run", job.pk))
    return job


def export_job_run(job_id: int) -> None:
    """Writes the export's file, at most once (a second delivery of the task finds it claimed)."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(
        state=ExportJob.State.RUNNING, started_at=timezone.now(),
    )
    if not claimed:
        return
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    settled = job.created_at <= timezone.now() - dt.timedelta(seconds=settings.REPLICA_PIN_SECONDS)
    with translation.override(job.language), replica_reads(enabled=settled):
        try:
            _write(job)
        except ExportRefused as refusal:
            _finish(job, ExportJob.State.FAILED, failure=str(refusal))
        except Exception:
            logger.exception("Export %s failed", job.pk)
            _finish(job, ExportJob.State.FAILED, failure=_("The export stopped on an unexpected error. Try again."))


class _Counted:
    """The rows, counted as they pass, with the progress written every PROGRESS_EVERY rows."""

    def __init__(self, rows, *, job_id: int, total: int):
        self.rows, self.job_id, self.total, self.done = rows, job_id, total, 0

    def __iter__(self):
        for row in self.rows:
            yield row
            self.done += 1
            if self.done % PROGRESS_EVERY == 0:
                progress_set(self.job_id, self.done, self.total)


def _write(job: ExportJob) -> None:
    queryset = export_queryset(user=job.created_by, kind=job.kind, params=job.params)  # today's access rule
    total = min(queryset.order_by().count(), EXPORT_LIMIT)
    progress_set(job.pk, 0, total)
    rows = _Counted(client_rows(queryset), job_id=job.pk, total=total)
    # A temporary file on the worker's disk, then one copy into the storage (a shared disk or S3):
    # neither the rows nor the file are ever whole in memory.
    with tempfile.TemporaryFile(prefix="cartera-export-") as scratch:
        if job.format == ExportJob.Format.CSV:
            text = io.TextIOWrapper(scratch, encoding="utf-8", newline="")
            write_csv(text, client_headers(), iter(rows))
            text.flush()
            text.detach()
        else:
            write_xlsx(scratch, client_headers(), iter(rows), sheet_title=CLIENTS_SHEET)
        scratch.seek(0)
        job.file.save(f"{job.name}.{job.format}", File(scratch), save=False)
    job.rows = rows.done
    _finish(job, ExportJob.State.DONE)


def _finish(job: ExportJob, state: str, failure: str = "") -> None:
    job.state, job.failure, job.finished_at = state, failure, timezone.now()
    job.save(update_fields=["state", "failure", "finished_at", "rows", "file"])
    progress_set(job.pk, job.rows, job.rows)


def exports_recover(*, now: dt.datetime | None = None) -> None:
    """Queues again the exports the broker never took (export_job_run claims each once) and marks as
    failed those whose worker died (still running long after they started). Every few minutes."""
    now = now or timezone.now()
    stuck = ExportJob.objects.filter(state=ExportJob.State.QUEUED, created_at__lt=now - STUCK_QUEUED)
    for job_id in stuck.values_list("pk", flat=True):
        enqueue("exports.tasks.export_run", job_id)
    for job in ExportJob.objects.filter(state=ExportJob.State.RUNNING, started_at__lt=now - STALE_RUN):
        with translation.override(job.language):
            _finish(job, ExportJob.State.FAILED, failure=_("The export was interrupted (its worker stopped). Ask for it again."))


def exports_purge(*, now: dt.datetime | None = None) -> int:
    """Recovers the stuck exports (exports_recover), then deletes those older than EXPORT_KEEP_DAYS
    with their files. Returns the exports deleted."""
    now = now or timezone.now()
    exports_recover(now=now)
    old = ExportJob.objects.filter(created_at__lt=now - dt.timedelta(days=settings.EXPORT_KEEP_DAYS))
    deleted = 0
    for job in old.only("pk", "file").iterator():  # a handful a day; its file goes with it (models._file_delete)
        job.delete()
        deleted += 1
    return deleted


def progress_key(job_id: int) -> str:
    return f"exports:progress:{job_id}"


def progress_set(job_id: int, done: int, total: int) -> None:
    cache.set(progress_key(job_id), {"done": done, "total": total}, PROGRESS_SECONDS)


def progress_get(job: ExportJob) -> dict:
    """{"done", "total", "percent"} of a job; a finished one is at 100."""
    progress = cache.get(progress_key(job.pk)) or {"done": job.rows, "total": job.rows}
    if job.finished:
        return progress | {"percent": 100}
    percent = 100 * progress["done"] // progress["total"] if progress["total"] else 0
    return progress | {"percent": min(percent, 99)}
