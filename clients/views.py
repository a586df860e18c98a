import datetime as dt
from itertools import chain

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from accounts.selectors import salespeople_visible_to
from campaigns.forms import consent_context
from clients import agenda as agenda_views
from clients.contract_views import contracts_context
from clients.duplicate_views import duplicate_warning
from clients.filters import ClientFilter
from clients.forms import (
    ClientForm,
    FollowUpCompleteForm,
    FollowUpForm,
    InteractionForm,
    ReassignForm,
)
from clients.history import history_rows
from clients.models import Client, FollowUp, portfolio_scope
from clients.referrals import referrals_of
from clients.selectors import visible_client
from clients.share_views import share_context
from clients.tables import PAGINATION, ClientTable
from core.routers import replica_view
from icp.views import client_fit_context
from segmentation import records

HISTORY_ITEMS = 30
TIMELINE_ITEMS = 30  # per kind of record: the page stays a constant number of queries


@method_decorator(replica_view, name="dispatch")  # may read the replica (core.routers)
class ClientListView(SingleTableMixin, FilterView):
    filterset_class = ClientFilter
    table_class = ClientTable
    # A LazyPaginator never counts the whole filtered table: page 1 stays fast at 1M clients.
    table_pagination = PAGINATION
    template_name = "clients/client_list.html"

    def get_queryset(self):
        return Client.objects.visible_to(self.request.user).select_related("owner")

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "user": self.request.user}

    def get_table_kwargs(self):
        return {"can_select": self.request.user.can_manage_portfolios}

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["clients/partials/client_table.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.can_manage_portfolios:
            context["salespeople"] = salespeople_visible_to(self.request.user)
        return context


class ClientCreateView(CreateView):
    model = Client
    form_class = ClientForm
    template_name = "clients/client_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        if warning := duplicate_warning(self.request, form):
            return self.render_to_response(self.get_context_data(form=form, **warning))
        self.object = records.client_create(
            by=self.request.user, data=_client_data(form), interests=form.cleaned_data["interests"]
        )
        messages.success(self.request, _("Client created."))
        return redirect(self.object)


def _client_data(form: ClientForm) -> dict:
    """The form's values of the client's own data (the interests go apart: a many-to-many)."""
    return {name: form.cleaned_data[name] for name in Client.DATA_FIELDS if name != "interests"}


class ClientUpdateView(UpdateView):
    model = Client
    form_class = ClientForm
    template_name = "clients/client_form.html"

    def get_queryset(self):
        return Client.objects.visible_to(self.request.user).select_related("referred_by")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        if warning := duplicate_warning(self.request, form, self.object):
            return self.render_to_response(self.get_context_data(form=form, **warning))
        try:
            self.object = records.client_update(
                by=self.request.user, client=self.object, data=_client_data(form),
                interests=form.cleaned_data["interests"], seen_version=form.cleaned_data["version"],
            )
        except records.EditConflict as conflict:
            return self._conflict(form, conflict)
        messages.success(self.request, _("Client saved."))
        return redirect(self.object)

    def _conflict(self, form, conflict: records.EditConflict) -> HttpResponse:
        """The second save is refused: the form keeps what this user typed, shows what the other
        person changed meanwhile, and a new save (now over the current version) is deliberate."""
        seen = form.cleaned_data["version"]
        entries = self.object.audit_entries.filter(subject="client", version__gt=seen).select_related("user")
        form.data = form.data.copy()
        form.data["version"] = conflict.current_version
        form.add_error(None, _(
            "Someone else saved this client while you were editing it: nothing of yours was saved. "
            "Their changes are listed below; check your form and save again to keep your version."
        ))
        return self.render_to_response(self.get_context_data(form=form, conflicts=history_rows(reversed(entries))))


def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    purchases = list(client.purchases.prefetch_related("lines__product")[:TIMELINE_ITEMS])
    interactions = list(client.interactions.select_related("user")[:TIMELINE_ITEMS])
    followups = list(client.followups.select_related("assigned_to").order_by("-due_at", "-id")[:TIMELINE_ITEMS])
    status_changes = list(client.status_changes.all()[:TIMELINE_ITEMS])
    timeline = sorted(
        chain(
            ({"kind": "purchase", "at": _day_start(p.date), "item": p} for p in purchases),
            ({"kind": "interaction", "at": i.happened_at, "item": i} for i in interactions),
            ({"kind": "followup", "at": f.due_at, "item": f} for f in followups),
            ({"kind": "status", "at": _day_start(s.date), "item": s} for s in status_changes),
        ),
        key=lambda entry: entry["at"],
        reverse=True,
    )
    context = {
        "client": client,
        "timeline": timeline,
        "pending_followups": [f for f in followups if f.status == FollowUp.State.PENDING],
        "interests": list(client.interests.all()),
        "recommendations": list(client.recommendations.select_related("product").order_by("kind", "rank")),
    }
    visible = Client.objects.visible_in(portfolio_scope(request.user))  # the access rule's terms, once
    context["referrals"] = referrals_of(client, visible=visible)
    if client.referred_by_id:  # named and linked only if the viewer may see it
        context["referrer"] = visible.filter(pk=client.referred_by_id).first()
    context.update(consent_context(client))
    context.update(contracts_context(request.user, client))
    context.update(share_context(request.user, client))
    context.update(client_fit_context(client))
    if request.user.is_gerente or request.user.is_administrador:  # the audit history is theirs to read
        context["history"] = history_rows(client.audit_entries.select_related("user")[:HISTORY_ITEMS])
    return render(request, "clients/client_detail.html", context)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def interaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    closes = None
    if followup_id := request.GET.get("followup") or request.POST.get("followup"):
        if not followup_id.isdecimal():
            raise Http404("Not a follow-up")  # get_object_or_404 raises ValueError on "x"
        closes = get_object_or_404(client.followups, pk=followup_id)
        if closes.status != FollowUp.State.PENDING and request.method != "POST":
            messages.error(request, _("This follow-up is no longer pending."))
            return redirect(client)  # a POST goes on: the service refuses it and the form says why
    form = InteractionForm(request.POST or None, initial={"kind": closes.kind if closes else "call"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            records.interaction_record(
                client=client, by=request.user, interaction=form.instance, closes=closes,
                next_kind=data["next_kind"], next_due_at=form.next_due_at, next_notes=data["next_notes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Interaction recorded."))
            return redirect(client)
    return render(request, "clients/interaction_form.html", {"client": client, "form": form, "closes": closes})


def followup_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        records.followup_schedule(
            client=client, by=request.user, kind=form.cleaned_data["kind"], due_at=form.due_at,
            notes=form.cleaned_data["notes"],
        )
        messages.success(request, _("Follow-up scheduled."))
        return redirect(client)
    return render(request, "clients/followup_form.html", {"client": client, "form": form})


@require_POST
def clients_reassign(request: HttpRequest) -> HttpResponse:
    if not request.user.can_manage_portfolios:
        raise PermissionDenied
    form = ReassignForm(
        request.POST, clients=Client.objects.visible_to(request.user), salespeople=salespeople_visible_to(request.user)
    )
    if form.is_valid():
        moved = records.client_reassign(
            by=request.user, client_ids=[c.pk for c in form.cleaned_data["clients"]],
            new_owner=form.cleaned_data["new_owner"],
        )
        text = ngettext("%(count)d client reassigned to %(owner)s.", "%(count)d clients reassigned to %(owner)s.", moved)
        messages.success(request, text % {"count": moved, "owner": form.cleaned_data["new_owner"]})
    else:
        messages.error(request, _("Nothing was reassigned: choose the clients and a salesperson."))
    next_url = request.POST.get("next", "")
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("clients:client_list")  # redirect() took "0" for a view name: a NoReverseMatch
    return HttpResponseRedirect(next_url)


def agenda(request: HttpRequest) -> HttpResponse:
    """The salesperson's follow-ups: a list (overdue, today, next 7 days; red first), or the week
    or month calendar (?view=week|month&date=YYYY-MM-DD).

    A gerente (or administrador) opens a team member's agenda with ?user=<id>; anyone else's is a 404.
    """
    people = salespeople_visible_to(request.user)
    person = request.user
    if request.GET.get("user", "").isdecimal():  # isdigit() lets "²" through, which int() refuses
        person = get_object_or_404(people, pk=request.GET["user"])
    view = request.GET.get("view", agenda_views.View.LIST)
    if view not in agenda_views.View.ALL:
        view = agenda_views.View.LIST
    today = timezone.localdate()
    context = {
        "view": view,
        "person": person,
        "people": people if request.user.can_manage_portfolios else None,
        "today": today,
        "view_choices": [
            (agenda_views.View.LIST, _("List")), (agenda_views.View.WEEK, _("Week")), (agenda_views.View.MONTH, _("Month")),
        ],
    }
    if view == agenda_views.View.LIST:
        context.update(agenda_views.agenda_lists(person, timezone.now()))
    else:
        try:
            anchor = dt.date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            anchor = today
        if not agenda_views.FIRST_ANCHOR <= anchor <= agenda_views.LAST_ANCHOR:
            anchor = today  # the calendar around 0001-01-01 or 9999-12-31 would leave the dates Python knows
        context["calendar"] = agenda_views.agenda_calendar(person, view, anchor, today)
        context["month_cell_items"] = agenda_views.MONTH_CELL_ITEMS
    return render(request, "clients/agenda.html", context)


def followup_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Completes a follow-up in place on the agenda (htmx): the outcome and the next step, one form.

    GET gives the form, POST records the interaction, closes the follow-up, schedules the next one
    and refreshes the client's colour, all or nothing; without htmx it falls back to the full page.
    """
    followup = get_object_or_404(FollowUp.objects.visible_to(request.user).select_related("client"), pk=pk)
    if followup.status != FollowUp.State.PENDING and request.htmx:  # a second click, another tab
        error = _("This follow-up is no longer pending.")
        return render(request, "clients/partials/agenda_entry.html", {"followup": followup, "error": error})
    if not request.htmx:
        url = reverse("clients:interaction_create", args=[followup.client_id])
        return redirect(f"{url}?followup={followup.pk}")
    form = FollowUpCompleteForm(request.POST or None, followup=followup, prefix=f"followup-{followup.pk}")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _interaction, next_followup = records.followup_complete(
                followup=followup, by=request.user, interaction=form.instance,
                next_kind=data["next_kind"], next_due_at=form.next_due_at, next_notes=data["next_notes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            followup.client.refresh_from_db(fields=["alert", "alert_reason", "alert_value"])
            context = {
                "followup": followup, "outcome": form.instance, "next_followup": next_followup,
                # The section counts in the agenda's header change too (swapped out of band).
                "counts": agenda_views.agenda_counts(followup.assigned_to_id, timezone.now()),
            }
            return render(request, "clients/partials/agenda_done.html", context)
    return render(request, "clients/partials/agenda_complete_form.html", {"followup": followup, "form": form})
