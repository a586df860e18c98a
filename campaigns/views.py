"""Campaign pages (login), the client's consent (login), and the two public pages a client
reaches from an e-mail: unsubscribe and the NPS survey (a signed token, no login)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.answer_views import recipient_answers
from campaigns.consent import consent_record
from campaigns.forms import CampaignForm, ConsentForm, SurveyForm
from campaigns.messages import client_language, last_products, message_build
from campaigns.models import Campaign, Purpose, Recipient, SurveyAnswer
from campaigns.pacing import spread_done, spread_planned
from campaigns.services import (
    AUDIENCE_SAMPLE,
    AlreadyAnswered,
    audience_counts,
    campaign_audience,
    campaign_launch,
    campaign_results,
    campaign_resume,
    campaigns_visible_to,
    survey_answer_record,
    unsubscribe,
)
from campaigns.tokens import survey_read, unsubscribe_read
from clients.models import Client, Status, portfolio_scope
from clients.selectors import visible_client
from core.http import client_ip
from core.ratelimit import rate_limited
from core.routers import replica_reads

PREVIEW_CHOICES = 20


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign = get_object_or_404(campaigns_visible_to(request.user).select_related("segment", "created_by"), pk=pk)
    if campaign.created_by_id == request.user.pk:
        campaign.created_by = request.user  # the same person: their roles are loaded once
    return campaign


def _manageable(request: HttpRequest, campaign: Campaign) -> bool:
    """Its creator (or an administrador) edits, launches and resumes a campaign; others see it."""
    return campaign.created_by_id == request.user.pk or request.user.is_administrador


def _editable(request: HttpRequest, campaign: Campaign) -> bool:
    return campaign.state == Campaign.State.DRAFT and _manageable(request, campaign)


def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = (
        campaigns_visible_to(request.user).select_related("segment", "created_by")
    )
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, user=request.user, instance=Campaign(created_by=request.user))
    if request.method == "POST" and form.is_valid():
        campaign = form.save()
        messages.success(request, _("Campaign saved as a draft: check its audience and preview, then launch it."))
        return redirect(campaign)
    return render(request, "campaigns/campaign_form.html", {"form": form})


def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if not _editable(request, campaign):
        raise Http404("Only a draft is edited, by its creator")
    form = CampaignForm(request.POST or None, user=request.user, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Campaign saved."))
        return redirect(campaign)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": campaign})


def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    context = {"campaign": campaign, "editable": _editable(request, campaign), "manageable": _manageable(request, campaign)}
    if campaign.state == Campaign.State.DRAFT:
        # The access rule's terms, looked up once for the creator (the audience) and once more
        # for the viewer only when someone else is looking (the recipients shown).
        creator_scope = portfolio_scope(campaign.created_by)
        visible = Client.objects.visible_in(creator_scope)
        viewer_scope = creator_scope if request.user.pk == campaign.created_by_id else portfolio_scope(request.user)
        with replica_reads():  # counts only: the replica's (core.routers; pinned after a write)
            context["audience"] = audience_counts(campaign, visible=visible)
        context["audience_sample"] = AUDIENCE_SAMPLE
        if not campaign.is_email:
            context["spread"] = spread_planned(campaign, campaign_audience(campaign, visible=visible))
        if campaign.is_email:
            # Any recipient: the first ones, or those a search finds among the audience, of
            # those the viewer may see (a name and an address are the client's data).
            audience = campaign_audience(campaign, visible=visible).in_portfolio(viewer_scope).select_related("owner")
            query = request.GET.get("q", "").strip()
            choices = list((audience.search(query) if query else audience)[:PREVIEW_CHOICES])
            chosen = next((c for c in choices if str(c.pk) == request.GET.get("client")), choices[0] if choices else None)
            context.update(preview_choices=choices, preview=_preview(campaign, chosen), preview_query=query)
    else:
        context["results"] = campaign_results(campaign)
        context.update(recipient_answers(request, campaign))
        if not campaign.is_email:
            context["spread"] = spread_done(campaign)
    return render(request, "campaigns/campaign_detail.html", context)


def _preview(campaign: Campaign, client: Client | None) -> dict | None:
    if client is None:
        return None
    message = message_build(campaign, client, last_product=last_products([client.pk]).get(client.pk, ""))
    return {"client": client, "subject": message.subject, "body": message.body, "to": message.to[0],
            "headers": message.extra_headers}


def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    response = render(request, "campaigns/partials/progress.html", {"campaign": campaign, "results": campaign_results(campaign)})
    if campaign.state != Campaign.State.SENDING:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def campaign_launch_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if not _editable(request, campaign):
        raise Http404("Only its creator launches a draft")
    try:
        launched = campaign_launch(campaign, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(campaign)
    if launched and campaign.is_email:
        messages.success(request, _("Campaign launched: the e-mails are being sent in the background."))
    elif launched:
        messages.success(request, _("Campaign launched: the calls and visits are in the salespeople's agendas."))
    return redirect(campaign)


@require_POST
def campaign_resume_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if campaign.state != Campaign.State.SENDING or not _manageable(request, campaign):
        raise Http404("Only a campaign being sent is resumed, by its creator")
    interrupted = campaign_resume(campaign)
    messages.success(request, _("Sending resumed. Recipients caught in the interruption: %(count)d (not written to again).") % {
        "count": interrupted})
    return redirect(campaign)


@require_POST
def consent_update(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        consent_record(client=client, purpose=data["purpose"], granted=data["granted"], source=data["source"],
                    evidence=data["evidence"], user=request.user)
        messages.success(request, _("Consent recorded."))
    else:
        messages.error(request, _("The consent was not recorded: %(errors)s") % {
            "errors": " ".join(error for errors in form.errors.values() for error in errors)})
    return redirect(client)


ONE_CLICK = "One-Click"  # RFC 8058: the mail program POSTs List-Unsubscribe=One-Click to the header's link


@login_not_required
@rate_limited("unsubscribe", per_address="RATE_LIMIT_PUBLIC_ADDRESS", per_link="RATE_LIMIT_PUBLIC_LINK")
@csrf_exempt  # mail clients POST here without a session (RFC 8058 one-click); the token is the credential
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mail's link shows a confirmation page (a GET changes nothing: mail scanners and
    previews open links); its button POSTs, as the mail program's one-click unsubscribe does
    (RFC 8058, from the List-Unsubscribe header). "Every purpose" withdraws them all. In the
    client's language."""
    read = unsubscribe_read(token)
    client = Client.objects.filter(pk=read[0]).first() if read else None
    if client is None:
        return render(request, "campaigns/public_invalid.html", status=404)
    client_id, purpose, campaign_id = read
    with translation.override(client_language(client)):
        if request.method != "POST":
            response = render(request, "campaigns/unsubscribe_confirm.html", {"purpose": Purpose(purpose).label})
        else:
            one_click = request.POST.get("List-Unsubscribe") == ONE_CLICK
            address = client_ip(request) or "?"
            evidence = (_("One-click unsubscribe from the mail program, from %(address)s") if one_click
                        else _("Unsubscribe link, from %(address)s")) % {"address": address}
            everything = bool(request.POST.get("everything"))
            purposes = Purpose.values if everything else [purpose]
            for each in purposes:
                unsubscribe(client=client, purpose=each, campaign_id=campaign_id, evidence=evidence)
            response = render(request, "campaigns/unsubscribed.html", {
                "purposes": [Purpose(each).label for each in purposes], "everything": everything,
            })
    response["Content-Language"] = client_language(client)
    response["X-Robots-Tag"] = "noindex"
    return response


