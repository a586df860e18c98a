"""The administrador's privacy page for a client: export everything held about them, or erase them."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.exports import attachment
from clients.models import Client
from privacy.services import client_erase, client_export


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
        client_erase(by=request.user, client=client)
        messages.success(request, _("The client's personal data was erased; the sales stay in the figures."))
        return redirect("clients:client_list")
    return render(request, "privacy/client_privacy.html", {"client": client, "form": form})


def client_privacy_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    client = _for_administrador(request, pk)
    if fmt not in ("json", "csv"):
        raise Http404("Unknown export format")
    content, content_type = client_export(by=request.user, client=client, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = attachment(f"client-{client.pk}", fmt)
    return response
