"""The manager's dashboard: every figure from the daily snapshots and small grouped queries.

Scope by role (accounts.selectors.salespeople_visible_to): a comercial sees their own portfolio,
a gerente their team's, an administrador everyone's or one team's. Nothing here reads purchases:
the distributions and the segments' shares come from the latest snapshots (a few hundred rows),
the trends from a year of snapshots, the flows from the status changes of two months, the overdue follow-ups from the
agenda index. A fixed number of queries whatever the size of the business.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.selectors import salespeople_visible_to
from clients.models import Alert, Client, FollowUp, FrequencyClass, Status, VolumeTier
from segmentation.models import DailySnapshot, Segment, SegmentSnapshot, StatusChange

TREND_MONTHS = 12


@dataclass
class Cell:
    clients: int = 0
    revenue: Decimal = Decimal("0")

    def add(self, clients: int, revenue: Decimal) -> None:
        self.clients += clients
        self.revenue += revenue


@dataclass
class Row:
    code: str
    label: str
    cell: Cell
    share: float = 0.0  # of the scope's 12-month revenue, in %
    nps: dict | None = None  # saved segments: NPS of their clients' answers


@dataclass
class Dashboard:
    day: dt.date | None
    people: list[User]
    team: Team | None
    statuses: list[Row] = field(default_factory=list)
    tiers: list[Row] = field(default_factory=list)
    frequencies: list[Row] = field(default_factory=list)
    total: Cell = field(default_factory=Cell)
    reds: int = 0
    by_person: list[dict] = field(default_factory=list)
    segments: list[Row] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)
    flows: list[dict] = field(default_factory=list)
    lost_reasons: list[dict] = field(default_factory=list)
    overdue_total: int = 0
    teams: list[dict] = field(default_factory=list)
    nps: dict = field(default_factory=dict)  # the scope's NPS over the last 12 months
    nps_campaigns: list[dict] = field(default_factory=list)


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
    people = list(salespeople_visible_to(user).select_related("team"))
    if team is not None:
        people = [person for person in people if person.team_id == team.pk]
    ids = [person.pk for person in people]
    snapshots = DailySnapshot.objects.filter(owner_id__in=ids)
    day = snapshots.filter(date__lte=today).aggregate(day=Max("date"))["day"]
    board = Dashboard(day=day, people=people, team=team)

    # The latest snapshot: every distribution and each salesperson's portfolio.
    by_status, by_tier, by_frequency = defaultdict(Cell), defaultdict(Cell), defaultdict(Cell)
    person_status: dict[int, dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
    reds_by_person: dict[int, int] = defaultdict(int)
    for row in snapshots.filter(date=day).values_list(
        "owner_id", "status", "volume_tier", "frequency_class", "alert", "clients", "spend_12m",
    ):
        owner_id, status, tier, frequency, alert, clients, revenue = row
        by_status[status].add(clients, revenue)
        by_tier[tier].add(clients, revenue)
        by_frequency[frequency].add(clients, revenue)
        person_status[owner_id][status].add(clients, revenue)
        board.total.add(clients, revenue)
        if alert == Alert.RED:
            reds_by_person[owner_id] += clients
    board.reds = sum(reds_by_person.values())
    board.statuses = _rows(Status.choices, by_status, board.total)
    board.tiers = _rows(VolumeTier.choices, by_tier, board.total, empty_label=_("No purchases in 12 months"))
    board.frequencies = _rows(FrequencyClass.choices, by_frequency, board.total, empty_label=_("Never bought"))

    # Overdue follow-ups per salesperson (the agenda index).
    overdue = dict(
        FollowUp.objects.filter(assigned_to_id__in=ids, status=FollowUp.State.PENDING, due_at__lt=timezone.now())
        .values_list("assigned_to_id").annotate(n=Count("pk")).order_by()
    )
    for person in people:
        cells = person_status.get(person.pk, {})
        total = Cell()
        for cell in cells.values():
            total.add(cell.clients, cell.revenue)
        board.by_person.append({
            "person": person, "total": total, "reds": reds_by_person.get(person.pk, 0),
            "overdue": overdue.get(person.pk, 0),
            "statuses": [Row(code, str(label), cells.get(code, Cell())) for code, label in Status.choices],
        })
    board.overdue_total = sum(overdue.values())

    # Trends: the last snapshot of each of the last 12 months.
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
    for date in sorted(last_of_month.values())[-TREND_MONTHS - 1:]:
        cells = per_day[date]
        board.trend.append({
            "date": date,
            "statuses": {code: cells.get(code, Cell()).clients for code in Status.values},
            "revenue": sum((cell.revenue for cell in cells.values()), Decimal("0")),
        })

    # Flows between statuses: this month against last month.
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    flows = (
        StatusChange.objects.filter(client__owner_id__in=ids, date__gte=last_month, date__lte=today)
        .values("from_status", "to_status")
        .annotate(
            this_month=Count("pk", filter=Q(date__gte=this_month)),
            last_month=Count("pk", filter=Q(date__lt=this_month)),
        )
        .order_by("-this_month", "from_status", "to_status")
    )
    labels = dict(Status.choices)
    board.flows = [
        {**flow, "from_label": labels.get(flow["from_status"], "—"), "to_label": labels.get(flow["to_status"], "—")}
        for flow in flows
    ]
    reasons = dict(Client.CloseReason.choices)
    board.lost_reasons = [
        {"code": code, "label": reasons.get(code, _("Not recorded")), "clients": n}
        for code, n in StatusChange.objects.filter(
            client__owner_id__in=ids, to_status=Status.LOST, date__gte=this_month, date__lte=today,
        ).values_list("client__close_reason").annotate(n=Count("pk")).order_by("-n")
    ]

    # Saved segments' share of the 12-month revenue, from the same night's segment snapshots.
    segments = list(Segment.objects.visible_to(user))
    if segments:
        totals = {
            segment_id: Cell(clients, revenue)
            for segment_id, clients, revenue in SegmentSnapshot.objects.filter(
                date=day, owner_id__in=ids, segment__in=segments,
            ).values_list("segment_id").annotate(n=Sum("clients"), r=Sum("spend_12m")).order_by()
        }
        board.segments = [
            Row(str(segment.pk), segment.name, totals.get(segment.pk, Cell()),
                _share(totals.get(segment.pk, Cell()).revenue, board.total.revenue))
            for segment in segments
        ]

    # NPS over the last 12 months: the scope, each salesperson, segment and survey campaign.
    from campaigns.models import SurveyAnswer  # campaigns builds on segments: imported late
    from campaigns.services import nps_breakdown, nps_by_segment

    year_ago = dt.datetime.combine(today - dt.timedelta(days=365), dt.time.min, tzinfo=timezone.get_current_timezone())
    answers = SurveyAnswer.objects.filter(client__owner_id__in=ids, client__deleted_at__isnull=True, answered_at__gte=year_ago)
    breakdown = nps_breakdown(answers)
    board.nps, board.nps_campaigns = breakdown.total, breakdown.by_campaign
    for entry in board.by_person:
        entry["nps"] = breakdown.by_owner.get(entry["person"].pk)
    if segments:
        by_segment = nps_by_segment(user=user, segments=segments, answers=answers, clients=breakdown.by_client)
        for row in board.segments:
            row.nps = by_segment.get(int(row.code))

    # One line per team: its health at a glance.
    teams: dict[int | None, dict] = {}
    for entry in board.by_person:
        team_obj = entry["person"].team
        key = team_obj.pk if team_obj else None
        line = teams.setdefault(key, {"team": team_obj, "clients": 0, "revenue": Decimal("0"), "active": 0,
                                      "dormant": 0, "reds": 0, "overdue": 0})
        line["clients"] += entry["total"].clients
        line["revenue"] += entry["total"].revenue
        for row in entry["statuses"]:
            if row.code in (Status.NEW, Status.ACTIVE):
                line["active"] += row.cell.clients
            elif row.code == Status.DORMANT:
                line["dormant"] += row.cell.clients
        line["reds"] += entry["reds"]
        line["overdue"] += entry["overdue"]
    for line in teams.values():
        line["active_pct"] = _share(Decimal(line["active"]), Decimal(line["clients"]))
        line["dormant_pct"] = _share(Decimal(line["dormant"]), Decimal(line["clients"]))
    board.teams = list(teams.values())
    return board
