"""Every survey answer (a page of its own) and a campaign's recipients with their answers (on the
campaign's page): only those of the clients the viewer may see."""

from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format

from campaigns.answers import AnswerFilter, answers_visible_in, nps_trend
from campaigns.models import Campaign, Recipient
from campaigns.services import campaigns_visible_to
from clients.models import Client, portfolio_scope

PER_PAGE = 50
RECIPIENTS_PER_PAGE = 25


def answer_list(request: HttpRequest) -> HttpResponse:
    """The answers, newest first, filtered; and the filtered answers' NPS month by month."""
    answers, visible = answers_visible_in(portfolio_scope(request.user))
    filterset = AnswerFilter(request.GET, queryset=answers, user=request.user, visible=visible)
    filtered = filterset.qs if filterset.is_valid() else answers.none()
    rows = filtered.select_related("client", "client__owner", "recipient__campaign").order_by("-answered_at", "-id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    # A gerente's survey reaches their comerciales' clients: its name shows, its page opens only
    # for those who may read the campaign.
    readable = set(campaigns_visible_to(request.user).filter(
        pk__in={answer.recipient.campaign_id for answer in page.object_list},
    ).values_list("pk", flat=True))
    for answer in page.object_list:
        answer.campaign_readable = answer.recipient.campaign_id in readable
    trend = nps_trend(filtered)
    query = request.GET.copy()
    query.pop("page", None)
    chart = {
        "labels": [date_format(month.month, "M Y") for month in trend],
        "scores": [month.score for month in trend],
    }
    return render(request, "campaigns/answer_list.html", {
        "filter": filterset, "page": page, "trend": trend, "chart_data": chart, "query": query.urlencode(),
    })


def recipient_answers(request: HttpRequest, campaign: Campaign) -> dict:
    """The campaign page's recipients of a survey with their answers (the answered first), of the
    clients the viewer may see, a page at a time (`recipients_page`)."""
    if campaign.goal != Campaign.Goal.SURVEY:
        return {}
    visible = Client.objects.visible_in(portfolio_scope(request.user))
    recipients = (
        Recipient.objects.filter(campaign=campaign, client__in=visible.order_by().values("pk"))
        .select_related("client", "answer")
        .order_by(F("answer__answered_at").desc(nulls_last=True), "client__sort_name", "id")
    )
    page = Paginator(recipients, RECIPIENTS_PER_PAGE).get_page(request.GET.get("recipients_page"))
    return {"recipients": page}
