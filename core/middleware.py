"""Reads right after a write stay on the primary (see core.routers)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.routers import pinned_to_primary

PIN_COOKIE = "cartera_primary"
PIN_SALT = "core.middleware.PrimaryPinMiddleware"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class PrimaryPinMiddleware:
    """Pins a browser to the primary for REPLICA_PIN_SECONDS after a write it made.

    A request that writes (an unsafe method) reads the primary itself, and its successful answer sets
    a signed, timestamped cookie; while the cookie is younger than REPLICA_PIN_SECONDS, every request
    of that browser reads the primary, so the page it is redirected to shows what it just saved even
    if the replica has not replayed it yet. A cookie rather than the session: it needs no session
    write, works before login, and a forged or stale one only costs its sender a replica read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        writes = request.method in UNSAFE_METHODS
        with pinned_to_primary(writes or self._recently_wrote(request)):
            response = self.get_response(request)
        if writes and response.status_code < 400:
            response.set_signed_cookie(
                PIN_COOKIE, "1", salt=PIN_SALT, max_age=settings.REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
            )
        return response

    @staticmethod
    def _recently_wrote(request: HttpRequest) -> bool:
        value = request.get_signed_cookie(PIN_COOKIE, default=None, salt=PIN_SALT, max_age=settings.REPLICA_PIN_SECONDS)
        return value is not None
