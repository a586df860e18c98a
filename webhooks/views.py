"""Administración → Webhooks: the administrador's endpoints, their recent deliveries and a test event."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from webhooks import services
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, Endpoint

RECENT = 50  # deliveries listed


def _administrador_only(request: HttpRequest) -> None:
    if not request.user.is_administrador:
        raise PermissionDenied


def endpoint_list(request: HttpRequest) -> HttpResponse:
    """The endpoints, the form that adds one, and the latest deliveries to any of them."""
    _administrador_only(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = services.endpoint_create(by=request.user, **form.cleaned_data)
        messages.success(request, _("Endpoint added. Its signing secret is below: give it to the receiving system."))
        return redirect("webhooks:endpoint_edit", endpoint.pk)
    context = {
        "form": form,
        "endpoints": list(Endpoint.objects.all()),
        "deliveries": list(Delivery.objects.select_related("endpoint")[:RECENT]),
    }
    return render(request, "webhooks/endpoint_list.html", context)


def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One endpoint: its settings and secret, its actions and its latest deliveries."""
    _administrador_only(request)
    endpoint = get_object_or_404(Endpoint, pk=pk)
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        services.endpoint_update(endpoint=endpoint, **form.cleaned_data)
        messages.success(request, _("Endpoint saved."))
        return redirect("webhooks:endpoint_edit", endpoint.pk)
    deliveries = list(endpoint.deliveries.all()[:RECENT])
    for delivery in deliveries:
        delivery.endpoint = endpoint
    return render(request, "webhooks/endpoint_edit.html", {"form": form, "endpoint": endpoint, "deliveries": deliveries})


def _endpoint_for_action(request: HttpRequest, pk: int) -> Endpoint:
    _administrador_only(request)
    return get_object_or_404(Endpoint, pk=pk)


@require_POST
def endpoint_pause(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for_action(request, pk)
    if services.endpoint_pause(endpoint=endpoint):
        messages.success(request, _("Endpoint paused: it receives no new events until it is resumed."))
    return redirect("webhooks:endpoint_edit", endpoint.pk)


@require_POST
def endpoint_resume(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for_action(request, pk)
    if services.endpoint_resume(endpoint=endpoint):
        messages.success(request, _("Endpoint resumed: the deliveries that waited are sent now."))
    return redirect("webhooks:endpoint_edit", endpoint.pk)


@require_POST
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for_action(request, pk)
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, _("Endpoint deleted with its deliveries."))
    return redirect("webhooks:endpoint_list")


@require_POST
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint_for_action(request, pk)
    services.endpoint_test_send(endpoint=endpoint, by=request.user)
    messages.success(request, _("Test event sent: its answer is in the deliveries below."))
    return redirect("webhooks:endpoint_edit", endpoint.pk)
