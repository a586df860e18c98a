"""Writing the demo's blocks: COPY on PostgreSQL, bulk_create elsewhere.

PostgreSQL gets COPY, with the loaded tables' secondary indexes and foreign keys dropped and
rebuilt around the load (`PostgresBulkLoad`); other databases get `bulk_create`. Each writer
`prepare`s a block in pure Python (thread-safe, see `demo.blocks.prepared_blocks`) and `send`s it
over the connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.db import connection, models

from clients.models import Client, Contract, FollowUp, Interaction, Purchase, PurchaseLine
from demo.markets import RATE_SCALE
from demo.rows import Bases, Batch, rebase_rows
from demo.sampling import Clock


def _copy_str(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


_COPY_TEXT = {
    str: _copy_str,
    int: str,
    bool: lambda v: "t" if v else "f",
    type(None): lambda v: "\\N",
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,  # keeps the UTC offset
    Decimal: str,
}


def _copy_value(value) -> str:
    """One value in COPY's text format."""
    encode = _COPY_TEXT.get(type(value))
    if encode is not None:
        return encode(value)
    if isinstance(value, str):  # a choices member
        return _copy_str(str.__str__(value))
    return str(value)


def _missing_default(model_field: models.Field, now: dt.datetime):
    if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
        return now
    return model_field.get_default()


class _CopyTable:
    """COPY … FROM STDIN for one model: given columns first, every other column at its default."""

    def __init__(self, model: type[models.Model], given: Sequence[str], now: dt.datetime, quote: Callable[[str], str]):
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for f in model._meta.concrete_fields if f.attname not in given and not f.primary_key]
        self.given = list(given)
        self.suffix = "".join("\t" + _copy_value(_missing_default(f, now)) for f in rest)
        columns = [by_attname[name].column for name in given] + [f.column for f in rest]
        self.sql = f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"

    def dict_lines(self, rows: Sequence[dict]) -> list[str]:
        given, suffix, value = self.given, self.suffix, _copy_value
        return ["\t".join([value(row[name]) for name in given]) + suffix + "\n" for row in rows]

class PostgresWriter:
    """Turns a block into COPY text (`prepare`: pure Python, thread-safe) and streams it (`send`)."""

    def __init__(self, clock: Clock):
        self.now = clock.now
        self.tz = clock.tz
        self.quote = connection.ops.quote_name
        self.tables: dict[str, _CopyTable] = {}
        self.day_text: dict[int, tuple[str, str]] = {}
        self.minute_text = [f"{minute // 60:02d}:{minute % 60:02d}:00" for minute in range(24 * 60)]

    def _table(self, model, given) -> _CopyTable:
        key = f"{model._meta.label}:{','.join(given)}"
        if key not in self.tables:
            self.tables[key] = _CopyTable(model, given, self.now, self.quote)
        return self.tables[key]

    def _day(self, ordinal: int) -> tuple[str, str]:
        """'2025-03-30' and that day's UTC offset at midday ('+02:00')."""
        day = dt.date.fromordinal(ordinal)
        offset = dt.datetime.combine(day, dt.time(12), tzinfo=self.tz).isoformat()[-6:]
        text = self.day_text[ordinal] = (day.isoformat(), offset)
        return text

    def prepare(self, batch: Batch, bases: Bases) -> list[tuple[str, str]]:
        rebase_rows(batch, bases)
        cb, pb = bases.client, bases.purchase
        copies = []

        def add(table: _CopyTable, lines: list[str]) -> None:
            if lines:
                copies.append((table.sql, "".join(lines)))

        def add_dicts(model, rows: list[dict]) -> None:
            if rows:
                table = self._table(model, list(rows[0]))
                add(table, table.dict_lines(rows))

        add_dicts(Client, batch.clients)
        add(self._table(Client.interests.through, ["client_id", "category_id"]),
            [f"{client_id + cb}\t{category_id}\n" for client_id, category_id in batch.interests])
        table = self._table(Purchase, ["id", "client_id", "date", "amount", "currency", "payment_method",
                                       "channel", "notes", "created_by_id", "created_at", "original_amount",
                                       "exchange_rate"])
        suffix, days, minutes, null = table.suffix, self.day_text, self.minute_text, "\\N"
        lines = []
        for pid, client_id, day, cents, currency, payment, channel, notes, by, minute, paid, rate in batch.purchases:
            iso, offset = days.get(day) or self._day(day)
            lines.append(
                f"{pid + pb}\t{client_id + cb}\t{iso}\t{cents // 100}.{cents % 100:02d}\t{currency}\t{payment}\t"
                f"{channel}\t{notes}\t{null if by is None else by}\t{iso} {minutes[minute]}{offset}\t"
                f"{paid // 100}.{paid % 100:02d}\t{rate // RATE_SCALE}.{rate % RATE_SCALE:08d}{suffix}\n"
            )
        add(table, lines)
        table = self._table(PurchaseLine, ["purchase_id", "product_id", "quantity", "unit_price"])
        add(table, [f"{pid + pb}\t{product}\t{qty}\t{unit // 100}.{unit % 100:02d}{table.suffix}\n"
                    for pid, product, qty, unit in batch.lines])
        add_dicts(Interaction, batch.interactions)
        add_dicts(FollowUp, batch.followups)
        add_dicts(Contract, batch.contracts)
        return copies

    def send(self, copies: list[tuple[str, str]]) -> None:
        with connection.cursor() as cursor:
            for sql, text in copies:
                with cursor.copy(sql) as copy:
                    copy.write(text)