@login_not_required
@rate_limited("survey", per_address="RATE_LIMIT_PUBLIC_ADDRESS", per_link="RATE_LIMIT_PUBLIC_LINK")
def survey_view(request: HttpRequest, token: str) -> HttpResponse:
    """The NPS question in the client's language; answered once."""
    recipient_id = survey_read(token)
    recipient = (
        Recipient.objects.select_related("client", "campaign").filter(pk=recipient_id, campaign__goal=Campaign.Goal.SURVEY).first()
        if recipient_id else None
    )
    if recipient is None:
        return render(request, "campaigns/public_invalid.html", status=404)
    client = recipient.client
    with translation.override(client_language(client)):
        answered = SurveyAnswer.objects.filter(recipient=recipient).exists()
        form = SurveyForm(request.POST or None, ask_leave_reason=client.status == Status.LOST)
        if request.method == "POST" and not answered and form.is_valid():
            try:
                survey_answer_record(
                    recipient=recipient, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"],
                    leave_reason=form.cleaned_data.get("leave_reason", ""),
                )
            except AlreadyAnswered:
                pass
            answered = True
        response = render(request, "campaigns/survey.html", {
            "form": form, "answered": answered, "client": client, "campaign": recipient.campaign,
        })
    response["Content-Language"] = client_language(client)
    return response
