"""A merged client's address leads to the client it was merged into (segmentation/merge.py)."""

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse

from clients.models import Client


class MergedClientRedirectMiddleware:
    """Turns the 404 of a merged client's page, or of one of its sub-pages, into a redirect to the
    same page of the survivor — for a user who can see the survivor; for anyone else it stays a
    404 that reveals nothing. Only on GET, and only after the view answered 404, so that no other
    request pays a query for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        match = request.resolver_match
        if not isinstance(exception, Http404) or request.method not in ("GET", "HEAD") or match is None:
            return None
        if match.namespace != "clients" or match.url_name == "client_merge" or not match.route.startswith("clients/<int:pk>/"):
            return None
        survivor_id = _survivor_of(match.kwargs["pk"])
        if survivor_id is None or not Client.objects.visible_to(request.user).filter(pk=survivor_id).exists():
            return None
        url = reverse(match.view_name, kwargs={**match.kwargs, "pk": survivor_id})
        query = request.META.get("QUERY_STRING", "")
        return HttpResponseRedirect(f"{url}?{query}" if query else url)


def _survivor_of(pk: int) -> int | None:
    """One hop: a merge re-points the clients merged into the absorbed one at the survivor."""
    return Client.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()
