"""Reads right after a write stay on the primary (see core.routers); work that could not be queued
is announced."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.routers import pinned_to_primary
from core.tasks import queue_watch

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


class QueueDownMiddleware:
    """Tells the user when the work their request started could not be queued (Redis or the broker
    down): it was saved and waits, and a scheduled task queues it again once the broker is back.
    One place for every caller of core.tasks.enqueue, after MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with queue_watch() as unqueued:
            response = self.get_response(request)
        if unqueued and hasattr(request, "_messages"):
            # Added after the view: seen on the page the browser is sent to (a redirect), as usual.
            messages.warning(request, _(
                "The background queue cannot be reached right now. Your request is saved and waits: "
                "it starts by itself a few minutes after the queue is back, nothing to do again."
            ))
        return response