class OrmWriter:
    """Any other database (SQLite for the demo): model instances and bulk_create."""

    BATCH_SIZE = 2_000

    def __init__(self, clock: Clock):
        self.at = clock.at

    def prepare(self, batch: Batch, bases: Bases) -> list[tuple[type[models.Model], list[models.Model]]]:
        rebase_rows(batch, bases)
        cb, pb, at = bases.client, bases.purchase, self.at
        through = Client.interests.through
        return [
            (Client, [Client(**row) for row in batch.clients]),
            (through, [through(client_id=client_id + cb, category_id=category_id)
                       for client_id, category_id in batch.interests]),
            (Purchase, [
                Purchase(id=pid + pb, client_id=client_id + cb, date=dt.date.fromordinal(day),
                         amount=Decimal(cents).scaleb(-2), currency=currency, payment_method=payment, channel=channel,
                         notes=notes, created_by_id=by, created_at=at(day, minute),
                         original_amount=Decimal(paid).scaleb(-2), exchange_rate=Decimal(rate).scaleb(-8))
                for pid, client_id, day, cents, currency, payment, channel, notes, by, minute, paid, rate in batch.purchases
            ]),
            (PurchaseLine, [
                PurchaseLine(purchase_id=pid + pb, product_id=product, quantity=Decimal(qty),
                             unit_price=Decimal(unit).scaleb(-2))
                for pid, product, qty, unit in batch.lines
            ]),
            (Interaction, [Interaction(**row) for row in batch.interactions]),
            (FollowUp, [FollowUp(**row) for row in batch.followups]),
            (Contract, [Contract(**row) for row in batch.contracts]),
        ]

    def send(self, prepared: list[tuple[type[models.Model], list[models.Model]]]) -> None:
        for model, objects in prepared:
            model.objects.bulk_create(objects, batch_size=self.BATCH_SIZE)


class PostgresBulkLoad:
    """PostgreSQL's recipe for a big load ("Populating a Database" in its manual).

    Drops the loaded tables' secondary indexes and foreign keys, and `restore()` recreates them
    from their saved definitions: one sort per index and one join per key instead of millions
    of index insertions and deferred per-row checks. It all happens inside the caller's
    transaction, so a failure brings them back untouched; meanwhile the tables are locked.
    Primary keys and unique constraints stay.
    """

    def __init__(self, model_list: Sequence[type[models.Model]]):
        self.tables = [m._meta.db_table for m in model_list]
        self.indexes: list[str] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def drop(self) -> None:
        quote = connection.ops.quote_name
        # A table with deferred checks still pending (rows written earlier in this transaction)
        # cannot be altered: run those checks now.
        connection.check_constraints()
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    """
                    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                    FROM pg_index i
                    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                    """,
                    [quote(table)],
                )
                for name, definition in cursor.fetchall():
                    self.indexes.append(definition)
                    cursor.execute(f"DROP INDEX {name}")
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                    [quote(table)],
                )
                for name, definition in cursor.fetchall():
                    self.foreign_keys.append((table, name, definition))
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")

    def restore(self) -> None:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
