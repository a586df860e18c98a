"""Queueing background work when the broker may be down."""

import logging

from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> bool:
    """Sends `task` to the workers; False (logged) when the broker cannot be reached, so that the
    request carries on and the work waits to be queued again (the nightly run retries it)."""
    try:
        task.delay(*args)
    except OperationalError as error:
        logger.warning("Broker unreachable, %s%r not queued yet: %s", task.name, args, error)
        return False
    return True
