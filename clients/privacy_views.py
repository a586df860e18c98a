"""Trash (delete, list, restore) and the administrador's privacy page (export, erase)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from clients.exports import attachment
from clients.models import Client
from clients.privacy import TRASH_DAYS, client_erase, client_export, client_restore, client_trash, trash_expires
from clients.views import visible_client


@require_POST
def client_delete(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    client_trash(client=client, user=request.user)
    messages.success(request, _("“%(client)s” is in the trash: it can be restored for %(days)d days.") % {
        "client": client, "days": TRASH_DAYS})
    return redirect("clients:client_trash")


def trash_list(request: HttpRequest) -> HttpResponse:
    clients = list(
        Client.objects.in_trash_visible_to(request.user).select_related("owner", "deleted_by").order_by("-deleted_at")[:200]
    )
    for client in clients:
        client.expires = trash_expires(client)
    return render(request, "clients/trash.html", {"clients": clients, "days": TRASH_DAYS})


@require_POST
def client_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client.objects.in_trash_visible_to(request.user), pk=pk)
    client_restore(client=client, user=request.user)
    messages.success(request, _("“%(client)s” is back in the portfolio.") % {"client": client})
    return redirect(client)


def _for_administrador(request: HttpRequest, pk: int) -> Client:
    """Privacy rights are the administrador's: anyone else is refused (the client may be in the trash)."""
    if not request.user.is_administrador:
        raise PermissionDenied
    return get_object_or_404(Client.objects.filter(erased_at__isnull=True), pk=pk)


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that the erasure cannot be undone"),
        error_messages={"required": gettext_lazy("Tick the box to confirm the erasure.")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


def client_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    client = _for_administrador(request, pk)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        client_erase(client=client, user=request.user)
        messages.success(request, _("The client's personal data was erased; the sales stay in the figures."))
        return redirect("clients:client_list")
    return render(request, "clients/privacy.html", {"client": client, "form": form})


def client_privacy_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    client = _for_administrador(request, pk)
    if fmt not in ("json", "csv"):
        raise Http404("Unknown export format")
    content, content_type = client_export(client=client, user=request.user, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = attachment(f"client-{client.pk}", fmt)
    return response
