"""The manager's dashboard: every figure from the daily snapshots and small grouped queries.

Scope by role (accounts.selectors.salespeople_visible_to): a comercial sees their own portfolio,
a gerente their team's, an administrador everyone's or one team's. Nothing here reads purchases:
the distributions and the segments' shares come from the latest snapshots (a few hundred rows),
the trends from a year of snapshots, the flows from the night's flow snapshot and the status changes written since,
the overdue follow-ups from the agenda index. A fixed number of queries whatever the size of the business.

The NPS figures are campaigns' (campaigns.nps.dashboard_nps_add): the dashboard's view adds them
to the board, so that this module, below campaigns, never reads survey answers.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, DateField, Exists, Max, OuterRef, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, Team, User
from accounts.selectors import salespeople_visible_to
from clients.models import Alert, Client, Contract, FollowUp, FrequencyClass, Status, VolumeTier
from clients.renewals import renewal_aggregates, renewal_outcomes, renewal_rate
from core.sql import COUNT_CAP, capped_counts
from segmentation.cells import Cell
from segmentation.ideal import DashboardFit, dashboard_fit
from segmentation.leaving import alert_text, leaving_report, reason_alert
from segmentation.models import (
    DailySnapshot,
    FlowSnapshot,
    LifecycleSettings,
    RenewalSnapshot,
    Segment,
    SegmentSnapshot,
    StatusChange,
)
from segmentation.segments import segment_totals
from segmentation.snapshots import RENEWAL_PERIOD_DAYS
from segmentation.sources import dashboard_sources

TREND_MONTHS = 12
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # before any change: no flow snapshot that day, every change counted live


@dataclass
class Row:
    code: str
    label: str
    cell: Cell
    share: float = 0.0  # of the scope's 12-month revenue, in %
    nps: dict | None = None  # saved segments: NPS of their clients' answers (added by the view)


@dataclass
class Dashboard:
    day: dt.date | None  # of the latest snapshot
    people: list[User]
    team: Team | None
    today: dt.date
    statuses: list[Row] = field(default_factory=list)
    tiers: list[Row] = field(default_factory=list)
    frequencies: list[Row] = field(default_factory=list)
    total: Cell = field(default_factory=Cell)
    reds: int = 0
    by_person: list[dict] = field(default_factory=list)
    segments: list[Row] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)
    flows: list[dict] = field(default_factory=list)
    lost_reasons: list[dict] = field(default_factory=list)  # this month's bajas per reason, with the revenue lost
    lost_total: int = 0
    lost_alert: str = ""  # when one reason passes the administrador's share (segmentation/leaving.py)
    overdue_total: int = 0
    overdue_capped: bool = False  # someone's count stopped at COUNT_CAP: the total is a lower bound
    teams: list[dict] = field(default_factory=list)
    saved_segments: list[Segment] = field(default_factory=list)  # those behind `segments`, in order
    # Figures other apps own, which the dashboard's view adds (campaigns.nps.dashboard_nps_add):
    # the scope's NPS over the last 12 months (also on each by_person entry and segment Row).
    nps: dict = field(default_factory=dict)
    nps_campaigns: list[dict] = field(default_factory=list)
    # Contracts that came to term in the last RENEWAL_PERIOD_DAYS: renewed and lost, their value, the rate.
    renewals: dict = field(default_factory=dict)
    # The altas of the last 12 months per source (segmentation/sources.py), the most frequent first.
    sources: list[dict] = field(default_factory=list)
    # The ideal client profile: clients that fit and their share of the revenue (None: no profile).
    icp: DashboardFit | None = None

    @property
    def owner_ids(self) -> list[int]:
        """The salespeople in scope, whose clients every figure counts."""
        return [person.pk for person in self.people]


def _share(part: Decimal, whole: Decimal) -> float:
    return round(float(part * 100 / whole), 1) if whole else 0.0


def _rows(choices, cells: dict[str, Cell], total: Cell, *, empty_label: str | None = None) -> list[Row]:
    rows = [Row(code, str(label), cells.get(code, Cell())) for code, label in choices]
    if empty_label is not None and cells.get(""):
        rows.append(Row("", empty_label, cells[""]))
    for row in rows:
        row.share = _share(row.cell.revenue, total.revenue)
    return rows


def dashboard_build(*, user: User, team: Team | None = None, today: dt.date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    # Whether each is a comercial, in the same query: a gerente is listed only with clients.
    sells = Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=Role.COMERCIAL))
    people = list(salespeople_visible_to(user).select_related("team").annotate(sells=sells))
    if team is not None:
        people = [person for person in people if person.team_id == team.pk]
    snapshots = DailySnapshot.objects.filter(owner_id__in=[person.pk for person in people])
    day = snapshots.filter(date__lte=today).aggregate(day=Max("date"))["day"]
    board = Dashboard(day=day, people=people, team=team, today=today)
    portfolios = _distributions_add(board, snapshots)
    _people_add(board, portfolios)
    board.trend = _trend(snapshots, today)
    _flows_add(board)
    _segments_add(board, user)
    board.icp = dashboard_fit(owner_ids=board.owner_ids)
    board.teams = _teams(board.by_person)
    board.sources = dashboard_sources(owner_ids=board.owner_ids, today=today, day=board.day)
    board.renewals = _renewals(board)
    return board


def _renewals(board: Dashboard) -> dict:
    """The renewal rate of the last 12 months: the night's renewal snapshot (of this day) less the
    contracts saved since it was taken, plus those counted as they are now (three queries: when
    it was taken, the snapshot, the changed contracts). Live before any night or when the night
    is of another day. Joining the period's 29,000 contracts to their clients took 60-220 ms at a
    million clients; a client reassigned or put in the trash today counts as it was last night,
    like the rest of the board."""
    since = board.today - dt.timedelta(days=RENEWAL_PERIOD_DAYS - 1)
    live = {"owner_ids": board.owner_ids, "since": since, "until": board.today}
    taken = None
    if board.day == board.today:
        taken = RenewalSnapshot.objects.filter(date=board.day).values_list("taken_at", flat=True).first()
    if taken is None:
        return renewal_rate(renewal_outcomes(**live), since=since, until=board.today)
    changed = Contract.objects.filter(updated_at__gt=taken)
    night = (
        RenewalSnapshot.objects.filter(date=board.day, owner_id__in=board.owner_ids)
        .exclude(contract_id__in=changed.values("pk"))
        .aggregate(**renewal_aggregates(Q(renewed=True), Q(renewed=False)))
    )
    return renewal_rate(night, renewal_outcomes(**live, contracts=changed), since=since, until=board.today)


@dataclass
class _Portfolios:
    """The latest snapshot per salesperson: clients and revenue per status, and the reds."""

    statuses: dict[int, dict[str, Cell]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Cell)))
    reds: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def _distributions_add(board: Dashboard, snapshots) -> _Portfolios:
    """Every distribution from the latest snapshot; returns each salesperson's portfolio."""
    by_status, by_tier, by_frequency = defaultdict(Cell), defaultdict(Cell), defaultdict(Cell)
    portfolios = _Portfolios()
    for row in snapshots.filter(date=board.day).values_list(
        "owner_id", "status", "volume_tier", "frequency_class", "alert", "clients", "spend_12m",
    ):
        owner_id, status, tier, frequency, alert, clients, revenue = row
        by_status[status].add(clients, revenue)
        by_tier[tier].add(clients, revenue)
        by_frequency[frequency].add(clients, revenue)
        portfolios.statuses[owner_id][status].add(clients, revenue)
        board.total.add(clients, revenue)
        if alert == Alert.RED:
            portfolios.reds[owner_id] += clients
    board.reds = sum(portfolios.reds.values())
    board.statuses = _rows(Status.choices, by_status, board.total)
    board.tiers = _rows(VolumeTier.choices, by_tier, board.total, empty_label=_("No purchases in 12 months"))
    board.frequencies = _rows(FrequencyClass.choices, by_frequency, board.total, empty_label=_("Never bought"))
    return portfolios


