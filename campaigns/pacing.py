"""How a phone or visit campaign spreads each salesperson's calls over their working days.

The rule: from the campaign's date (or the next working day, if it falls on a weekend or has
passed), each salesperson gets at most `LifecycleSettings.campaign_calls_per_day` calls a day,
Monday to Friday, the day's calls spaced evenly between `workday_start` and `workday_end` (local
time). Their clients are called in order of urgency and value: red first, then yellow, then by
12-month spend, largest first (the client's id breaks ties so that the order never changes).

The database numbers each salesperson's calls (ROW_NUMBER() OVER (PARTITION BY owner ...)) and
counts them (COUNT(*) OVER (PARTITION BY owner)); the day and the time follow from the number in
one pass over plain tuples, so that 100,000 recipients cost one SELECT, not one query each.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Value, When, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from clients.models import Alert, FollowUp
from segmentation.models import LifecycleSettings

SATURDAY = 5


@dataclass(frozen=True)
class Pace:
    per_day: int
    start: dt.time
    end: dt.time

    @classmethod
    def current(cls) -> "Pace":
        settings = LifecycleSettings.current()
        return cls(settings.campaign_calls_per_day, settings.workday_start, settings.workday_end)


@dataclass(frozen=True)
class Spread:
    """What the campaign page says: "12 salespeople, up to 8 calls a day, from … to …"."""

    calls: int
    people: int
    per_day: int
    first: dt.date | None
    last: dt.date | None


def first_working_day(day: dt.date, today: dt.date) -> dt.date:
    day = max(day, today)
    while day.weekday() >= SATURDAY:
        day += dt.timedelta(days=1)
    return day


def working_days(start: dt.date, count: int) -> list[dt.date]:
    """`count` working days from `start` (a working day) on, weekends skipped."""
    days, day = [], start
    while len(days) < count:
        if day.weekday() < SATURDAY:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def slot_time(pace: Pace, slot: int, calls_that_day: int) -> dt.time:
    """The `slot`-th (0-based) of `calls_that_day` calls, spaced evenly over the working day."""
    start = pace.start.hour * 60 + pace.start.minute
    length = pace.end.hour * 60 + pace.end.minute - start
    minute = start + slot * length // max(calls_that_day, 1)
    return dt.time(minute // 60, minute % 60)


def _urgency():
    return Case(
        When(client__alert=Alert.RED, then=Value(0)), When(client__alert=Alert.YELLOW, then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )


def numbered_recipients(campaign: Campaign):
    """(client id, owner id, number among the owner's calls from 0, the owner's calls) per recipient."""
    owner = [F("client__owner_id")]
    return (
        Recipient.objects.filter(campaign=campaign)
        .annotate(
            number=Window(RowNumber(), partition_by=owner,
                          order_by=[_urgency().asc(), F("client__spend_12m").desc(), F("client_id").asc()]),
            owner_calls=Window(Count("pk"), partition_by=owner),
        )
        .order_by()
        .values_list("client_id", "client__owner_id", "number", "owner_calls")
    )


def schedule(rows, *, start: dt.date, pace: Pace, zone) -> list[tuple[int, int, dt.datetime]]:
    """(client id, owner id, due at) for each numbered row: call n of an owner is on working day
    n // per_day, in slot n % per_day of that day's calls."""
    rows = list(rows)
    longest = max((calls for _client, _owner, _number, calls in rows), default=0)
    days = working_days(start, -(-longest // pace.per_day))
    times: dict[tuple[int, int], dt.time] = {}
    due = []
    for client_id, owner_id, number, calls in rows:
        index, slot = divmod(number - 1, pace.per_day)
        that_day = min(pace.per_day, calls - index * pace.per_day)
        key = (slot, that_day)
        if key not in times:
            times[key] = slot_time(pace, slot, that_day)
        due.append((client_id, owner_id, dt.datetime.combine(days[index], times[key], tzinfo=zone)))
    return due


def spread_planned(campaign: Campaign, audience, *, today: dt.date | None = None) -> Spread:
    """A draft's spread: from the audience's clients per salesperson (one grouped query)."""
    pace = Pace.current()
    per_owner = list(audience.order_by().values("owner_id").annotate(n=Count("pk")).values_list("n", flat=True))
    if not per_owner or campaign.followup_due is None:
        return Spread(sum(per_owner), len(per_owner), pace.per_day, None, None)
    start = first_working_day(campaign.followup_due, today or timezone.localdate())
    days = working_days(start, -(-max(per_owner) // pace.per_day))
    return Spread(sum(per_owner), len(per_owner), min(pace.per_day, max(per_owner)), days[0], days[-1])


def spread_done(campaign: Campaign) -> Spread:
    """A launched campaign's spread, as its follow-ups were scheduled (one grouped query)."""
    rows = list(
        FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN, origin_key=str(campaign.pk))
        .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
        .order_by().values("assigned_to_id", "day")
        .annotate(n=Count("pk"))
        .values_list("assigned_to_id", "day", "n")
    )
    if not rows:
        return Spread(0, 0, 0, None, None)
    return Spread(
        calls=sum(n for _person, _day, n in rows), people=len({person for person, _day, _n in rows}),
        per_day=max(n for _person, _day, n in rows), first=min(day for _person, day, _n in rows),
        last=max(day for _person, day, _n in rows),
    )

