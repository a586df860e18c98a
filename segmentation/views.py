from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.models import Client, Status


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
