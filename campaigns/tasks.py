"""Background work of campaigns: the senders, the nightly resumption of interrupted ones (its own
beat entry, segmentation migration 0009_chores_schedule), and senders again every five minutes for
campaigns that have none (campaigns migration 0002_requeue_schedule)."""

import logging

from celery import shared_task

from core.tasks import RetriedTask

logger = logging.getLogger(__name__)


@shared_task
def campaign_send(campaign_id: int) -> int:
    """Sends a campaign's pending recipients batch by batch; several of these run side by side
    on different workers (each batch is claimed with SKIP LOCKED), and whichever finds nothing
    left closes the campaign."""
    from campaigns.services import campaign_finish, campaign_send_batch

    sent = 0
    while taken := campaign_send_batch(campaign_id):
        sent += taken
    campaign_finish(campaign_id)
    return sent


@shared_task(base=RetriedTask)
def campaigns_resume() -> int:
    """A campaign whose sending was interrupted (a worker killed) gets a sender again, without
    duplicates; with none interrupted this does nothing."""
    from campaigns.services import campaigns_resume as resume

    resumed = resume()
    logger.info("Campaigns resumed: %s", resumed)
    return resumed


@shared_task(base=RetriedTask)
def campaigns_requeue() -> int:
    """Campaigns whose sending was never queued (the broker was down at the launch) get senders."""
    from campaigns.services import campaigns_requeue as requeue

    requeued = requeue()
    if requeued:
        logger.info("Campaigns given senders again: %s", requeued)
    return requeued


@shared_task(base=RetriedTask)
def campaign_sources_record() -> int:
    """New clients who first bought in answer to a campaign get it as their source (its own beat
    entry, campaigns migration 0004_campaign_sources_schedule); a second run changes nothing."""
    from campaigns.services import campaign_sources_record as record

    recorded = record()
    if recorded:
        logger.info("Clients given a campaign as their source: %s", recorded)
    return recorded
