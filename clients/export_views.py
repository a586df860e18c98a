"""Downloads of the client list: the same filters, search, order and access rule as the page.

A list longer than EXPORT_BACKGROUND_ROWS is offered as a background export (exports app).
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clients.filters import list_ordering  # noqa: F401  (its home was here)
from core.routers import replica_view
from exports.models import ExportJob
from exports.services import ExportRefused, export_queryset
from exports.views import export_or_offer

EXPORT_FORMATS = {"csv", "xlsx"}


@require_GET
@replica_view
def client_list_export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404("Unknown export format")
    params = {"query": request.GET.urlencode()}
    try:
        queryset = export_queryset(user=request.user, kind=ExportJob.Kind.CLIENTS, params=params)
    except ExportRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(f"{reverse('clients:client_list')}?{request.GET.urlencode()}")
    return export_or_offer(request, queryset=queryset, kind=ExportJob.Kind.CLIENTS, fmt=fmt, params=params, name=_("clients"))
