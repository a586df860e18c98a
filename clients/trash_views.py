"""The trash: delete (move a client there), list what the user may restore, restore."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.models import TRASH_DAYS, Client
from clients.selectors import visible_client
from segmentation.records import client_restore, client_trash


@require_POST
def client_delete(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    client_trash(by=request.user, client=client)
    messages.success(request, _("“%(client)s” is in the trash: it can be restored for %(days)d days.") % {
        "client": client, "days": TRASH_DAYS})
    return redirect("clients:client_trash")


def trash_list(request: HttpRequest) -> HttpResponse:
    clients = list(
        Client.objects.in_trash_visible_to(request.user).select_related("owner", "deleted_by").order_by("-deleted_at")[:200]
    )
    return render(request, "clients/trash.html", {"clients": clients, "days": TRASH_DAYS})


@require_POST
def client_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client.objects.in_trash_visible_to(request.user), pk=pk)
    client_restore(by=request.user, client=client)
    messages.success(request, _("“%(client)s” is back in the portfolio.") % {"client": client})
    return redirect(client)