def _people_add(board: Dashboard, portfolios: _Portfolios) -> None:
    """One entry per salesperson: their portfolio, reds and overdue follow-ups (the agenda index)."""
    # Counted up to COUNT_CAP each, in one query (core.sql.capped_counts): every one of the
    # bench's 150,000 overdue follow-ups counted took 50-80 ms at a million clients.
    late = FollowUp.objects.filter(status=FollowUp.State.PENDING, due_at__lt=timezone.now())
    overdue = capped_counts({pk: late.filter(assigned_to_id=pk) for pk in board.owner_ids})
    for person in board.people:
        if not (person.sells or person.pk in portfolios.statuses or overdue.get(person.pk)):
            continue  # a gerente without clients in scope is no salesperson with a row of zeros
        cells = portfolios.statuses.get(person.pk, {})
        total = Cell()
        for cell in cells.values():
            total.add(cell.clients, cell.revenue)
        board.by_person.append({
            "person": person, "total": total, "reds": portfolios.reds.get(person.pk, 0),
            "overdue": overdue.get(person.pk, 0), "overdue_capped": overdue.get(person.pk, 0) > COUNT_CAP,
            "statuses": [Row(code, str(label), cells.get(code, Cell())) for code, label in Status.choices],
        })
    board.overdue_total = sum(overdue.values())
    board.overdue_capped = any(n > COUNT_CAP for n in overdue.values())


