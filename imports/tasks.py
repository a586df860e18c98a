"""Background work of imports: running a confirmed import, and requeueing those the broker never
took (its own beat entry, segmentation migration 0009_chores_schedule)."""

import logging

from celery import shared_task

from core.tasks import RetriedTask

logger = logging.getLogger(__name__)


@shared_task
def import_run(job_id: int) -> None:
    """Imports a confirmed file (jobs.job_run: at most once, all or nothing)."""
    from imports.jobs import job_run

    job_run(job_id)


@shared_task(base=RetriedTask)
def imports_requeue() -> int:
    """Imports confirmed while the broker was down are queued again (job_run claims each once)."""
    from imports.jobs import jobs_requeue

    requeued = jobs_requeue()
    if requeued:
        logger.info("Imports queued again: %s", requeued)
    return requeued
