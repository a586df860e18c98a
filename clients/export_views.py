"""Downloads of the client list: the same filters, search, order and access rule as the page."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clients.exports import export_response
from clients.filters import ClientFilter
from clients.models import Client
from clients.tables import ClientTable

EXPORT_FORMATS = {"csv", "xlsx"}
NAME_ORDER = ("sort_name", "id")


@require_GET
def client_list_export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404("Unknown export format")
    queryset = Client.objects.visible_to(request.user).select_related("owner")
    filterset = ClientFilter(request.GET, queryset=queryset, user=request.user)
    if not filterset.is_valid():
        messages.error(request, _("The filters are not valid, so nothing was exported. Correct them and try again."))
        return redirect(f"{reverse('clients:client_list')}?{request.GET.urlencode()}")
    ordered = filterset.qs.order_by(*list_ordering(request.GET.get("sort", "")))
    return export_response(ordered, fmt, _("clients"))


def list_ordering(sort: str) -> tuple[str, ...]:
    """The list table's order for its `sort` parameter (e.g. "-spend_12m"); by name otherwise."""
    column = ClientTable.base_columns.get(sort.removeprefix("-"))
    fields = tuple(column.order_by) if column is not None and column.order_by else NAME_ORDER
    if sort.startswith("-"):
        return tuple(field.removeprefix("-") if field.startswith("-") else f"-{field}" for field in fields)
    return fields
