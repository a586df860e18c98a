"""Rate limits of the public pages (a signed link, no login): the survey, unsubscribe, the calendar feed.

Counted in the Django cache (Redis in production, shared by every web process; the local memory
cache in the demo and the tests), in fixed windows: at most `count` requests per `period` seconds
for one client address, and for one link (its token), on each page. Beyond that the page answers
429 with Retry-After (the seconds left in the window). With Redis down the limits are not enforced
rather than the pages failing (core.cache).

Our own rather than django-ratelimit 4.1.0: that one answers 403 (PermissionDenied) unless a view of
our own turns its exception into a 429, does not give the Retry-After, and its checks refuse the
local memory cache the demo and the tests run on. This is the part of it we need.
"""

import hashlib
import math
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.cache import UNREACHABLE
from core.http import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"30/m" → (30, 60): a count of requests per s(econd), m(inute), h(our) or d(ay), or per a
    number of seconds ("30/300"). An empty rate or a count of 0 turns the limit off (0, 0)."""
    if not rate:
        return 0, 0
    count, _slash, period = rate.partition("/")
    seconds = PERIODS[period] if period in PERIODS else int(period)
    if int(count) < 0 or seconds <= 0:
        raise ValueError(f"Not a rate: {rate!r}")
    return int(count), seconds


def _over(key: str, rate: str, now: float) -> int | None:
    """Counts one request under `key`; the seconds to wait when it is over `rate`, else None."""
    count, period = parse_rate(rate)
    if not count:
        return None
    window = int(now // period)
    cache_key = f"ratelimit:{key}:{window}"
    try:
        if cache.add(cache_key, 1, timeout=period + 1):
            done = 1
        else:
            done = cache.incr(cache_key)
    except ValueError:  # the key expired between add and incr: a new window
        cache.set(cache_key, 1, timeout=period + 1)
        done = 1
    except UNREACHABLE:  # Redis down: the pages work, unlimited
        return None
    if done <= count:
        return None
    return max(1, math.ceil((window + 1) * period - now))


def retry_after(key: str, rate: str) -> int | None:
    """Counts one request under `key` (a caller's own scope and identity, e.g. an API token's id):
    the seconds to wait when it is over `rate`, else None."""
    return _over(key, rate, time.time())


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]  # no token kept in the cache


def rate_limited(scope: str, *, per_address: str, per_link: str) -> Callable:
    """Limits a public view taking a `token`: `per_address` and `per_link` name the settings holding
    the rates for one client address and for one token on this page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def limited(request: HttpRequest, *args, token: str, **kwargs) -> HttpResponse:
            now = time.time()
            waits = [
                _over(f"{scope}:ip:{_digest(client_ip(request))}", getattr(settings, per_address), now),
                _over(f"{scope}:link:{_digest(token)}", getattr(settings, per_link), now),
            ]
            wait = max((seconds for seconds in waits if seconds), default=None)
            if wait:
                response = render(request, "429.html", {"retry_after": wait}, status=429)
                response["Retry-After"] = str(wait)
                return response
            return view(request, *args, token=token, **kwargs)

        return limited

    return decorator
