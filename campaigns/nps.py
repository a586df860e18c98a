"""NPS: promoters 9–10, passives 7–8, detractors 0–6; NPS = % promoters − % detractors (None
without answers). A campaign's results and the dashboard's NPS section are computed here."""

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from campaigns.models import SurveyAnswer
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


def dashboard_nps_add(board: Dashboard, *, user) -> None:
    """The dashboard's NPS section, in the board's scope: the answers of the last 12 months from
    the clients (not in the trash) of the salespeople in scope, in total, per salesperson, per
    saved segment and per survey campaign."""
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
