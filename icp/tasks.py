from celery import shared_task

from core.tasks import RetriedTask


@shared_task(base=RetriedTask)
def icp_fit_recompute() -> dict:
    """Every client's fit after the profile changed (idempotent: a second run writes nothing)."""
    from icp.services import fit_refresh_all

    return fit_refresh_all()
