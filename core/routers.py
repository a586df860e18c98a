"""Reads that may go to the PostgreSQL read replica (DATABASE_REPLICA_URL), and only those.

A replica lags the primary by a fraction of a second to a few seconds, so reading it is a choice a
view makes, never a default: the client list and its exports, the segments' pages and counts, and
the background exports ask for it with `replica_reads()` / `@replica_view`. Everything else, every
write, and every read of a request or transaction that has written stays on "default":

* outside a `replica_reads()` scope the router says nothing (Django uses "default", or the database
  an instance came from);
* inside one, a read stays on the primary when the scope has already written, when "default" is
  inside a transaction (its reads must see its own writes), or when the request is pinned to the
  primary (`core.middleware.PrimaryPinMiddleware`: the browser wrote within REPLICA_PIN_SECONDS, so
  a salesperson who just saved a client finds it in the list).

In the test suite the replica alias is a TEST MIRROR of "default"; reads meant for it go to the
mirrored alias, which is the same database, so the suite runs unchanged with the variable set.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import StreamingHttpResponse

REPLICA_DB_ALIAS = "replica"


@dataclass
class _Scope:
    wrote: bool = False


_scope: ContextVar[_Scope | None] = ContextVar("replica_reads", default=None)
_pinned: ContextVar[bool] = ContextVar("primary_pinned", default=False)


@contextmanager
def replica_reads(enabled: bool = True) -> Iterator[None]:
    """Reads inside may go to the replica (also a decorator); `enabled=False` keeps them on the primary."""
    token = _scope.set(_Scope() if enabled else None)
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def pinned_to_primary(pinned: bool = True) -> Iterator[None]:
    """Every read inside stays on the primary, even within a `replica_reads()` scope."""
    token = _pinned.set(pinned)
    try:
        yield
    finally:
        _pinned.reset(token)


def replica_allowed() -> bool:
    """Whether this request may read the replica at all (not pinned to the primary)."""
    return not _pinned.get()


def replica_view(view: Callable) -> Callable:
    """Runs a view in a `replica_reads()` scope, including what Django does after it returns: the
    rendering of a TemplateResponse (the table's queryset is read there) and the chunks of a
    streamed download (each chunk in a scope of its own, decided now: the pin is gone by then)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        allowed = replica_allowed()
        with replica_reads(enabled=allowed):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _scoped_chunks(response.streaming_content, enabled=allowed)
        return response

    return wrapped


def _scoped_chunks(chunks, *, enabled: bool) -> Iterator[bytes]:
    iterator = iter(chunks)
    while True:
        with replica_reads(enabled=enabled):
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


class ReplicaRouter:
    """Django database router: see the module docstring. `replica` names the alias to read from."""

    def __init__(self, replica: str = REPLICA_DB_ALIAS):
        self.replica = replica

    def db_for_read(self, model, **hints) -> str | None:
        scope = _scope.get()
        if scope is None or scope.wrote or _pinned.get():
            return None
        if self.replica not in connections.settings or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return connections.settings[self.replica].get("TEST", {}).get("MIRROR") or self.replica

    def db_for_write(self, model, **hints) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # Both aliases hold the same rows: an object read from the replica may be related to one
        # from the primary (and is saved to the primary by db_for_write).
        known = {DEFAULT_DB_ALIAS, self.replica}
        return True if {obj1._state.db, obj2._state.db} <= known else None

    def allow_migrate(self, db, app_label, **hints) -> bool | None:
        # The replica follows the primary's schema by replication; it is never migrated itself.
        return False if db == self.replica else None
