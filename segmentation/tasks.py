"""Background work of segmentation: the nightly lifecycle recompute, then the automatic
follow-ups, every colour alert, the snapshots, the recommendations, the salespeople's
morning summaries, the resumption of any campaign whose sending was interrupted and the
purge of the trash.

The schedule (02:00 Europe/Madrid) lives in django_celery_beat, seeded by migration
0003_nightly_recompute_schedule.
"""

import datetime as dt
import logging
import uuid

from celery import chord, shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

LOCK_KEY = "segmentation:nightly-recompute"
# Longer than any run; a crashed run frees the lock by itself the next night.
LOCK_SECONDS = 6 * 3600
CHUNK_SIZE = 50_000


def _as_of(value: str | None) -> dt.date:
    return dt.date.fromisoformat(value) if value else timezone.localdate()


@shared_task
def nightly_recompute(as_of: str | None = None, chunk_size: int = CHUNK_SIZE) -> dict:
    """Recomputes every client; a second run while one is under way does nothing.

    With a real broker the clients are split into id ranges recomputed in parallel by a chord
    that shares the global cut points; in eager mode (no broker) everything runs here.
    """
    from segmentation.engine import global_cuts, id_chunks
    from segmentation.services import lifecycle_recompute

    day = _as_of(as_of)
    token = uuid.uuid4().hex
    if not cache.add(LOCK_KEY, token, timeout=LOCK_SECONDS):
        logger.info("Nightly recompute for %s skipped: another run holds the lock", day)
        return {"skipped": True}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            result = lifecycle_recompute(as_of=day)
            result["recommendations"] = _recommendations(day)
            result["summaries_sent"] = _morning_summaries(day)
            result["campaigns_resumed"] = _campaigns_resume()
            result["trash_erased"] = _trash_purge()
            result["imports_requeued"] = _imports_requeue()
        finally:
            _release(token)
        logger.info("Nightly recompute for %s: %s", day, result)
        return result
    try:
        cuts = global_cuts(day).as_json()
        header = [recompute_chunk.s(lo, hi, day.isoformat(), cuts) for lo, hi in id_chunks(chunk_size)]
        if not header:
            _release(token)
            return {"chunks": 0}
        # The callback frees the lock; if a chunk fails the lock expires after LOCK_SECONDS.
        chord(header)(nightly_recompute_done.s(day.isoformat(), token))
    except BaseException:
        _release(token)
        raise
    return {"chunks": len(header)}


@shared_task
def recompute_chunk(lo: int, hi: int, as_of: str, cuts: dict | None = None) -> dict:
    """Recomputes the clients with id in [lo, hi); `cuts` from the parent, or computed here."""
    from segmentation.engine import GlobalCuts, apply_chunk
    from segmentation.services import current_thresholds

    shared = GlobalCuts.from_json(cuts) if cuts is not None else None
    return apply_chunk(_as_of(as_of), current_thresholds(), shared, (lo, hi))


@shared_task
def nightly_recompute_done(results: list[dict], as_of: str, token: str) -> dict:
    from segmentation.engine import merge_results
    from segmentation.services import after_recompute

    merged = merge_results(results)
    try:
        # Once for everyone, after every chunk: automatic follow-ups, then colours.
        merged.update(after_recompute(as_of=dt.date.fromisoformat(as_of)))
        merged["recommendations"] = _recommendations(dt.date.fromisoformat(as_of))
        merged["summaries_sent"] = _morning_summaries(dt.date.fromisoformat(as_of))
        merged["campaigns_resumed"] = _campaigns_resume()
        merged["trash_erased"] = _trash_purge()
        merged["imports_requeued"] = _imports_requeue()
    finally:
        _release(token)
    logger.info("Nightly recompute for %s: %s", as_of, merged)
    return merged


def _recommendations(day: dt.date) -> dict:
    """Cross-selling and room-to-grow suggestions for the client pages (clients/recommendations.py)."""
    from clients.recommendations import recommendations_recompute

    return recommendations_recompute(as_of=day)


def _morning_summaries(day: dt.date) -> int:
    """Last step of the night: each salesperson's summary, once the colours and follow-ups are in."""
    from segmentation.services import current_thresholds
    from segmentation.summary import morning_summaries_send

    return morning_summaries_send(day=day, thresholds=current_thresholds())


def _campaigns_resume() -> int:
    """A campaign whose sending was interrupted (a worker killed) carries on, without duplicates."""
    from campaigns.services import campaigns_resume

    return campaigns_resume()


def _trash_purge() -> int:
    """Clients in the trash for longer than its 30 days are erased (anonymised, purchases kept)."""
    from clients.privacy import trash_purge

    return trash_purge()


def _imports_requeue() -> int:
    """Imports confirmed while the broker was down are queued again."""
    from imports.jobs import jobs_requeue

    return jobs_requeue()


def _release(token: str) -> None:
    # Only the run that took the lock frees it (a late callback must not free a newer run's lock).
    if cache.get(LOCK_KEY) == token:
        cache.delete(LOCK_KEY)
