"""Events that other systems may follow (the webhooks), announced by the apps that cause them.

The services that make these changes live in lower apps (clients' records in segmentation, the
survey answers in campaigns) which may not import the app that tells other systems (webhooks,
above them all). So they announce the change here and the listening app connects itself in its
AppConfig.ready.

`emit(name, data)` (or `emit_many(name, items)` for a set-based write: one call for all its rows)
runs each listener at once, inside the caller's transaction: what a listener
writes (a pending delivery) is committed or rolled back with the change itself, and whatever it
sends leaves only after the commit (its own transaction.on_commit). So nothing is sent for a write
that was rolled back. With no listener for `name`, an emit costs a dict lookup.

Two kinds of names:
* per-row events, emitted by an interactive service with the event's data (a purchase recorded,
  a survey answered);
* "something changed in bulk" notices (the night's statuses and colours are done, a client's
  status changed): no per-row data, the listener reads what changed since its own cursor, set-based.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

# Per-row events (their data: JSON-ready values).
PURCHASE_RECORDED = "purchase.recorded"
SURVEY_ANSWERED = "survey.answered"
# Found by the listener from what the night (or a write) changed, after it.
CLIENT_STATUS_CHANGED = "client.status_changed"
CLIENT_TURNED_RED = "client.turned_red"
CONTRACT_RENEWAL_DUE = "contract.renewal_due"

# Notices of set-based changes.
NIGHTLY_DONE = "nightly.done"  # every client's status, follow-ups and colours recomputed
STATUS_CHANGED = "lifecycle.status_changed"  # a write changed one client's status (StatusChange rows)

Listener = Callable[[str, Any], None]
# name -> [(listener, many)]: a plain listener gets (name, data) once per row; one connected with
# many=True gets (name, [data, ...]) once per emit, all the rows of a bulk write together.
_listeners: dict[str, list[tuple[Listener, bool]]] = defaultdict(list)


def connect(name: str, listener: Listener, *, many: bool = False) -> None:
    """Calls `listener(name, data)` on each emit of `name`, or `listener(name, items)` with `many`
    (once, however often it is connected)."""
    if (listener, many) not in _listeners[name]:
        _listeners[name].append((listener, many))


def disconnect(name: str, listener: Listener) -> None:
    _listeners[name] = [entry for entry in _listeners.get(name, ()) if entry[0] != listener]


def emit(name: str, data: dict[str, Any] | None = None) -> None:
    """Tells the listeners of `name`, in the caller's transaction (see the module docstring)."""
    emit_many(name, [data or {}])


def emit_many(name: str, items: list[dict[str, Any]]) -> None:
    """The same event for many rows at once (a bulk write): a `many` listener is called once with
    all of them, a plain one once per row."""
    if not items:
        return
    for listener, many in tuple(_listeners.get(name, ())):
        if many:
            listener(name, items)
        else:
            for data in items:
                listener(name, data)
