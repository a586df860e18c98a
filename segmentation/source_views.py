"""Where altas come from, and what they become (segmentation/sources.py)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats

from clients.models import Client
from core.routers import replica_view
from segmentation.services import current_thresholds
from segmentation.sources import HORIZONS, sources_report


@replica_view
def source_report(request: HttpRequest) -> HttpResponse:
    """The altas per source and month and what each source's cohort became, over the clients the
    user may see: a comercial their portfolio, a gerente their team's, an administrador all."""
    thresholds = current_thresholds()
    report = sources_report(
        visible=Client.objects.visible_to(request.user), dormant_after_days=thresholds.dormido_after_days,
    )
    months = report.months[::-1]  # the oldest first, left to right
    chart_data = {
        "labels": [formats.date_format(month, "YEAR_MONTH_FORMAT") for month in months],
        "series": [
            {"label": label, "values": [report.altas.get(month, {}).get(code, 0) for month in months]}
            for code, label in report.sources
        ],
    }
    context = {
        "report": report, "horizons": [months for months, _days in HORIZONS], "thresholds": thresholds,
        "chart_data": chart_data,
    }
    return render(request, "segmentation/sources.html", context)
