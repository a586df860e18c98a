"""Background work of privacy: the nightly purge of the trash (its own beat entry, segmentation
migration 0009_chores_schedule)."""

import logging

from celery import shared_task

from core.tasks import RetriedTask

logger = logging.getLogger(__name__)


@shared_task(base=RetriedTask)
def trash_purge() -> int:
    """Clients in the trash for longer than its 30 days are erased (anonymised, purchases kept);
    an erased client is not erased again."""
    from privacy.services import trash_purge as purge

    erased = purge()
    logger.info("Clients erased from the trash: %s", erased)
    return erased
