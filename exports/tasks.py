"""Background work of exports: writing a requested export, and the nightly purge of old files
(its own beat entry, exports migration 0002_purge_schedule)."""

import logging

from celery import shared_task

from core.tasks import RetriedTask

logger = logging.getLogger(__name__)


@shared_task
def export_run(job_id: int) -> None:
    """Writes a requested export's file (services.export_job_run: at most once)."""
    from exports.services import export_job_run

    export_job_run(job_id)


@shared_task(base=RetriedTask)
def exports_purge() -> int:
    """Deletes the exports older than EXPORT_KEEP_DAYS, files included; runs again the stuck ones."""
    from exports.services import exports_purge as purge

    deleted = purge()
    if deleted:
        logger.info("Old exports deleted: %s", deleted)
    return deleted


@shared_task(base=RetriedTask)
def exports_recover() -> None:
    """Every five minutes (exports migration 0003): an export the broker lost, or whose worker died,
    does not wait for the night."""
    from exports.services import exports_recover as recover

    recover()
