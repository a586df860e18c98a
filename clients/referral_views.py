"""Referrals: the clients offered as one types a referrer, and the best referrers page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.models import Client
from clients.referrals import ORDERS, best_referrers

OPTIONS_LIMIT = 15  # clients offered at once while typing


def client_options(request: HttpRequest) -> HttpResponse:
    """The clients the user may see matching what is typed, as <option>s of a <datalist> (the
    client form's "referred by"); a client being edited is left out by the form itself."""
    text = request.GET.get("q", "")[:100].strip()
    clients = []
    if len(text) >= 2:
        clients = list(Client.objects.visible_to(request.user).search(text).only(
            "first_name", "last_name", "company_name", "city",
        )[:OPTIONS_LIMIT])
    return render(request, "clients/partials/client_options.html", {"clients": clients})


def referrer_list(request: HttpRequest) -> HttpResponse:
    """The best referrers among the clients the user may see (everyone sees their own portfolio's)."""
    order = request.GET.get("order", "clients")
    if order not in ORDERS:
        order = "clients"
    rows = best_referrers(user=request.user, order=order)
    return render(request, "clients/referrers.html", {"rows": rows, "order": order})
