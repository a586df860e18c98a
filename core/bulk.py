"""Writing many new rows at once."""

import enum
from collections.abc import Sequence

from django.db import connection, models

from core.sql import is_postgres, table_analyze

BATCH_SIZE = 2000


def rows_insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Inserts `objects` and sets their ids, as `bulk_create` does.

    On PostgreSQL through COPY, with the ids taken from the sequence first: for 100,000 clients
    Django spends about a minute turning the objects into INSERT parameters, COPY a few seconds.
    Fields are written as the objects hold them (their defaults are set when they are built);
    auto_now fields get the time now, as save() would give them.
    """
    if not is_postgres() or not objects:
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        return
    from psycopg.types.json import Jsonb

    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objects:
                field.pre_save(obj, add=True)
    attnames = [meta.pk.attname] + [field.attname for field in fields]
    columns = ", ".join(connection.ops.quote_name(column) for column in [meta.pk.column] + [f.column for f in fields])
    # Each column's conversion is decided once, not per value (a 100,000-row import holds millions
    # of values): JSON as Jsonb; a third-party field (django-countries' CountryField holds a
    # Country) says what it stores; a field with choices may hold an enum member, written as its value.
    converters = {}
    for index, field in enumerate(fields, start=1):
        if isinstance(field, models.JSONField):
            converters[index] = lambda obj, held: None if held is None else Jsonb(held)
        elif not type(field).__module__.startswith("django.db."):
            # Read through its descriptor, which normalises ("pt" → Country("PT")).
            converters[index] = lambda obj, held, field=field: field.get_prep_value(getattr(obj, field.attname))
        elif field.choices or isinstance(objects[0].__dict__[field.attname], enum.Enum):
            converters[index] = _enum_value

    def row(obj: models.Model) -> list:
        held = obj.__dict__  # the values as set, past the descriptors (see converters)
        values = [held[attname] for attname in attnames]
        for index, convert in converters.items():
            values[index] = convert(obj, values[index])
        return values

    table = meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, meta.pk.column, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row(row(obj))
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def _enum_value(obj: models.Model, held):
    return held.value if isinstance(held, enum.Enum) else held


def ids_table_create(cursor, table: str, ids) -> None:
    """A temporary table `table` (id BIGINT PRIMARY KEY) holding `ids`, for set-based SQL to join.

    On PostgreSQL through COPY: an import's 100,000 touched clients load in a tenth of a second,
    where one INSERT per id (executemany) took most of a second.
    """
    rows = sorted(set(ids))
    cursor.execute(f"CREATE TEMPORARY TABLE {table} (id BIGINT PRIMARY KEY)")
    if not is_postgres():
        cursor.executemany(f"INSERT INTO {table} (id) VALUES (%s)", [(pk,) for pk in rows])  # noqa: S608
        return
    with cursor.cursor.copy(f"COPY {table} (id) FROM STDIN") as copy:
        for pk in rows:
            copy.write_row((pk,))
    # Its real size for the joins that follow: without statistics the planner took a thousand
    # ids for 2,260 and hashed all 230,000 bajas to find their notes (1.3 s instead of 50 ms).
    table_analyze(cursor, table)


def values_insert(model: type[models.Model], attnames: Sequence[str], rows: Sequence[Sequence]) -> list[int]:
    """Inserts `rows` (each one value per name in `attnames`, as the database takes it: str, int,
    date, Decimal, None, an aware datetime, JSON as its text) into `model`'s table; returns their
    new ids, in order. No model instance per row: for an import's 100,000 rows, building the
    objects cost more than writing them.

    On PostgreSQL through COPY, the ids taken from the sequence first; elsewhere one INSERT each
    (SQLite: tests and the demo)."""
    if not rows:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column if name != meta.pk.attname else meta.pk.column for name in attnames]
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if not is_postgres():
            sql = f"INSERT INTO {table} ({', '.join(map(quote, columns))}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            ids = []
            for row in rows:
                cursor.execute(sql, row)
                ids.append(cursor.lastrowid)
            return ids
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        names = ", ".join(quote(column) for column in [meta.pk.column, *columns])
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    return ids


def default_values(model: type[models.Model], attnames: Sequence[str], *, now, **values) -> list:
    """The database values of a new `model` built with `values`, for `attnames`: what a row of
    values_insert holds before the values that differ row by row (computed once, not per row).
    auto_now fields get `now`."""
    obj = model(**values)
    result = []
    for name in attnames:
        field = obj._meta.get_field(name) if name != obj._meta.pk.attname else obj._meta.pk
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            setattr(obj, field.attname, now)
        result.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    return result
