from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.models import Team
from campaigns.nps import dashboard_nps_add
from clients.models import Client, PortfolioScope, Status, portfolio_scope
from clients.tables import PAGINATION, ClientTable
from core.routers import replica_view
from exports.models import ExportJob
from exports.services import export_queryset
from exports.views import export_or_offer
from segmentation.dashboard import Cell, dashboard_build
from segmentation.forms import LifecycleSettingsForm
from segmentation.models import DailySnapshot, LifecycleSettings, NightlyRun, Segment
from segmentation.segments import (
    segment_clients,
    segment_create,
    segment_totals,
    segment_totals_nightly,
    shared_extra,
    snapshot_day,
)
from segmentation.services import lifecycle_settings_preview, lifecycle_settings_update


def _status_rows(scope: PortfolioScope | None, day) -> list[dict]:
    """Clients and 12-month revenue per lifecycle status within the user's portfolio scope, from
    the nightly snapshot of `day` (the statuses change at night), plus the clients shared with
    the user counted live."""
    totals = {code: Cell() for code in Status.values}
    if day is None:  # before the first night: counted live
        for status, clients, revenue in Client.objects.visible_in(scope).values_list("status").annotate(
            n=Count("pk"), r=Sum("spend_12m"),
        ).order_by():
            totals.setdefault(status, Cell()).add(clients, revenue or 0)
    elif scope is not None:
        snapshots = DailySnapshot.objects.filter(date=day)
        if scope.owners is not None:
            snapshots = snapshots.filter(owner_id__in=scope.owners)
        for status, clients, revenue in snapshots.values_list("status").annotate(
            n=Sum("clients"), r=Sum("spend_12m"),
        ).order_by():
            totals.setdefault(status, Cell()).add(clients, revenue or 0)
        if (extra := shared_extra(scope)) is not None:
            for status, clients, revenue in extra.values_list("status").annotate(n=Count("pk"), r=Sum("spend_12m")).order_by():
                totals.setdefault(status, Cell()).add(clients, revenue or 0)
    return [
        {"code": code, "label": label, "clients": totals[code].clients, "revenue": totals[code].revenue}
        for code, label in Status.choices
    ]


@replica_view
def segment_list(request: HttpRequest) -> HttpResponse:
    """Lifecycle segments, then the saved segments (own and shared), each with its figures as of
    the last nightly snapshot (a segment saved since is counted when it is saved)."""
    scope = portfolio_scope(request.user)
    day = snapshot_day()
    segments = list(Segment.objects.visible_to(request.user).select_related("owner"))
    totals, segments_day = segment_totals_nightly(user=request.user, segments=segments, scope=scope)
    saved = [{"segment": segment, "cell": totals[segment.pk]} for segment in segments]
    context = {"rows": _status_rows(scope, day), "saved": saved, "day": day, "segments_day": segments_day}
    return render(request, "segmentation/segment_list.html", context)


@require_POST
def segment_save(request: HttpRequest) -> HttpResponse:
    """"Save this filter as a segment" from the client list: its current querystring, under a name."""
    query = QueryDict(request.POST.get("query", ""))
    try:
        segment = segment_create(
            owner=request.user, name=request.POST.get("name", ""), shared=request.POST.get("shared") == "on", query=query,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(f"{reverse('clients:client_list')}?{query.urlencode()}")
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
    return redirect(segment)


@replica_view
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment's clients (those of the user's portfolio that match it), as in the list."""
    segment = get_object_or_404(Segment.objects.visible_to(request.user).select_related("owner"), pk=pk)
    visible = Client.objects.visible_to(request.user)  # the access rule's lookups, once
    clients = segment_clients(user=request.user, segment=segment, visible=visible).select_related("owner")
    table = ClientTable(clients, can_select=False)
    RequestConfig(request, paginate=PAGINATION).configure(table)
    cell = segment_totals(user=request.user, segments=[segment], visible=visible)[segment.pk]
    return render(request, "segmentation/segment_detail.html", {"segment": segment, "table": table, "cell": cell})


@replica_view
def segment_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The segment's clients as CSV or XLSX, in the user's language (formulas neutralised); a large
    segment is offered as a background export."""
    segment = get_object_or_404(Segment.objects.visible_to(request.user), pk=pk)
    if fmt not in ExportJob.Format.values:
        raise Http404("Unknown export format")
    params = {"segment": segment.pk}
    clients = export_queryset(user=request.user, kind=ExportJob.Kind.SEGMENT, params=params)
    return export_or_offer(
        request, queryset=clients, kind=ExportJob.Kind.SEGMENT, fmt=fmt, params=params,
        name=slugify(segment.name) or "segment",
    )


