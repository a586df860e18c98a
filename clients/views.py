import datetime as dt
from decimal import Decimal
from itertools import chain

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, UpdateView
from django_filters.views import FilterView
from django_tables2 import LazyPaginator, SingleTableMixin

from accounts.selectors import salespeople_visible_to
from clients import services
from clients.filters import ClientFilter
from clients.forms import ClientForm, FollowUpForm, InteractionForm, PurchaseEditForm, PurchaseForm, ReassignForm
from clients.models import Alert, Client, FollowUp
from clients.tables import ClientTable
from segmentation.services import alert_refresh_client, lifecycle_refresh_client

TIMELINE_ITEMS = 30  # per kind of record: the page stays a constant number of queries


def visible_client(request: HttpRequest, pk: int) -> Client:
    """Another portfolio's client is a 404, never a 403 and never a 200."""
    return get_object_or_404(Client.objects.visible_to(request.user).select_related("owner"), pk=pk)


class ClientListView(SingleTableMixin, FilterView):
    filterset_class = ClientFilter
    table_class = ClientTable
    # LazyPaginator never counts the whole filtered table: page 1 stays fast at 1M clients.
    table_pagination = {"paginator_class": LazyPaginator, "per_page": 25}
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

    def form_valid(self, form):
        self.object = services.client_create(
            owner=self.request.user, instance=form.save(commit=False), interests=form.cleaned_data["interests"]
        )
        messages.success(self.request, _("Client created."))
        return redirect(self.object)


class ClientUpdateView(UpdateView):
    model = Client
    form_class = ClientForm
    template_name = "clients/client_form.html"

    def get_queryset(self):
        return Client.objects.visible_to(self.request.user)

    def form_valid(self, form):
        response = super().form_valid(form)
        lifecycle_refresh_client(self.object.pk)  # a closure changes the status at once
        messages.success(self.request, _("Client saved."))
        return response


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
        "contracts": list(client.contracts.all()),
        "interests": list(client.interests.all()),
    }
    return render(request, "clients/client_detail.html", context)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def purchase_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    form = PurchaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lines = []
        if data["product"]:
            quantity = data["quantity"] or Decimal("1")
            unit_price = data["amount"] / quantity if data["amount"] is not None else data["product"].price
            lines = [services.LineData(product=data["product"], quantity=quantity, unit_price=unit_price.quantize(Decimal("0.01")))]
        with transaction.atomic():
            services.purchase_record(
                client=client, user=request.user, date=data["date"], amount=data["amount"], lines=lines,
                currency=data["currency"], payment_method=data["payment_method"], channel=data["channel"],
                notes=data["notes"],
            )
            lifecycle_refresh_client(client.pk)
        messages.success(request, _("Purchase recorded."))
        return redirect(client)
    return render(request, "clients/purchase_form.html", {"client": client, "form": form})


def purchase_edit(request: HttpRequest, pk: int, purchase_pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    purchase = get_object_or_404(client.purchases.prefetch_related("lines__product"), pk=purchase_pk)
    form = PurchaseEditForm(request.POST or None, instance=purchase)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.purchase_update(purchase=purchase, **form.cleaned_data)
            lifecycle_refresh_client(client.pk)
        messages.success(request, _("Purchase corrected."))
        return redirect(client)
    return render(request, "clients/purchase_form.html", {"client": client, "form": form, "purchase": purchase})


@require_POST
def purchase_delete(request: HttpRequest, pk: int, purchase_pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    purchase = get_object_or_404(client.purchases, pk=purchase_pk)
    with transaction.atomic():
        services.purchase_delete(purchase=purchase)
        lifecycle_refresh_client(client.pk)
    messages.success(request, _("Purchase deleted."))
    return redirect(client)


def interaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    closes = None
    if followup_id := request.GET.get("followup") or request.POST.get("followup"):
        closes = get_object_or_404(client.followups.filter(status=FollowUp.State.PENDING), pk=followup_id)
    form = InteractionForm(request.POST or None, initial={"kind": closes.kind if closes else "call"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.interaction_record(
                    client=client, user=request.user, interaction=form.instance, closes=closes,
                    next_kind=data["next_kind"], next_due_at=form.next_due_at, next_notes=data["next_notes"],
                )
                alert_refresh_client(client.pk)
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
        with transaction.atomic():
            services.followup_schedule(
                client=client, user=request.user, kind=form.cleaned_data["kind"], due_at=form.due_at,
                notes=form.cleaned_data["notes"],
            )
            alert_refresh_client(client.pk)
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
        moved = services.clients_reassign(
            actor=request.user, client_ids=[c.pk for c in form.cleaned_data["clients"]],
            new_owner=form.cleaned_data["new_owner"],
        )
        text = ngettext("%(count)d client reassigned to %(owner)s.", "%(count)d clients reassigned to %(owner)s.", moved)
        messages.success(request, text % {"count": moved, "owner": form.cleaned_data["new_owner"]})
    else:
        messages.error(request, _("Nothing was reassigned: choose the clients and a salesperson."))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("clients:client_list")
    return redirect(next_url)


def agenda(request: HttpRequest) -> HttpResponse:
    """The salesperson's pending follow-ups: overdue first, then today, then the next 7 days.

    A gerente (or administrador) opens a team member's agenda with ?user=<id>; anyone else's is a 404.
    """
    people = salespeople_visible_to(request.user)
    person = request.user
    if request.GET.get("user", "").isdigit():
        person = get_object_or_404(people, pk=request.GET["user"])
    now = timezone.localtime()
    today_end = now.replace(hour=23, minute=59, second=59)
    week_end = today_end + dt.timedelta(days=7)
    pending = list(
        FollowUp.objects.filter(assigned_to=person, status=FollowUp.State.PENDING, due_at__lte=week_end)
        .select_related("client")
        .order_by("due_at", "id")[:500]
    )
    def red_first(followups: list[FollowUp]) -> list[FollowUp]:
        # Stable sort: within each colour the follow-ups keep their due order.
        return sorted(followups, key=lambda f: f.client.alert != Alert.RED)

    context = {
        "overdue": red_first([f for f in pending if f.due_at < now]),
        "today": red_first([f for f in pending if now <= f.due_at <= today_end]),
        "upcoming": red_first([f for f in pending if f.due_at > today_end]),
        "person": person,
        "people": people if request.user.can_manage_portfolios else None,
    }
    return render(request, "clients/agenda.html", context)
