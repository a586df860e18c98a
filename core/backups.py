"""Backups of the database that restore: PostgreSQL through pg_dump / pg_restore, SQLite through its
online backup API. `manage.py backup` and `manage.py restore` (`make backup`, `make restore`) call these.

A backup is consistent: pg_dump reads the whole database in one repeatable-read snapshot, and
SQLite's backup API copies one committed state even while the application writes. A backup is written
under a temporary name and renamed when complete (a crash never leaves a file that looks whole), and
readable by its owner only: it holds every client's personal data.

The connection comes from settings.DATABASES, passed to pg_dump / pg_restore through libpq's
environment variables (PGHOST, PGPASSWORD…), never on the command line, where `ps` would show the
password, and never through a shell.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

POSTGRESQL = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"
# The libpq environment variable for each of Django's OPTIONS a connection may set.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE", "service": "PGSERVICE",
}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Result:
    path: Path
    database: str
    seconds: float

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def backup_database(*, alias: str = "default", directory: Path | str | None = None) -> Result:
    """Writes a timestamped backup of the database `alias` into `directory` (BACKUP_DIR)."""
    settings_dict = connections[alias].settings_dict
    engine = _engine(settings_dict)
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = _database_label(settings_dict)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{name}-{stamp}.{'dump' if engine == POSTGRESQL else 'sqlite3'}"
    if path.exists():
        raise BackupError(f"{path} already exists (a backup of this second): try again in a second.")
    partial = path.with_name(path.name + ".partial")
    # Created here, owner-only, so that pg_dump writes into a file nobody else can read.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    started = time.monotonic()
    try:
        if engine == POSTGRESQL:
            _pg_dump(alias, partial)
        else:
            _sqlite_backup(alias, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    return Result(path=path, database=settings_dict["NAME"], seconds=time.monotonic() - started)


def restore_database(*, path: Path | str, alias: str = "default", target: str | None = None, jobs: int = 1) -> Result:
    """Restores the backup at `path` into an empty database: the one `alias` names, or `target` on
    the same server with the same credentials (a PostgreSQL database name, or a SQLite file).

    A database that holds any table is refused: restoring over live data would mix two states.
    On PostgreSQL with one job the restore is a single transaction (a failure leaves the database
    empty); with several jobs (pg_restore --jobs) it is faster but a failure leaves it half restored.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    settings_dict = dict(connections[alias].settings_dict)
    if target:
        settings_dict["NAME"] = target
    engine = _engine(settings_dict)
    started = time.monotonic()
    if engine == POSTGRESQL:
        _pg_restore(alias, settings_dict, path, jobs)
    else:
        _sqlite_restore(alias, settings_dict, path)
    return Result(path=path, database=str(settings_dict["NAME"]), seconds=time.monotonic() - started)


def table_counts(*, alias: str = "default", target: str | None = None) -> dict[str, int]:
    """Rows per table of a database (`target` as in restore_database): what a restore check compares."""
    settings_dict = dict(connections[alias].settings_dict)
    if target:
        settings_dict["NAME"] = target
    with _connection_to(alias, settings_dict) as wrapper, wrapper.cursor() as cursor:
        tables = wrapper.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {wrapper.ops.quote_name(table)}")  # noqa: S608 (a listed table)
            counts[table] = cursor.fetchone()[0]
    return counts


# --- PostgreSQL -----------------------------------------------------------------------------------


def _pg_dump(alias: str, path: Path) -> None:
    settings_dict = connections[alias].settings_dict
    _check_client_version("pg_dump", connections[alias].pg_version)
    _run(["pg_dump", "--format=custom", "--no-password", f"--file={path}"], _libpq_env(settings_dict))


