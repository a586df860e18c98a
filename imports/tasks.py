"""Background work of imports: analysing a large file for its preview, running a confirmed import;
and on beat entries of their own (segmentation migration 0009_chores_schedule, imports migration
0004_chores_schedule): every 5 minutes, failing the jobs whose worker died and requeueing those
the broker never took; every night, purging the previews nobody confirmed."""

import logging

from celery import shared_task

from core.tasks import RetriedTask

logger = logging.getLogger(__name__)


@shared_task
def import_run(job_id: int) -> None:
    """Imports a confirmed file (jobs.job_run: at most once, all or nothing)."""
    from imports.jobs import job_run

    job_run(job_id)


@shared_task
def import_preview(job_id: int) -> None:
    """Analyses a large uploaded file for its preview (jobs.job_preview: at most once)."""
    from imports.jobs import job_preview

    job_preview(job_id)


@shared_task(base=RetriedTask)
def imports_purge() -> int:
    """Deletes the previews nobody confirmed within IMPORT_PREVIEW_DAYS (idempotent)."""
    from imports.jobs import jobs_purge

    purged = jobs_purge()
    if purged:
        logger.info("Unconfirmed import previews deleted: %s", purged)
    return purged


@shared_task(base=RetriedTask)
def imports_requeue() -> int:
    """Jobs whose worker died are marked failed; those confirmed or uploaded while the broker was
    down are queued again (job_run and job_preview claim each once)."""
    from imports.jobs import jobs_requeue

    requeued = jobs_requeue()
    if requeued:
        logger.info("Imports queued again: %s", requeued)
    return requeued
