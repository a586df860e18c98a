"""Redis as a cache that never takes a page down: with Redis unreachable, reads miss and writes
are dropped (logged once a minute), so every page still works; what relies on the cache for
more than speed says so where it matters (the nightly run's lock is not kept here but in Redis
itself or a database row: segmentation/nightly.py)."""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _warn(error: Exception) -> None:
    global _last_warning
    if time.monotonic() - _last_warning > 60:
        _last_warning = time.monotonic()
        logger.warning("Redis cache unreachable, carrying on without it: %s", error)


class ForgivingRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE as error:
            _warn(error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as error:
            _warn(error)
            return {}

    def set(self, key, value, timeout=None, version=None):
        try:
            return super().set(key, value, timeout, version)
        except UNREACHABLE as error:
            _warn(error)

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as error:
            _warn(error)
            return False  # not taken: whoever needed the key (a lock) does not go ahead

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNREACHABLE as error:
            _warn(error)
            return False