def _pg_restore(alias: str, settings_dict: dict[str, Any], path: Path, jobs: int) -> None:
    with _connection_to(alias, settings_dict) as wrapper:
        _check_client_version("pg_restore", wrapper.pg_version)
        _refuse_non_empty(wrapper)
    command = ["pg_restore", "--no-owner", "--exit-on-error", "--no-password", f"--dbname={settings_dict['NAME']}"]
    command += ["--single-transaction"] if jobs <= 1 else [f"--jobs={jobs}"]
    _run([*command, str(path)], _libpq_env(settings_dict))


def _check_client_version(program: str, server_version: int) -> None:
    """pg_dump refuses a newer server, and an older pg_restore cannot read a newer archive: the
    client's major version must be at least the server's."""
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed (apt-get install postgresql-client-{server_version // 10000}).")
    output = subprocess.run([program, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.(\d+))?", output)
    client_major, server_major = int(match.group(1)) if match else 0, server_version // 10000
    if client_major < server_major:
        raise BackupError(
            f"{program} {client_major} is older than the PostgreSQL {server_major} server: "
            f"install postgresql-client-{server_major} (its {program} reads and writes this server's data)."
        )


def _refuse_non_empty(wrapper) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
        )
        relations = cursor.fetchone()[0]
    if relations:
        name = wrapper.settings_dict["NAME"]
        raise BackupError(
            f"Database {name} is not empty ({relations} tables, views or sequences): restore into a new, "
            f"empty database (createdb NEWNAME, then --target NEWNAME or DATABASE_URL pointing at it), "
            f"or drop and recreate this one first."
        )


def _libpq_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST"), "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"), "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    options = settings_dict.get("OPTIONS") or {}
    values.update({variable: options.get(option) for option, variable in LIBPQ_OPTIONS.items()})
    env.update({variable: str(value) for variable, value in values.items() if value})
    return env


# --- SQLite ---------------------------------------------------------------------------------------


def _sqlite_backup(alias: str, path: Path) -> None:
    """Copies the live database through Django's own connection (so that an in-memory test
    database works too) with SQLite's online backup API: one consistent, committed state."""
    source = connections[alias]
    source.ensure_connection()
    destination = sqlite3.connect(path)
    try:
        source.connection.backup(destination)
    finally:
        destination.close()


def _sqlite_restore(alias: str, settings_dict: dict[str, Any], path: Path) -> None:
    with _connection_to(alias, settings_dict) as wrapper:
        wrapper.ensure_connection()
        tables = wrapper.introspection.table_names()
        if tables:
            raise BackupError(
                f"Database {settings_dict['NAME']} is not empty ({len(tables)} tables): restore into a new "
                f"file (--target path/to/new.sqlite3) or move this one away first."
            )
        source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            source.execute("PRAGMA quick_check")  # a damaged or foreign file fails here, before any copy
            source.backup(wrapper.connection)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not a readable SQLite backup: {error}") from error
        finally:
            source.close()


# --- Both -----------------------------------------------------------------------------------------


def _engine(settings_dict: dict[str, Any]) -> str:
    engine = settings_dict["ENGINE"]
    if engine not in (POSTGRESQL, SQLITE):
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {engine}.")
    return engine


def _database_label(settings_dict: dict[str, Any]) -> str:
    name = str(settings_dict["NAME"])
    if settings_dict["ENGINE"] == SQLITE:
        name = Path(name.split("?")[0]).stem if "memory" not in name else "memory"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "database"


class _connection_to:
    """A separate Django connection to a database of `alias`'s server (its settings, another NAME),
    closed on exit, so that a restore's checks never disturb the application's connection."""

    def __init__(self, alias: str, settings_dict: dict[str, Any]):
        wrapper_class = type(connections[alias])
        self.wrapper = wrapper_class({**settings_dict, "CONN_MAX_AGE": 0}, alias=f"{alias}-backups")

    def __enter__(self):
        return self.wrapper

    def __exit__(self, *exc) -> None:
        self.wrapper.close()


def _run(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603 (no shell, fixed program)
    if completed.returncode != 0:
        raise BackupError(f"{command[0]} failed ({completed.returncode}): {completed.stderr.strip()}")
