"""NPS: promoters 9–10, passives 7–8, detractors 0–6; NPS = % promoters − % detractors (None
without answers). A campaign's results and the dashboard's NPS section are computed here."""

import datetime as dt
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from campaigns.models import NpsSnapshot, SurveyAnswer
from clients.models import Client, not_in_trash
from segmentation.dashboard import Dashboard
from segmentation.segments import segments_union

DASHBOARD_DAYS = 365  # the dashboard's NPS counts the answers of the last 12 months


def nps(answers: models.QuerySet[SurveyAnswer]) -> dict:
    """The answers' NPS figures: answers, promoters, passives, detractors and score."""
    return _with_score(answers.aggregate(**_nps_counts()))


def nps_score(promoters: int, detractors: int, answers: int) -> int | None:
    if not answers:
        return None
    return round(100 * (promoters - detractors) / answers)


def _nps_counts() -> dict:
    return {
        "answers": Count("pk"), "promoters": Count("pk", filter=Q(score__gte=9)),
        "passives": Count("pk", filter=Q(score__gte=7, score__lte=8)), "detractors": Count("pk", filter=Q(score__lte=6)),
    }


def _with_score(row: dict) -> dict:
    return row | {"score": nps_score(row["promoters"], row["detractors"], row["answers"])}


def nps_total(groups) -> dict:
    """The NPS figures of several groups taken together."""
    total = {name: 0 for name in ("answers", "promoters", "passives", "detractors")}
    for group in groups:
        for name in total:
            total[name] += group[name]
    return _with_score(total)


@dataclass
class NpsBreakdown:
    total: dict
    by_owner: dict[int, dict]
    by_client: dict[int, dict]
    by_campaign: list[dict]  # {"campaign_id", "name", NPS figures}, the latest campaign first


def nps_breakdown(answers: models.QuerySet[SurveyAnswer]) -> NpsBreakdown:
    """The answers' NPS in total, per salesperson, per client and per campaign, from one query
    grouped by client and campaign (few clients answer surveys: the rest is folded here)."""
    rows = answers.order_by().values(
        "client_id", "client__owner_id", "recipient__campaign_id", "recipient__campaign__name",
    ).annotate(**_nps_counts())
    by_owner: dict[int, list] = {}
    by_client: dict[int, list] = {}
    by_campaign: dict[int, list] = {}
    names = {}
    for row in rows:
        by_owner.setdefault(row["client__owner_id"], []).append(row)
        by_client.setdefault(row["client_id"], []).append(row)
        by_campaign.setdefault(row["recipient__campaign_id"], []).append(row)
        names[row["recipient__campaign_id"]] = row["recipient__campaign__name"]
    return NpsBreakdown(
        total=nps_total(rows),
        by_owner={owner: nps_total(group) for owner, group in by_owner.items()},
        by_client={client: nps_total(group) for client, group in by_client.items()},
        by_campaign=[
            {"campaign_id": pk, "name": names[pk]} | nps_total(by_campaign[pk]) for pk in sorted(by_campaign, reverse=True)
        ],
    )


def nps_by_segment(
    *, user, segments: list, answers: models.QuerySet[SurveyAnswer], clients: dict[int, dict],
) -> dict[int, dict]:
    """{segment pk: NPS figures} of the answers of each segment's current clients.

    Only the answering clients (`answers`' clients, whose counts are `clients` from nps_breakdown)
    are tested against each segment's filter, in one UNION ALL query that starts from the
    answers: no segment is evaluated over every client.
    """
    if not clients:
        return {}
    union = segments_union(
        user=user, segments=segments,
        visible=Client.objects.visible_to(user).filter(pk__in=answers.order_by().values("client_id")),
        shape=lambda members: members.values_list("segment_id", "pk"),
    )
    if union is None:
        return {}
    members: dict[int, list[int]] = {}
    for segment_id, client_id in union:
        members.setdefault(segment_id, []).append(client_id)
    return {segment_id: nps_total(clients[pk] for pk in ids) for segment_id, ids in members.items()}


def _day_end(day: dt.date) -> dt.datetime:
    """The midnight that ends `day`, in the business time zone."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())


def _year_before(day: dt.date) -> dt.datetime:
    """The start of the dashboard's 12 months ending on `day`, in the business time zone."""
    return dt.datetime.combine(day - dt.timedelta(days=DASHBOARD_DAYS), dt.time.min, tzinfo=timezone.get_current_timezone())


