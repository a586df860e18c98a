"""Quick contact: "log a call" in one step from the client list and the client page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from clients.models import Client, FollowUp
from clients.quick_forms import QuickCallForm, followup_due_by_today
from clients.selectors import visible_client
from segmentation import records

# Where the form was opened: the list swaps the row's colour in place, the client page reloads.
ON_LIST, ON_PAGE = "list", "page"


def quick_call(request: HttpRequest, pk: int) -> HttpResponse:
    """GET gives the form (in the list's or the page's dialog with htmx, else a page of its own);
    POST records the call, completes the follow-up due if ticked and books the call-back, all or
    nothing (records.interaction_record)."""
    client = visible_client(request, pk)
    on = ON_LIST if request.GET.get("on") == ON_LIST else ON_PAGE
    offered = _offered(client, request)
    form = QuickCallForm(request.POST if request.method == "POST" else None, client=client, offered=offered)
    if request.method == "POST" and form.is_valid():
        try:
            interaction, next_followup = records.interaction_record(
                client=client, by=request.user, interaction=form.instance, closes=form.closes,
                next_due_at=form.call_back_due_at,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _recorded(request, client, on, interaction, next_followup, completed=form.closes)
    context = {"client": client, "form": form, "on": on, "inline": bool(request.htmx)}
    template = "clients/partials/quick_call_form.html" if request.htmx else "clients/quick_call.html"
    return render(request, template, context)


def _offered(client: Client, request: HttpRequest) -> FollowUp | None:
    """The follow-up the form offers to complete: the one due now; after a POST, the one posted
    back while it is still pending (a refused second completion no longer offers it)."""
    if request.method != "POST":
        return followup_due_by_today(client)
    posted = request.POST.get("followup", "")
    if not posted.isdecimal() or len(posted) > 18:
        return None
    return client.followups.filter(pk=posted, status=FollowUp.State.PENDING).select_related("assigned_to").first()


def _recorded(request, client, on, interaction, next_followup, *, completed) -> HttpResponse:
    if request.htmx and on == ON_LIST:
        client.refresh_from_db(fields=["alert", "alert_reason", "alert_value"])
        context = {"client": client, "interaction": interaction, "next_followup": next_followup, "completed": completed}
        return render(request, "clients/partials/quick_call_done.html", context)
    messages.success(request, _("Call recorded."))
    if request.htmx:  # the client page: its colour, next steps and timeline all change
        return HttpResponse(headers={"HX-Redirect": reverse("clients:client_detail", args=[client.pk])})
    return redirect(client)
