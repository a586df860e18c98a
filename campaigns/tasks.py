from celery import shared_task


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
