"""Moving a follow-up from wherever it is shown: the agenda list, the week and month calendars and
the client page. Each action works in place with htmx (the follow-up's entry is re-rendered with a
confirmation) and as a plain page without it.

Anyone who can see the client may act (the follow-up is fetched through the access rule: another
portfolio's is a 404); the services in segmentation/records.py refuse a follow-up that is no
longer pending, and the view shows why.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from clients import agenda
from clients.followup_forms import CancelForm, HandOverForm, NoteForm, RescheduleForm
from clients.models import FollowUp
from segmentation import records

PLACES = ("list", "calendar", "client")  # where the follow-up is shown: how its entry is drawn


def _place(request: HttpRequest) -> str:
    place = request.POST.get("in") or request.GET.get("in", "")
    return place if place in PLACES else "list"


def _followup(request: HttpRequest, pk: int) -> FollowUp:
    return get_object_or_404(FollowUp.objects.visible_to(request.user).select_related("client", "assigned_to"), pk=pk)


def _when(followup: FollowUp) -> str:
    return formats.date_format(timezone.localtime(followup.due_at), "SHORT_DATETIME_FORMAT")


def _after(request: HttpRequest, followup: FollowUp, *, message: str = "", error: str = "", counts_for=None):
    """The follow-up's entry again (htmx), or back to where it was shown with a message."""
    place = _place(request)
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or message)
        if place == "client":
            return redirect(followup.client)
        if place == "calendar":  # the week where it now is
            return redirect(f"{reverse('clients:agenda')}?view=week&date={timezone.localdate(followup.due_at)}")
        return redirect("clients:agenda")
    # As stored now, with the client's new colour.
    fresh = FollowUp.objects.select_related("client", "assigned_to").get(pk=followup.pk)
    context = {"followup": fresh, "place": place, "message": message, "error": error}
    if place == "list" and counts_for is not None:
        context["counts"] = agenda.agenda_counts(counts_for, timezone.now())  # the header's badges follow
    return render(request, "clients/partials/agenda_entry.html", context)


def _act(
    request: HttpRequest, followup: FollowUp, form: Form, *, title: str, apply: Callable[[dict], FollowUp],
    done: Callable[[FollowUp], str],
) -> HttpResponse:
    """GET: the form; POST: validate, call the service, show the entry with `done`'s message."""
    if followup.status != FollowUp.State.PENDING:
        return _after(request, followup, error=_("This follow-up is no longer pending."))
    if request.method == "POST" and form.is_valid():
        try:
            changed = apply(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _after(request, changed, message=done(changed), counts_for=followup.assigned_to_id)
    context = {"followup": followup, "form": form, "title": title, "place": _place(request)}
    template = "clients/partials/agenda_action_form.html" if request.htmx else "clients/followup_action.html"
    return render(request, template, context)


def _prefix(followup: FollowUp) -> str:
    return f"followup-{followup.pk}"  # one page lists many follow-ups: their fields' ids differ


@require_safe
def followup_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """The follow-up's entry as listed (htmx: closing a form without saving)."""
    followup = _followup(request, pk)
    if not request.htmx:
        return redirect(followup.client)
    return render(request, "clients/partials/agenda_entry.html", {"followup": followup, "place": _place(request)})


def followup_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _followup(request, pk)
    form = RescheduleForm(request.POST or None, followup=followup, prefix=_prefix(followup))
    return _act(
        request, followup, form, title=_("Reschedule"),
        apply=lambda data: records.followup_reschedule(
            followup=followup, by=request.user, due_at=form.due_at, reason=data["reason"]
        ),
        done=lambda changed: _("Moved to %(due)s.") % {"due": _when(changed)},
    )


@require_POST
def followup_postpone(request: HttpRequest, pk: int, to: str) -> HttpResponse:
    """Tomorrow or next Monday, at the same time of day, in one click."""
    if to not in records.Postpone.ALL:
        raise Http404("Unknown postponement")
    followup = _followup(request, pk)
    try:
        changed = records.followup_postpone(followup=followup, by=request.user, to=to)
    except ValidationError as error:
        return _after(request, followup, error=" ".join(error.messages))
    return _after(
        request, changed, message=_("Moved to %(due)s.") % {"due": _when(changed)}, counts_for=followup.assigned_to_id
    )


def followup_hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _followup(request, pk)
    candidates = records.followup_handover_candidates(client=followup.client, by=request.user).exclude(
        pk=followup.assigned_to_id
    )
    form = HandOverForm(request.POST or None, candidates=candidates, prefix=_prefix(followup))
    return _act(
        request, followup, form, title=_("Hand over"),
        apply=lambda data: records.followup_hand_over(followup=followup, by=request.user, to=data["to"]),
        done=lambda changed: _("Handed over to %(name)s.") % {"name": changed.assigned_to},
    )


def followup_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _followup(request, pk)
    form = CancelForm(request.POST or None, prefix=_prefix(followup))
    return _act(
        request, followup, form, title=_("Cancel the follow-up"),
        apply=lambda data: records.followup_cancel(followup=followup, by=request.user, reason=data["reason"]),
        done=lambda _changed: _("Follow-up cancelled."),
    )


def followup_note(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _followup(request, pk)
    form = NoteForm(request.POST or None, initial={"notes": followup.notes}, prefix=_prefix(followup))
    return _act(
        request, followup, form, title=_("Edit the note"),
        apply=lambda data: records.followup_note_update(followup=followup, by=request.user, notes=data["notes"]),
        done=lambda _changed: _("Note saved."),
    )
