"""Through what a change arrived, when not through the pages: the API token's name, set by the API's
authentication for the whole request, so that every audit entry a service writes meanwhile carries it
(AuditEntry.via's default) without the services knowing about the API."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_via: ContextVar[str] = ContextVar("audit_via", default="")
VIA_MAX = 120


def current_via() -> str:
    """What the audit entries written now record as their channel ("" for the pages)."""
    return _via.get()


@contextmanager
def audit_via(text: str) -> Iterator[None]:
    """Every audit entry built inside records `text` (an API token: "api:<its name>")."""
    token = _via.set(text[:VIA_MAX])
    try:
        yield
    finally:
        _via.reset(token)
