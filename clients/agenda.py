"""The salesperson's agenda: the list (overdue, today, next days) and the week and month calendars.

Each view is one query for the follow-ups (with their clients); the grouping by day is done here.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from clients.models import Alert, FollowUp

SECTION_LIMIT = 50  # follow-ups listed per section of the list view; the badge counts them all
CALENDAR_LIMIT = 2_000  # follow-ups in one week page (a month lists MONTH_CELL_ITEMS a day)
MONTH_CELL_ITEMS = 4  # a month cell lists this many, then "+N more"
UPCOMING_DAYS = 7
# The calendars page from these anchors only: a month view and its previous and next links reach
# a few weeks either side, which dt.date cannot hold around 0001-01-01 and 9999-12-31.
FIRST_ANCHOR = dt.date(2, 1, 1)
LAST_ANCHOR = dt.date(9998, 12, 31)


class View:
    LIST = "list"
    WEEK = "week"
    MONTH = "month"
    ALL = (LIST, WEEK, MONTH)


@dataclass
class Section:
    followups: list[FollowUp]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.followups)


def agenda_lists(person, now: dt.datetime) -> dict[str, Section]:
    """Pending follow-ups: overdue, due today and in the next UPCOMING_DAYS days.

    Each section lists its first SECTION_LIMIT in due order (a salesperson with hundreds overdue
    still sees today's), red clients first among them: ordering a whole section by colour would
    join and sort every pending follow-up of the salesperson on each visit (1.5 s at the bench's
    40,000 overdue), and overdue ones are all red anyway. At most four queries:
    the counts, then one per section that has any.
    """
    pending, ranges = _pending(person), _ranges(now)
    totals = agenda_counts(person, now)
    return {
        name: Section(
            # The agenda index gives each section in due order; red first among those listed.
            followups=red_first(
                list(pending.filter(condition).select_related("client").order_by("due_at", "id")[:SECTION_LIMIT])
            ) if totals[name] else [],
            total=totals[name],
        )
        for name, condition in ranges.items()
    }


def agenda_counts(person, now: dt.datetime) -> dict[str, int]:
    """{section: pending follow-ups} for the agenda's three sections, in one query."""
    return _pending(person).aggregate(
        **{name: Count("due_at", filter=condition) for name, condition in _ranges(now).items()}
    )


def _pending(person):
    return FollowUp.objects.filter(assigned_to=person, status=FollowUp.State.PENDING)


def _ranges(now: dt.datetime) -> dict[str, Q]:
    now = timezone.localtime(now)
    today_end = now.replace(hour=23, minute=59, second=59, microsecond=999999)
    until = today_end + dt.timedelta(days=UPCOMING_DAYS)
    return {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lte=today_end),
        "upcoming": Q(due_at__gt=today_end, due_at__lte=until),
    }


def red_first(followups: list[FollowUp]) -> list[FollowUp]:
    # A stable sort: within each colour the follow-ups keep their due order.
    return sorted(followups, key=lambda f: f.client.alert != Alert.RED)


@dataclass
class Day:
    date: dt.date
    in_period: bool
    is_today: bool
    followups: list[FollowUp] = field(default_factory=list)
    total: int | None = None  # the month view counts a day's follow-ups and lists only its first ones

    @property
    def more(self) -> int:
        total = len(self.followups) if self.total is None else self.total
        return max(0, total - MONTH_CELL_ITEMS)


@dataclass
class Calendar:
    view: str
    start: dt.date  # first day shown (a Monday)
    end: dt.date  # day after the last one shown
    anchor: dt.date  # the day the page was asked for
    previous: dt.date
    next: dt.date
    weeks: list[list[Day]]
    truncated: bool

    @property
    def weekdays(self) -> list[dt.date]:
        return [day.date for day in self.weeks[0]]


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 + months
    return dt.date(month_index // 12, month_index % 12 + 1, 1)


def calendar_bounds(view: str, anchor: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(start, end, previous anchor, next anchor) of the week or month containing `anchor`."""
    if view == View.WEEK:
        start = _monday(anchor)
        return start, start + dt.timedelta(days=7), start - dt.timedelta(days=7), start + dt.timedelta(days=7)
    first = anchor.replace(day=1)
    following = _add_months(first, 1)
    start = _monday(first)
    end = _monday(following - dt.timedelta(days=1)) + dt.timedelta(days=7)
    return start, end, _add_months(first, -1), following


def agenda_calendar(person, view: str, anchor: dt.date, today: dt.date) -> Calendar:
    """The follow-ups (pending and done, not cancelled) of the week or month around `anchor`."""
    start, end, previous, following = calendar_bounds(view, anchor)

    def local_midnight(day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    shown = (
        FollowUp.objects.filter(assigned_to=person, due_at__gte=local_midnight(start), due_at__lt=local_midnight(end))
        .exclude(status=FollowUp.State.CANCELLED)
    )
    days = {}
    for offset in range((end - start).days):
        day = start + dt.timedelta(days=offset)
        in_period = view == View.WEEK or day.month == anchor.month
        days[day] = Day(date=day, in_period=in_period, is_today=day == today)
    truncated = False
    if view == View.MONTH:
        # A cell shows its first MONTH_CELL_ITEMS and "+N more": count per day, fetch only those.
        local_day = TruncDate("due_at")
        for day, count in shown.annotate(day=local_day).values_list("day").annotate(n=Count("pk")).order_by():
            days[day].total = count
        # The ranking reads the follow-ups alone; only the shown ones are joined to their clients.
        first_ones = (
            shown.annotate(rn=Window(RowNumber(), partition_by=[local_day], order_by=[F("due_at").asc(), F("id").asc()]))
            .filter(rn__lte=MONTH_CELL_ITEMS).values("pk")
        )
        followups = FollowUp.objects.filter(pk__in=first_ones).select_related("client").order_by("due_at", "id")
    else:
        followups = list(shown.select_related("client").order_by("due_at", "id")[: CALENDAR_LIMIT + 1])
        truncated = len(followups) > CALENDAR_LIMIT
        followups = followups[:CALENDAR_LIMIT]
    for followup in followups:
        days[timezone.localdate(followup.due_at)].followups.append(followup)
    ordered = list(days.values())
    weeks = [ordered[index:index + 7] for index in range(0, len(ordered), 7)]
    return Calendar(
        view=view, start=start, end=end, anchor=anchor, previous=previous, next=following, weeks=weeks,
        truncated=truncated,
    )
