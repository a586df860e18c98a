"""A block of demo rows as plain values, identical for every database.

Ids in a block start at 0 (clients, purchases, interactions); `rebase_rows` and the writers shift
them by the `Bases` that the blocks before left, so blocks can be built in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Batch:
    clients: list[dict] = field(default_factory=list)
    interests: list[tuple[int, int]] = field(default_factory=list)
    # (id, client_id, day ordinal, amount cents (in euros), currency, payment, channel, notes, created_by_id,
    #  minute, cents paid (in `currency`), exchange rate × RATE_SCALE)
    purchases: list[tuple] = field(default_factory=list)
    # (purchase_id, product_id, quantity, unit price cents)
    lines: list[tuple[int, int, int, int]] = field(default_factory=list)
    interactions: list[dict] = field(default_factory=list)
    followups: list[dict] = field(default_factory=list)
    contracts: list[dict] = field(default_factory=list)


@dataclass
class Tally:
    clients: int = 0
    purchases: int = 0
    lines: int = 0
    interactions: int = 0
    followups: int = 0
    contracts: int = 0

    def add(self, other: Tally) -> None:
        for name in ("clients", "purchases", "lines", "interactions", "followups", "contracts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Bases:
    """The first real id of the next block's clients, purchases and interactions."""

    client: int
    purchase: int
    interaction: int

    def advance(self, batch: Batch) -> None:
        self.client += len(batch.clients)
        self.purchase += len(batch.purchases)
        self.interaction += len(batch.interactions)


def rebase_rows(batch: Batch, bases: Bases) -> None:
    """Block-local ids in the dict rows -> real ids (purchases and lines are shifted as they are written)."""
    c, i = bases.client, bases.interaction
    for row in batch.clients:
        row["id"] += c
    for row in batch.interactions:
        row["id"] += i
        row["client_id"] += c
    for row in batch.followups:
        row["client_id"] += c
        if row["closed_by_id"] is not None:
            row["closed_by_id"] += i
    for row in batch.contracts:
        row["client_id"] += c