def _trend(snapshots, today: dt.date) -> list[dict]:
    """The last snapshot of each of the last 12 months."""
    since = (today.replace(day=1) - dt.timedelta(days=366)).replace(day=1)
    per_day: dict[dt.date, dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    for date, status, clients, revenue in (
        snapshots.filter(date__gte=since, date__lte=today).values_list("date", "status")
        .annotate(n=Sum("clients"), r=Sum("spend_12m")).order_by("date")
    ):
        per_day[date][status].add(clients, revenue)
    last_of_month: dict[tuple[int, int], dt.date] = {}
    for date in sorted(per_day):
        last_of_month[(date.year, date.month)] = date
    trend = []
    for date in sorted(last_of_month.values())[-TREND_MONTHS - 1:]:
        cells = per_day[date]
        trend.append({
            "date": date,
            "statuses": {code: cells.get(code, Cell()).clients for code in Status.values},
            "revenue": sum((cell.revenue for cell in cells.values()), Decimal("0")),
        })
    return trend


def _flows_add(board: Dashboard) -> None:
    """Flows between statuses, this month against last month, and this month's reasons for leaving.

    From the night's flow snapshot (segmentation/snapshots.py) plus the changes written since it
    was taken (two queries: when it was taken, then both in one UNION ALL); live over the two months' changes when the board's night
    is of an earlier month or took none (a million clients' status changes of two months, joined
    to their owners, took 0.6 s)."""
    this_month = board.today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    month = Case(When(date__gte=this_month, then=Value(this_month)), default=Value(last_month), output_field=DateField())
    changes = StatusChange.objects.filter(
        client__owner_id__in=board.owner_ids, date__gte=last_month, date__lte=board.today,
    )
    if board.day is not None and board.day >= this_month:
        # Its time read first, so that the planner sees how recent it is: as a subquery it planned
        # for thousands of changes and started parallel workers for none (12 ms of the 15).
        taken = FlowSnapshot.objects.filter(date=board.day).values_list("taken_at", flat=True).first()
        changes = changes.filter(created_at__gt=taken or EPOCH)
        snapshot = (
            FlowSnapshot.objects.filter(date=board.day, owner_id__in=board.owner_ids, month__gte=last_month)
            .values_list("month", "from_status", "to_status").annotate(n=Sum("changes")).order_by()
        )
    else:
        snapshot = None
    rows = changes.annotate(month=month).values_list("month", "from_status", "to_status").annotate(n=Count("pk")).order_by()
    if snapshot is not None:
        rows = snapshot.union(rows, all=True)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"this_month": 0, "last_month": 0})
    for first_day, from_status, to_status, n in rows:
        counts[(from_status, to_status)]["this_month" if first_day == this_month else "last_month"] += n
    labels = dict(Status.choices)
    board.flows = [
        {"from_status": from_status, "to_status": to_status, **figures,
         "from_label": labels.get(from_status, "—"), "to_label": labels.get(to_status, "—")}
        for (from_status, to_status), figures in sorted(counts.items(), key=lambda item: (-item[1]["this_month"], item[0]))
    ]
    _leaving_add(board)


