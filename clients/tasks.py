"""Background work of clients: its step of the nightly run (segmentation.tasks has the graph)."""

import datetime as dt

from celery import shared_task

from core.tasks import RetriedTask
from segmentation.models import NightlyStep
from segmentation.nightly import step_recorded


@shared_task(bind=True, base=RetriedTask)
def recommendations_step(self, run_id: int, as_of: str) -> dict:
    """The recommendations of the day: the clients whose purchases moved, on the week's rules (the same
    day twice gives the same rows)."""
    from clients.recommendations import recommendations_recompute

    with step_recorded(self, run_id, NightlyStep.Name.RECOMMENDATIONS) as step:
        result = recommendations_recompute(as_of=dt.date.fromisoformat(as_of))
        step.rows, step.detail = result["cross_sell"] + result["room_to_grow"], result
    return result
