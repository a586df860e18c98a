"""Errors as problem details (RFC 9457, application/problem+json): a status, a title and a detail
in the user's language, and for bad input the list of `errors`, each with its `field` (a dotted
path into the body or the query: "lines.0.quantity") and its `message`.

The messages of the request's shape (a missing field, a date that is not one) reuse Django's own
form messages, already translated in every language; the services' ValidationErrors bring theirs.
"""

import json
from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """Raised anywhere in an endpoint: answered as a problem detail."""

    def __init__(
        self, status: int, title: str, detail: str = "", *, errors: list[dict] | None = None,
        headers: dict[str, str] | None = None, kind: str = "",
    ):
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers, self.kind = errors or [], headers or {}, kind

    def body(self) -> dict:
        data = {"type": f"https://cartera.invalid/problems/{self.kind}" if self.kind else "about:blank",
                "title": self.title, "status": self.status}
        if self.detail:
            data["detail"] = self.detail
        if self.errors:
            data["errors"] = self.errors
        return data

    def response(self, request: HttpRequest | None = None) -> HttpResponse:
        body = self.body()
        if request is not None:
            body["instance"] = request.path
        response = HttpResponse(json.dumps(body, ensure_ascii=False), status=self.status, content_type=CONTENT_TYPE)
        for name, value in self.headers.items():
            response[name] = value
        return response


def not_found() -> Problem:
    return Problem(404, _("Not found"), _("There is nothing here, or you may not see it."), kind="not-found")


def read_only_token() -> Problem:
    return Problem(
        403, _("Read-only token"), _("This token may read but not write: create a read and write token."),
        kind="read-only-token",
    )


def invalid(errors: list[dict], detail: str = "") -> Problem:
    return Problem(
        422, _("The request cannot be processed as it is"), detail or _("Check the fields listed in errors."),
        errors=errors, kind="invalid",
    )


def _field_message(error: dict) -> str:
    """A pydantic error's message in the user's language, from Django's form messages."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind.startswith("decimal") or kind in ("float_parsing", "float_type"):
        return _("Enter a number.")
    if kind.startswith("datetime") or kind == "timezone_aware":
        return _("Enter a valid date/time.")
    if kind.startswith("date"):
        return _("Enter a valid date.")
    if kind in ("literal_error", "enum"):
        return _("Select a valid choice. That choice is not one of the available choices.")
    if kind == "string_too_long":
        return _("Ensure this value has at most %(max)d characters.") % {"max": ctx.get("max_length", 0)}
    if kind in ("greater_than", "greater_than_equal"):
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("gt", ctx.get("ge", 0))
        }
    if kind in ("less_than", "less_than_equal"):
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("lt", ctx.get("le", 0))
        }
    if kind == "too_long":
        return _("Send at most %(max)d items.") % {"max": ctx.get("max_length", 0)}
    if kind == "too_short":
        return _("Send at least %(min)d items.") % {"min": ctx.get("min_length", 0)}
    if kind in ("json_invalid", "model_attributes_type", "dict_type", "model_type"):
        return _("The body is not the JSON object this endpoint expects.")
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    return _("Enter a valid value.")


def field_path(loc: Iterable) -> str:
    """("body", "payload", "lines", 0, "quantity") → "lines.0.quantity" (the source and the
    parameter's own name are not the client's business)."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:]
    if parts and parts[0] in ("payload", "filters", "params"):
        parts = parts[1:]
    return ".".join(parts)


def from_pydantic(errors: list[dict], prefix: str = "") -> list[dict]:
    return [
        {"field": ".".join(part for part in (prefix, field_path(error.get("loc", ()))) if part), "message": _field_message(error)}
        for error in errors
    ]


def from_django(error: DjangoValidationError, prefix: str = "") -> list[dict]:
    """A service's ValidationError as errors: each field's messages, or the request's as a whole ("")."""
    def name(field: str) -> str:
        field = "" if field == NON_FIELD_ERRORS else field
        return ".".join(part for part in (prefix, field) if part)

    if hasattr(error, "error_dict"):
        return [{"field": name(field), "message": message} for field, errs in error.message_dict.items() for message in errs]
    return [{"field": prefix, "message": message} for message in error.messages]


def install(api) -> None:
    """The problem details of every error the API answers."""
    from ninja.errors import AuthenticationError, HttpError
    from ninja.errors import ValidationError as NinjaValidationError

    @api.exception_handler(Problem)
    def _problem(request, exc: Problem):
        return exc.response(request)

    @api.exception_handler(NinjaValidationError)
    def _validation(request, exc: NinjaValidationError):
        return invalid(from_pydantic(exc.errors)).response(request)

    @api.exception_handler(DjangoValidationError)
    def _service_validation(request, exc: DjangoValidationError):
        return invalid(from_django(exc)).response(request)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        problem = Problem(
            401, _("Authentication required"),
            _("Send a valid API token in the header Authorization: Bearer <token>."), kind="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="cartera"'},
        )
        return problem.response(request)

    @api.exception_handler(PermissionDenied)
    def _denied(request, exc):
        return Problem(403, _("Not allowed"), _("You may not do this."), kind="forbidden").response(request)

    @api.exception_handler(Http404)
    def _404(request, exc):
        return not_found().response(request)

    @api.exception_handler(ObjectDoesNotExist)
    def _does_not_exist(request, exc):
        return not_found().response(request)

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        return Problem(exc.status_code, str(exc)).response(request)
