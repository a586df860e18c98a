"""Webhook work in the background: the scans of set-based events, the sending and the pause notice.

Beat (migration 0002_schedule): the status changes every minute, the reds and the renewals every
15 minutes (they read the clients table), the sending of due retries every minute, and the
deliveries ended more than 30 days ago forgotten every night (0003_purge_schedule). The night's
colours step and every status change by a write also queue a scan (core.events, webhooks.services).
"""

from celery import shared_task

from core.tasks import RetriedTask


@shared_task(base=RetriedTask)
def webhooks_scan(kinds: list[str] | None = None) -> dict:
    """Writes the deliveries of what changed since the last scan (webhooks.services.scan)."""
    from webhooks.services import scan

    return scan(kinds=kinds)


@shared_task(base=RetriedTask)
def deliveries_send(delivery_ids: list[int]) -> int:
    """Sends these deliveries now (just written); those not due or already sent are skipped."""
    from webhooks.services import delivery_attempt

    return sum(delivery_attempt(delivery_id=pk) is not None for pk in delivery_ids)


@shared_task(base=RetriedTask)
def deliveries_send_due() -> int:
    """Sends the deliveries whose (next) attempt is due, a batch at a time. With workers a full batch
    queues the next one (another worker may take it); in-process it carries on here (queueing
    itself would nest a call per batch)."""
    from core.tasks import enqueue
    from webhooks.services import SEND_BATCH, deliveries_due, delivery_attempt

    sent = 0
    while True:
        due = deliveries_due()
        sent += sum(delivery_attempt(delivery_id=pk) is not None for pk in due)
        if len(due) < SEND_BATCH:
            return sent
        if not deliveries_send_due.app.conf.task_always_eager:
            enqueue("webhooks.tasks.deliveries_send_due")
            return sent


@shared_task(base=RetriedTask)
def endpoint_paused_notify(endpoint_id: int) -> int:
    from webhooks.services import endpoint_paused_notify as notify

    return notify(endpoint_id=endpoint_id)


@shared_task(base=RetriedTask)
def deliveries_purge() -> int:
    from webhooks.services import deliveries_purge as purge

    return purge()
