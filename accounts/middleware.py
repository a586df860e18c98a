import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.two_factor import GATE_CODE, GATE_KEY

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


class TwoFactorMiddleware:
    """Holds a session to what its login left undone (accounts/two_factor.py): an administrador
    without an authenticator reaches only its set-up (and logging out); a login that skipped the
    code of a user who has one is ended and sent to the login page, which asks for it.

    Reads the session only: pages pay no query for two-factor login.
    """

    ALLOWED_WHILE_SETTING_UP = {"two_factor_setup", "logout", "set_language"}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            return None
        gate = request.session.get(GATE_KEY)
        if gate is None or not getattr(view_func, "login_required", True):
            return None  # public pages are open to anyone anyway
        if gate == GATE_CODE:
            logout(request)
            return redirect_to_login(request.get_full_path())
        if request.resolver_match.url_name in self.ALLOWED_WHILE_SETTING_UP:
            return None
        return redirect("two_factor_setup")
