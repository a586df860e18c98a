"""The demo's randomness and time: Faker pools, fast weighted choices, and a clock that turns day
ordinals and minutes into aware datetimes.

Faker is slow, so it only fills small pools (names, streets) that the generator samples from.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from bisect import bisect
from collections.abc import Callable, Sequence
from enum import Enum
from itertools import accumulate
from types import SimpleNamespace

from demo.markets import MARKETS


class DemoError(Exception):
    """A reason not to build the demo, for the command to report."""


def faker_class():
    try:
        from faker import Faker
    except ImportError as exc:  # a runtime requirement, but a hand-made environment may lack it
        raise DemoError("The demo data needs Faker: pip install -r requirements.txt") from exc
    return Faker


class Pools:
    """Names and streets per market, drawn once from Faker."""

    SIZE = 2_000

    def __init__(self, seed: int, size: int = SIZE):
        Faker = faker_class()
        self.by_locale: dict[str, SimpleNamespace] = {}
        for index, market in enumerate(MARKETS):
            fake = Faker(market.locale)
            fake.seed_instance(seed * 101 + index)
            self.by_locale[market.locale] = SimpleNamespace(
                male=_distinct(fake.first_name_male, size),
                female=_distinct(fake.first_name_female, size),
                surnames=_distinct(fake.last_name, size),
                streets=[fake.street_address() for _ in range(size)],
            )


def _distinct(make: Callable[[], str], size: int) -> list[str]:
    """Faker's name lists are short: sample until no new name comes, in first-seen order."""
    seen: dict[str, None] = {}
    misses = 0
    while len(seen) < size and misses < 200:
        value = make()
        if value in seen:
            misses += 1
        else:
            seen[value] = None
    return list(seen)


class Weighted:
    """A weighted choice that costs one random() and one bisect (rng.choices is slower)."""

    def __init__(self, pairs: Sequence[tuple[object, float]]):
        self.items = [item.value if isinstance(item, Enum) else item for item, _ in pairs]
        self.cum = list(accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


class Draws:
    """Fast draws from `rng`, the random stream of the block being built (set by the generator)."""

    rng: random.Random
    rand: Callable[[], float]

    def one(self, items: Sequence):
        """rng.choice, without its rejection sampling: this runs tens of millions of times."""
        return items[int(self.rand() * len(items))]

    def below(self, start: int, stop: int | None = None) -> int:
        """rng.randrange(start[, stop]), the fast way (see `one`)."""
        if stop is None:
            return int(self.rand() * start)
        return start + int(self.rand() * (stop - start))

    def digits(self, count: int) -> str:
        return str(self.below(10**count)).zfill(count)


class Clock:
    """Days as ordinals and minutes of the day, turned into aware datetimes never later than now."""

    def __init__(self, now: dt.datetime, time_zone: str):
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.now = now
        local_now = now.astimezone(self.tz)
        self.today = local_now.date().toordinal()
        self.now_minute = local_now.hour * 60 + local_now.minute

    def at(self, day: int, minute: int) -> dt.datetime:
        if day >= self.today:
            day, minute = self.today, min(minute, self.now_minute)
        return self.future_at(day, minute)

    def future_at(self, day: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(dt.date.fromordinal(day), dt.time(minute // 60, minute % 60), tzinfo=self.tz)