@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_object_or_404(Segment.objects.visible_to(request.user), pk=pk)
    if segment.owner_id != request.user.pk:
        raise PermissionDenied  # a shared segment is deleted by its owner only
    campaigns = segment.campaigns.count()
    if campaigns:  # the campaigns keep the segment they were sent to
        messages.error(request, ngettext(
            "This segment cannot be deleted: %(count)d campaign was sent to it.",
            "This segment cannot be deleted: %(count)d campaigns were sent to it.", campaigns,
        ) % {"count": campaigns})
        return redirect(segment)
    segment.delete()
    messages.success(request, _("Segment deleted."))
    return redirect("segmentation:segment_list")


def dashboard(request: HttpRequest) -> HttpResponse:
    """Scoped by role: a comercial's portfolio, a gerente's team, everyone (or ?team=) for an administrador."""
    team = None
    teams = []
    if request.user.is_administrador:
        teams = list(Team.objects.all())
        if request.GET.get("team", "").isdecimal():  # isdigit() lets "²" through, which int() refuses
            team = get_object_or_404(Team, pk=request.GET["team"])
    board = dashboard_build(user=request.user, team=team)
    dashboard_nps_add(board, user=request.user)  # campaigns' figures, in the board's scope
    chart_data = {
        "statuses": {"labels": [r.label for r in board.statuses], "clients": [r.cell.clients for r in board.statuses]},
        "trend": {
            "labels": [formats.date_format(point["date"], "YEAR_MONTH_FORMAT") for point in board.trend],
            "series": [
                {"label": str(label), "values": [point["statuses"][code] for point in board.trend]}
                for code, label in Status.choices
            ],
        },
        "people": {
            "labels": [str(entry["person"]) for entry in board.by_person],
            "series": [
                {"label": str(label), "values": [entry["statuses"][index].cell.clients for entry in board.by_person]}
                for index, (_code, label) in enumerate(Status.choices)
            ],
        },
    }
    context = {"board": board, "teams": teams, "team": team, "chart_data": chart_data}
    return render(request, "segmentation/dashboard.html", context)


def lifecycle_settings(request: HttpRequest) -> HttpResponse:
    """The administrador's thresholds: "Preview" shows their effect, "Save" applies them."""
    if not request.user.is_administrador:
        raise PermissionDenied
    form = LifecycleSettingsForm(request.POST or None, instance=LifecycleSettings.current())
    preview = None
    if request.method == "POST" and form.is_valid():
        if "save" in request.POST:
            lifecycle_settings_update(lifecycle_settings=form.instance)
            messages.success(request, _("Thresholds saved. Tonight's run applies them to every client."))
            return redirect("segmentation:lifecycle_settings")
        preview = lifecycle_settings_preview(proposed=form.instance.thresholds())
    return render(request, "segmentation/lifecycle_settings.html", {"form": form, "preview": preview})


RUNS_SHOWN = 30


def nightly_runs(request: HttpRequest) -> HttpResponse:
    """The administrador's view of the last nightly runs, step by step (segmentation.tasks)."""
    if not request.user.is_administrador:
        raise PermissionDenied
    runs = NightlyRun.objects.prefetch_related("steps")[:RUNS_SHOWN]
    return render(request, "segmentation/nightly_runs.html", {"runs": runs, "shown": RUNS_SHOWN})
