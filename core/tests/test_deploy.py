import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", "ENV_FILE": "", **env}  # not a developer's .env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_values():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="false", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="crm.example.com",
        DATABASE_URL="sqlite:////tmp/cartera-deploy-check.sqlite3",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


@pytest.mark.django_db
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_postgresql_connections_do_not_jit_compile_unless_asked():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_postgres_jit_true_leaves_the_servers_setting():
    probe = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'portfolio.settings'; django.setup();"
        "from django.conf import settings; print(repr(settings.DATABASES['default'].get('OPTIONS', {}).get('options')))"
    )
    url = "postgres://cartera@127.0.0.1:5432/cartera"
    for jit, expected in (("false", "'-c jit=off'"), ("true", "None")):
        result = subprocess.run(
            [sys.executable, "-c", probe], cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
            env={"PATH": "/usr/bin:/bin", "ENV_FILE": "", "DEBUG": "true", "DATABASE_URL": url, "POSTGRES_JIT": jit},
        )
        assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
