"""Who calls the API: `Authorization: Bearer <token>` is that token's user, seeing exactly what the
user sees on the pages. Each token is rate limited (settings.RATE_LIMIT_API_TOKEN, core.ratelimit:
429 with Retry-After), and the answers speak the request's Accept-Language, else the user's language.

While an endpoint runs, every audit entry written carries the token's name (audit.context), so the
client's history shows which system made the change."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from api.models import ApiToken
from api.problems import Problem, read_only_token
from api.tokens import token_for
from audit.context import audit_via
from core.ratelimit import retry_after


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = token_for(token.strip())
        if found is None:
            return None
        if wait := retry_after(f"api:token:{found.key_hash[:24]}", settings.RATE_LIMIT_API_TOKEN):
            raise Problem(
                429, _("Too many requests"),
                _("This token sent too many requests: try again in %(seconds)d seconds.") % {"seconds": wait},
                headers={"Retry-After": str(wait)}, kind="rate-limited",
            )
        request.user = found.user
        if "HTTP_ACCEPT_LANGUAGE" not in request.META and found.user.language:
            translation.activate(found.user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return found


def via(token: ApiToken) -> str:
    """How the audit history names a change made with `token`."""
    return f"api:{token.name}"


def in_token_context(view: Callable) -> Callable:
    """Runs an endpoint with its token's name on every audit entry it writes (all of them)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return view(request, *args, **kwargs)
        with audit_via(via(token)):
            return view(request, *args, **kwargs)

    return wrapped


def writer(request: HttpRequest) -> ApiToken:
    """The request's token, which must be allowed to write (a read-only one answers 403)."""
    token = request.auth
    if not token.can_write:
        raise read_only_token()
    return token