@transaction.atomic
def nps_snapshot_take(*, day: dt.date) -> int:
    """The NPS snapshot of `day`: the answers of its 12 months from clients not in the trash,
    counted per salesperson and survey campaign, and per salesperson and saved segment (each
    segment's clients as its nightly snapshot counts them: segmentation.snapshots). One grouped
    query, then one per segment; returns the rows written. Taking the same day again replaces it."""
    from clients.filters import ClientFilter
    from segmentation.models import Segment
    from segmentation.segments import segment_query

    NpsSnapshot.objects.filter(date=day).delete()
    now = timezone.now()
    answers = SurveyAnswer.objects.filter(not_in_trash("client__"), answered_at__gte=_year_before(day), answered_at__lt=_day_end(day))
    rows = [
        NpsSnapshot(date=day, taken_at=now, owner_id=row.pop("client__owner_id"), campaign_id=row.pop("recipient__campaign_id"), **row)
        for row in answers.order_by().values("client__owner_id", "recipient__campaign_id").annotate(**_nps_counts())
    ]
    for segment in Segment.objects.select_related("owner"):
        filterset = ClientFilter(segment_query(segment), queryset=Client.objects.not_in_trash(), user=segment.owner)
        if not filterset.is_valid():
            continue
        rows += [
            NpsSnapshot(date=day, taken_at=now, owner_id=row.pop("client__owner_id"), segment=segment, **row)
            for row in answers.filter(client__in=filterset.qs.order_by().values("pk")).order_by()
            .values("client__owner_id").annotate(**_nps_counts())
        ]
    NpsSnapshot.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)


COUNTS = ("answers", "promoters", "passives", "detractors")


def dashboard_nps_add(board: Dashboard, *, user) -> None:
    """The dashboard's NPS section, in the board's scope: the answers of the 12 months ending on
    the board's day from the clients of the salespeople in scope, in total, per salesperson, per
    saved segment and per survey campaign. Read from that night's NPS snapshot (one query: the
    nightly snapshots step takes it, segmentation.tasks); a segment saved since is counted live
    (one more query); before any night, everything live."""
    if board.day is None:
        _dashboard_nps_live(board, user=user)
        return
    by_owner: dict[int, list] = {}
    by_campaign: dict[int, list] = {}
    by_segment: dict[int, list] = {}
    names = {}
    taken = None
    for row in NpsSnapshot.objects.filter(date=board.day, owner_id__in=board.owner_ids).values(
        "owner_id", "campaign_id", "campaign__name", "segment_id", "taken_at", *COUNTS,
    ):
        taken = max(taken or row["taken_at"], row["taken_at"])
        if row["segment_id"] is not None:
            by_segment.setdefault(row["segment_id"], []).append(row)
            continue
        by_owner.setdefault(row["owner_id"], []).append(row)
        by_campaign.setdefault(row["campaign_id"], []).append(row)
        names[row["campaign_id"]] = row["campaign__name"]
    board.nps = nps_total(row for group in by_owner.values() for row in group)
    board.nps_campaigns = [
        {"campaign_id": pk, "name": names[pk]} | nps_total(by_campaign[pk]) for pk in sorted(by_campaign, reverse=True)
    ]
    for entry in board.by_person:
        entry["nps"] = nps_total(by_owner[entry["person"].pk]) if entry["person"].pk in by_owner else None
    segments_nps = {pk: nps_total(rows) for pk, rows in by_segment.items()}
    # Saved after the snapshot (or none taken in scope): counted live, over the snapshot's 12 months.
    newer = [segment for segment in board.saved_segments if taken is None or segment.created_at > taken]
    if newer:
        segments_nps.update(_segments_nps_live(board, user=user, segments=newer, day=board.day))
    for row in board.segments:
        row.nps = segments_nps.get(int(row.code))


def _segments_nps_live(board: Dashboard, *, user, segments: list, day: dt.date) -> dict[int, dict]:
    """{segment pk: NPS figures} of the answers of the 12 months ending on `day` of each segment's
    clients in the board's scope, in one UNION ALL query."""
    answered = Q(survey_answers__answered_at__gte=_year_before(day), survey_answers__answered_at__lt=_day_end(day))
    counts = {
        "answers": Count("survey_answers", filter=answered),
        "promoters": Count("survey_answers", filter=answered & Q(survey_answers__score__gte=9)),
        "passives": Count("survey_answers", filter=answered & Q(survey_answers__score__gte=7, survey_answers__score__lte=8)),
        "detractors": Count("survey_answers", filter=answered & Q(survey_answers__score__lte=6)),
    }
    union = segments_union(
        user=user, segments=segments, visible=Client.objects.visible_to(user).filter(owner_id__in=board.owner_ids),
        shape=lambda members: members.filter(answered).values("segment_id").annotate(**counts),
    )
    return {row["segment_id"]: _with_score({name: row[name] for name in COUNTS}) for row in union or []}


def _dashboard_nps_live(board: Dashboard, *, user) -> None:
    """Before any night: the same figures from the answers of the last 12 months of the clients
    (not in the trash) of the salespeople in scope."""
    year_ago = dt.datetime.combine(
        board.today - dt.timedelta(days=DASHBOARD_DAYS), dt.time.min, tzinfo=timezone.get_current_timezone(),
    )
    answers = SurveyAnswer.objects.filter(
        not_in_trash("client__"), client__owner_id__in=board.owner_ids, answered_at__gte=year_ago,
    )
    breakdown = nps_breakdown(answers)
    board.nps, board.nps_campaigns = breakdown.total, breakdown.by_campaign
    for entry in board.by_person:
        entry["nps"] = breakdown.by_owner.get(entry["person"].pk)
    if board.saved_segments:
        by_segment = nps_by_segment(user=user, segments=board.saved_segments, answers=answers, clients=breakdown.by_client)
        for row in board.segments:
            row.nps = by_segment.get(int(row.code))
