"""The salesperson's agenda: the list (overdue, today, next days) and the week and month calendars.

Each view is one query for the follow-ups (with their clients); the grouping by day is done here.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber, TruncDate
from django.utils import formats, timezone, translation
from django.utils.text import capfirst

from clients.models import Alert, FollowUp
from core.sql import COUNT_CAP, capped_counts

SECTION_LIMIT = 50  # follow-ups listed per section of the list view; the badge counts them (up to COUNT_CAP)
CALENDAR_LIMIT = 2_000  # follow-ups in one week page (a month lists MONTH_CELL_ITEMS a day)
MONTH_CELL_ITEMS = 4  # a month cell lists this many, then "+N more"
MONTH_COUNT_CAP = 49  # a month cell counts its day's follow-ups up to this many ("+46 or more" beyond)
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
    total: int  # counted up to COUNT_CAP + 1 (core.sql.capped_counts)

    @property
    def capped(self) -> bool:
        """More than COUNT_CAP: the badge says "999+" and "more" is a lower bound."""
        return self.total > COUNT_CAP

    @property
    def more(self) -> int:
        return self.total - len(self.followups)


def agenda_lists(person, now: dt.datetime) -> dict[str, Section]:
    """Overdue (pending, from before today's local midnight), today (all of today's, pending and
    done, all day long: the morning's calls stay, ticked or marked late) and the next
    UPCOMING_DAYS days (pending).

    Each section lists its first SECTION_LIMIT in due order (a salesperson with hundreds overdue
    still sees today's), red clients first among them: ordering a whole section by colour would
    join and sort every pending follow-up of the salesperson on each visit (1.5 s at the bench's
    40,000 overdue), and overdue ones are all red anyway. At most four queries:
    the counts, then one per section that has any.
    """
    sections = _sections(person, now)
    totals = agenda_counts(person, now)
    return {
        name: Section(
            # The agenda index gives each section in due order; red first among those listed.
            followups=red_first(list(section.select_related("client").order_by("due_at", "id")[:SECTION_LIMIT]))
            if totals[name] else [],
            total=totals[name],
        )
        for name, section in sections.items()
    }


def agenda_counts(person, now: dt.datetime) -> dict[str, int]:
    """{section: follow-ups listed, counted up to COUNT_CAP + 1} for the agenda's three sections,
    in one query: each walks at most that many entries of the agenda index (counting all of a
    salesperson's 37,000 overdue follow-ups took 70 ms at a million clients)."""
    return capped_counts(_sections(person, now))


def _sections(person, now: dt.datetime) -> dict[str, QuerySet]:
    """Each section's follow-ups, by its own condition: with the list's OR beside it (pending, or
    done today) the planner walked the salesperson's follow-ups by date, done ones included."""
    mine = FollowUp.objects.filter(assigned_to=person)
    ranges = _ranges(now)
    today_listed = Q(status__in=[FollowUp.State.PENDING, FollowUp.State.DONE])
    return {
        "overdue": mine.filter(ranges["overdue"]),
        "today": mine.filter(ranges["today"] & today_listed),
        "upcoming": mine.filter(ranges["upcoming"]),
    }


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _ranges(now: dt.datetime) -> dict[str, Q]:
    # Days start at local midnight (DST included): "overdue" is what was due before today.
    today = timezone.localdate(now)
    midnight, tomorrow = _local_midnight(today), _local_midnight(today + dt.timedelta(days=1))
    until = _local_midnight(today + dt.timedelta(days=1 + UPCOMING_DAYS))
    pending = Q(status=FollowUp.State.PENDING)
    return {
        "overdue": pending & Q(due_at__lt=midnight),
        "today": Q(due_at__gte=midnight, due_at__lt=tomorrow),
        "upcoming": pending & Q(due_at__gte=tomorrow, due_at__lt=until),
    }


def natural_case(text: str) -> str:
    """Spanish and Portuguese write month and weekday names in lower case ("dezembro de 2026"),
    though Django's pt_BR catalogue capitalises them."""
    language = translation.get_language() or ""
    return text.lower() if language.startswith(("es", "pt")) else text


def month_title(day: dt.date) -> str:
    return natural_case(formats.date_format(day, "YEAR_MONTH_FORMAT"))


def day_title(day: dt.date) -> str:
    """The heading of a day in the phone's list: "Quarta-feira, 2 de dezembro", "Wednesday, December 2"."""
    return capfirst(natural_case(f"{formats.date_format(day, 'l')}, {formats.date_format(day, 'MONTH_DAY_FORMAT')}"))


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
    capped: bool = False  # more than MONTH_COUNT_CAP: `total` is a lower bound

    @property
    def more(self) -> int:
        total = len(self.followups) if self.total is None else self.total
        return max(0, total - MONTH_CELL_ITEMS)

    @property
    def title(self) -> str:
        return day_title(self.date)

    @property
    def short(self) -> str:
        return natural_case(formats.date_format(self.date, "j M"))  # "2 dez", "2 dic", "2 Dec"


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

    @property
    def title(self) -> str:
        if self.view == View.MONTH:
            return month_title(self.anchor)
        last = self.end - dt.timedelta(days=1)
        return natural_case(f"{formats.date_format(self.start, 'j M')} – {formats.date_format(last, 'j M Y')}")


def _month_days(days: list[dt.date]) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """Each day's bounds, local midnight to local midnight (DST included)."""
    return [_local_midnight(day) for day in days], [_local_midnight(day + dt.timedelta(days=1)) for day in days]


# PostgreSQL: one short range of followup_calendar_idx per day (LATERAL), in one statement.
_FIRST_OF_EACH_DAY = f"""
    SELECT first_ones.id FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS day(starts, ends)
    CROSS JOIN LATERAL (
        SELECT f.id FROM {FollowUp._meta.db_table} f
        WHERE f.assigned_to_id = %s AND f.due_at >= day.starts AND f.due_at < day.ends AND f.status <> %s
        ORDER BY f.due_at, f.id LIMIT %s
    ) AS first_ones"""  # noqa: S608
_COUNT_OF_EACH_DAY = f"""
    SELECT day.day, (
        SELECT COUNT(*) FROM (
            SELECT 1 FROM {FollowUp._meta.db_table} f
            WHERE f.assigned_to_id = %s AND f.due_at >= day.starts AND f.due_at < day.ends AND f.status <> %s
            LIMIT %s
        ) AS capped
    ) FROM unnest(%s::date[], %s::timestamptz[], %s::timestamptz[]) AS day(day, starts, ends)"""  # noqa: S608


def _month_by_day(person, days: list[dt.date]) -> list[FollowUp]:
    """Each day's first MONTH_CELL_ITEMS follow-ups (with their clients): a short range of the
    calendar index per day; ranking the whole month read every follow-up of it (96,000 for a
    bench salesperson)."""
    starts, ends = _month_days(days)
    first_ones = RawSQL(  # noqa: S611 (a constant statement, every value a parameter)
        _FIRST_OF_EACH_DAY, [starts, ends, _pk(person), FollowUp.State.CANCELLED, MONTH_CELL_ITEMS],
    )
    return list(FollowUp.objects.filter(pk__in=first_ones).select_related("client").order_by("due_at", "id"))


def _month_counts(person, days: list[dt.date]) -> list[tuple[dt.date, int]]:
    """(day, follow-ups) of each day, counted up to MONTH_COUNT_CAP + 1: a cell says "+N more",
    and beyond fifty the exact number is not worth reading them all."""
    starts, ends = _month_days(days)
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNT_OF_EACH_DAY, [_pk(person), FollowUp.State.CANCELLED, MONTH_COUNT_CAP + 1, days, starts, ends],
        )
        return [(_as_date(day), count) for day, count in cursor.fetchall() if count]


def _pk(person) -> int:
    return person if isinstance(person, int) else person.pk


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


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

    shown = (
        FollowUp.objects.filter(assigned_to=person, due_at__gte=_local_midnight(start), due_at__lt=_local_midnight(end))
        .exclude(status=FollowUp.State.CANCELLED)
    )
    days = {}
    for offset in range((end - start).days):
        day = start + dt.timedelta(days=offset)
        in_period = view == View.WEEK or day.month == anchor.month
        days[day] = Day(date=day, in_period=in_period, is_today=day == today)
    truncated = False
    if view == View.MONTH and connection.vendor == "postgresql":
        followups = _month_by_day(person, list(days))
        for day, count in _month_counts(person, list(days)):
            days[day].total = count
            days[day].capped = count > MONTH_COUNT_CAP
    elif view == View.MONTH:  # SQLite has no LATERAL: a window over the month instead
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
