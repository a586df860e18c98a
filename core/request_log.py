"""One log line per request (core.logs), with the user's id and never their personal data."""

import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponse

from core.logs import log_context, request_user_id

request_logger = logging.getLogger("cartera.requests")
# A proxy's request id is kept only when it cannot smuggle anything into a log line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# URL arguments that are secrets (links sent by e-mail, a calendar feed's key, a password reset).
SECRET_URL_ARGUMENTS = {"token", "uidb64"}


class RequestLogMiddleware:
    """One log line per request (core.logs): method, route, path, status, duration, user id and
    request id, and never personal data: no query string (a search for a client's name travels
    there), and the path's tokens (unsubscribe, survey, calendar feed, password reset) masked.

    First in MIDDLEWARE, so that its duration covers every other middleware and every answer is
    logged, redirects to HTTPS included. The request id is the proxy's X-Request-ID when it sends a
    well-formed one (nginx's $request_id), a new one otherwise, and goes back in the answer's
    X-Request-ID header: a user reporting an error can quote it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request.headers.get("X-Request-ID", "")
        if not REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        token = log_context.set({"request_id": request_id, "_request": request})
        try:
            response = self.get_response(request)
        finally:
            log_context.reset(token)
        response.headers.setdefault("X-Request-ID", request_id)
        match = request.resolver_match
        request_logger.info(
            "%s %s %s", request.method, _masked_path(request), response.status_code,
            extra={
                "method": request.method, "path": _masked_path(request), "route": match.route if match else None,
                "status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": request_user_id(request), "request_id": request_id,
            },
        )
        return response


def _masked_path(request: HttpRequest) -> str:
    path = request.path
    match = request.resolver_match
    if match:
        for name, value in match.kwargs.items():
            if name in SECRET_URL_ARGUMENTS and value:
                path = path.replace(str(value), "[masked]")
    return path