def _leaving_add(board: Dashboard) -> None:
    """This month's bajas per reason with the revenue lost, and the alert when one reason passes
    the administrador's share (two queries: the settings, the grouped bajas)."""
    thresholds = LifecycleSettings.current().thresholds()
    report = leaving_report(
        clients=Client.objects.not_in_trash().filter(owner_id__in=board.owner_ids), today=board.today, months=1,
    )
    month = report.months[-1]
    board.lost_reasons = sorted(
        ({"code": code, "label": str(label), "clients": report.cell(month, code).clients, "lost": report.cell(month, code).lost}
         for code, label in report.reasons if report.cell(month, code).clients),
        key=lambda reason: -reason["clients"],
    )
    board.lost_total = report.month_total(month).clients
    counts = {reason["code"]: reason["clients"] for reason in board.lost_reasons}
    alert = reason_alert(counts=counts, share=thresholds.leave_alert_share, minimum=thresholds.leave_alert_minimum)
    board.lost_alert = alert_text(alert) if alert else ""


def _segments_add(board: Dashboard, user: User) -> None:
    """Saved segments' share of the 12-month revenue, from the same night's segment snapshots; a
    segment with none that day (saved since, or taken on another day) counted live over the
    board's portfolios, all of them in one more query (segments.segment_totals' UNION ALL)."""
    board.saved_segments = list(Segment.objects.visible_to(user))
    if not board.saved_segments:
        return
    in_scope = Q(owner_id__in=board.owner_ids)
    totals = {
        segment_id: Cell(clients or 0, revenue or Decimal("0"))
        for segment_id, clients, revenue in SegmentSnapshot.objects.filter(
            date=board.day, segment__in=board.saved_segments,
        ).values_list("segment_id").annotate(n=Sum("clients", filter=in_scope), r=Sum("spend_12m", filter=in_scope))
        .order_by()
    }
    if missing := [segment for segment in board.saved_segments if segment.pk not in totals]:
        portfolios = Client.objects.not_in_trash().filter(owner_id__in=board.owner_ids)
        totals.update(segment_totals(user=user, segments=missing, visible=portfolios))
    board.segments = [
        Row(str(segment.pk), segment.name, totals.get(segment.pk, Cell()),
            _share(totals.get(segment.pk, Cell()).revenue, board.total.revenue))
        for segment in board.saved_segments
    ]


def _teams(by_person: list[dict]) -> list[dict]:
    """One line per team: its health at a glance."""
    teams: dict[int | None, dict] = {}
    for entry in by_person:
        team_obj = entry["person"].team
        key = team_obj.pk if team_obj else None
        line = teams.setdefault(key, {"team": team_obj, "clients": 0, "revenue": Decimal("0"), "active": 0,
                                      "dormant": 0, "reds": 0, "overdue": 0, "overdue_capped": False})
        line["clients"] += entry["total"].clients
        line["revenue"] += entry["total"].revenue
        for row in entry["statuses"]:
            if row.code in (Status.NEW, Status.ACTIVE):
                line["active"] += row.cell.clients
            elif row.code == Status.DORMANT:
                line["dormant"] += row.cell.clients
        line["reds"] += entry["reds"]
        line["overdue"] += entry["overdue"]
        line["overdue_capped"] = line["overdue_capped"] or entry["overdue_capped"]
    for line in teams.values():
        line["active_pct"] = _share(Decimal(line["active"]), Decimal(line["clients"]))
        line["dormant_pct"] = _share(Decimal(line["dormant"]), Decimal(line["clients"]))
    return list(teams.values())
