from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from clients.models import Client


def visible_client(request: HttpRequest, pk: int) -> Client:
    """Another portfolio's client is a 404, never a 403 and never a 200."""
    return get_object_or_404(Client.objects.visible_to(request.user).select_related("owner"), pk=pk)
