"""The private calendar feed and the buttons that create, rotate and revoke its link."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from clients.calendar import calendar_token_revoke, calendar_token_rotate, followups_ics
from clients.models import FollowUp
from core.ratelimit import rate_limited

FEED_PAST = dt.timedelta(days=30)
FEED_FUTURE = dt.timedelta(days=180)
FEED_LIMIT = 1000


@login_not_required  # calendar apps fetch it without a session: the token is the credential
@rate_limited("calendar", per_address="RATE_LIMIT_CALENDAR_ADDRESS", per_link="RATE_LIMIT_CALENDAR_LINK")
@require_safe  # GET and HEAD
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's follow-ups from 30 days ago to 180 days ahead, whatever their status: a cancelled
    one stays as STATUS:CANCELLED with its new SEQUENCE, so that a phone removes its copy.

    Two queries: the user by token, the follow-ups with their clients.
    """
    user = get_user_model().objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404  # unknown, revoked or rotated: no hint which
    now = timezone.now()
    followups = (
        FollowUp.objects.filter(assigned_to=user, due_at__gte=now - FEED_PAST, due_at__lte=now + FEED_FUTURE)
        .select_related("client")
        .order_by("due_at", "id")[:FEED_LIMIT]
    )
    base_url = request.build_absolute_uri("/").rstrip("/")
    body = followups_ics(user, followups, now=now, base_url=base_url)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="cartera.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
def calendar_feed_manage(request: HttpRequest) -> HttpResponse:
    """action=rotate creates or replaces the logged-in user's link; action=revoke removes it."""
    action = request.POST.get("action")
    if action == "rotate":
        calendar_token_rotate(user=request.user)
        messages.success(request, _("A new private calendar link was created; the old one no longer works."))
    elif action == "revoke":
        calendar_token_revoke(user=request.user)
        messages.success(request, _("The calendar link was revoked."))
    else:
        messages.error(request, _("Unknown calendar link action."))
    return redirect("clients:agenda")
