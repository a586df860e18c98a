"""Why clients leave: the bajas per reason and month with the revenue lost (segmentation/leaving.py)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clients.models import Client
from core.routers import replica_view
from segmentation.leaving import LOST_YEAR_DAYS, alert_text, leaving_report, reason_alert
from segmentation.services import current_thresholds


@replica_view
def leaving_reasons(request: HttpRequest) -> HttpResponse:
    """Gerentes and administradores: the bajas of the clients they may see (a gerente's team, all
    for an administrador) who left in the last twelve months and are still gone, per reason and
    month, and this month's alert when one reason passes the administrador's threshold."""
    if not (request.user.is_gerente or request.user.is_administrador):
        raise PermissionDenied
    today = timezone.localdate()
    thresholds = current_thresholds()
    report = leaving_report(clients=Client.objects.visible_to(request.user), today=today)
    this_month = report.months[-1]
    counts = {code: report.cell(this_month, code).clients for code, _label in report.reasons}
    alert = reason_alert(counts=counts, share=thresholds.leave_alert_share, minimum=thresholds.leave_alert_minimum)
    context = {
        "report": report, "rows": report.rows(), "columns": report.columns(), "total": report.total,
        "alert": alert, "alert_text": alert_text(alert) if alert else "", "thresholds": thresholds,
        "window_days": LOST_YEAR_DAYS,
    }
    return render(request, "segmentation/leaving.html", context)
