from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from clients.models import Client, Status
from segmentation.forms import LifecycleSettingsForm
from segmentation.models import LifecycleSettings
from segmentation.services import lifecycle_settings_preview, lifecycle_settings_update


def _status_rows(request: HttpRequest) -> list[dict]:
    """Clients and 12-month revenue per lifecycle status within the user's portfolio scope."""
    totals = {
        row["status"]: row
        for row in Client.objects.visible_to(request.user)
        .values("status")
        .annotate(clients=Count("id"), revenue=Sum("spend_12m"))
        .order_by()
    }
    return [
        {
            "code": code,
            "label": label,
            "clients": totals.get(code, {}).get("clients", 0),
            "revenue": totals.get(code, {}).get("revenue") or 0,
        }
        for code, label in Status.choices
    ]


def segment_list(request: HttpRequest) -> HttpResponse:
    """The lifecycle segments every portfolio has; saved segments join them later."""
    return render(request, "segmentation/segment_list.html", {"rows": _status_rows(request)})


def dashboard(request: HttpRequest) -> HttpResponse:
    rows = _status_rows(request)
    return render(
        request,
        "segmentation/dashboard.html",
        {"rows": rows, "total_clients": sum(r["clients"] for r in rows), "total_revenue": sum(r["revenue"] for r in rows)},
    )


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
