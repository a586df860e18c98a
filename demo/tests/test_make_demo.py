"""`make demo` leaves what the README's commands need: a .env with DEBUG and a SECRET_KEY of its own
(so `.venv/bin/python manage.py ...` works as typed), and e-mails' links on the port it serves."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# A newcomer's shell sets none of these; the test run may (DEBUG, ENV_FILE, a PostgreSQL URL...).
CARTERA_VARIABLES = {
    "DEBUG", "SECRET_KEY", "ENV_FILE", "DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "CELERY_BROKER_URL",
    "SITE_URL",
    "DJANGO_SETTINGS_MODULE",
}

MAKE = shutil.which("make")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(MAKE is None, reason="needs make")]


def make(*args: str, cwd: Path) -> str:
    """The project's Makefile run in `cwd`, as a fresh clone there would run it."""
    result = subprocess.run(
        [MAKE, "--no-print-directory", "-f", str(BASE_DIR / "Makefile"), *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout


def manage(*args: str, env_file: Path, **env: str) -> subprocess.CompletedProcess:
    """`python manage.py ...` with the shell's environment minus Cartera's variables, reading `env_file`
    as it would read the clone's .env; the database is the temporary one the caller names."""
    environment = {key: value for key, value in os.environ.items() if key not in CARTERA_VARIABLES}
    environment.update(ENV_FILE=str(env_file), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120
    )


def test_make_writes_a_private_env_file_with_debug_and_its_own_secret_key_once(tmp_path):
    make(".env", cwd=tmp_path)
    written = (tmp_path / ".env").read_text()
    values = dict(line.split("=", 1) for line in written.splitlines())
    assert values["DEBUG"] == "true"
    assert len(values["SECRET_KEY"]) >= 50
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0

    make(".env", cwd=tmp_path)
    assert (tmp_path / ".env").read_text() == written  # never overwritten, a user's own file neither

    (tmp_path / "other").mkdir()
    make(".env", cwd=tmp_path / "other")
    assert (tmp_path / "other" / ".env").read_text() != written  # generated, not a shared constant


def test_readme_commands_work_with_the_env_file_alone_and_print_no_check_warnings(tmp_path):
    make(".env", cwd=tmp_path)
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    # Without the file: the error a newcomer met with every README command.
    refused = manage("check", env_file=tmp_path / "absent.env", DATABASE_URL=database)
    assert refused.returncode != 0
    assert "SECRET_KEY is required" in refused.stderr

    # migrate runs the database checks too (those `make demo` printed on SQLite).
    for command in (["migrate", "--no-input"], ["recompute_lifecycle"], ["export_clients", "--output", str(tmp_path / "x.csv")]):
        result = manage(*command, env_file=tmp_path / ".env", DATABASE_URL=database)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "WARNINGS" not in result.stdout + result.stderr
    assert (tmp_path / "x.csv").read_text(encoding="utf-8-sig").startswith("client_ref,")


def test_make_demo_port_reaches_the_site_url_of_every_demo_command():
    planned = make("--dry-run", "demo", "PORT=8001", cwd=BASE_DIR).splitlines()  # runs nothing

    demo_commands = [line for line in planned if "/python manage.py " in line and "compilemessages" not in line]
    assert [line.split("manage.py ")[1].split()[0] for line in demo_commands] == ["migrate", "seed_demo", "runserver"]
    for line in demo_commands:
        assert line.startswith("DEBUG=true SITE_URL=http://127.0.0.1:8001 "), line
    assert demo_commands[-1].endswith("runserver 127.0.0.1:8001")


def test_the_site_url_in_the_environment_wins_over_a_stale_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nSECRET_KEY=a-stale-file-from-an-earlier-run\nSITE_URL=http://127.0.0.1:8000\n")
    shown = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SITE_URL)",
        env_file=env_file, SITE_URL="http://127.0.0.1:8001",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == "http://127.0.0.1:8001"
