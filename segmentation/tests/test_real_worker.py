"""The chunked nightly run on a real Celery worker process over Redis equals the single run."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.engine import COMPUTED_COLUMNS
from segmentation.services import lifecycle_recompute
from segmentation.tasks import LOCK_KEY, nightly_recompute

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def snapshot() -> list[tuple]:
    return list(Client.objects.order_by("id").values_list("id", *COMPUTED_COLUMNS))


def build_portfolio(owner, clients: int) -> None:
    today = timezone.localdate()
    for index in range(clients):
        record = ClientFactory(owner=owner)
        for extra in range(index % 4):
            PurchaseFactory(client=record, date=today - dt.timedelta(days=(index * 37) % 500 + 25 * extra),
                            amount=Decimal(10 * index + extra))


def test_chunked_run_on_a_real_worker_equals_the_single_run(worker_queue, owner, settings):
    build_portfolio(owner, clients=40)
    lifecycle_recompute(as_of=None)
    expected = snapshot()
    Client.objects.update(status="prospect", purchase_count=0, first_purchase_date=None, last_purchase_date=None,
                          volume_tier="", frequency_class="", r_score=None, f_score=None, m_score=None, rfm_segment="")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    result = nightly_recompute.apply_async(kwargs={"chunk_size": 7}, queue=worker_queue).get(timeout=60)
    assert result["chunks"] >= 5
    deadline = time.monotonic() + 60
    while snapshot() != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert snapshot() == expected
    # The chord's callback freed the lock.
    from django.core.cache import cache

    deadline = time.monotonic() + 10
    while cache.get(LOCK_KEY) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cache.get(LOCK_KEY) is None
