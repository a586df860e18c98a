import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# When the session's expiry was last pushed forward (epoch seconds), kept in the session itself.
SESSION_REFRESHED_KEY = "_cartera_refreshed_at"


def session_mark_fresh(*, request: HttpRequest) -> None:
    request.session[SESSION_REFRESHED_KEY] = int(time.time())


class IdleSessionMiddleware:
    """Ends sessions left idle for SESSION_COOKIE_AGE: each request pushes the expiry forward.

    Django's SESSION_SAVE_EVERY_REQUEST would write the session on every request (a write lock
    per page and per htmx poll on SQLite); this writes it at most once per
    SESSION_REFRESH_SECONDS, so a session ends between that long before SESSION_COOKIE_AGE and
    SESSION_COOKIE_AGE after the last request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Without a session cookie there is nothing to keep alive (and no session to load).
        if request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            session = request.session
            refreshed = session.get(SESSION_REFRESHED_KEY, 0)
            # An expired or unknown session loads empty: leave it so, rather than create one.
            if session.keys() and time.time() - refreshed >= settings.SESSION_REFRESH_SECONDS:
                session_mark_fresh(request=request)  # modified: SessionMiddleware saves it with a new expiry
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY, a header Django 5.2 has no setting for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
