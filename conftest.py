"""Personas shared by every app's tests, and the browser harness (Playwright on Debian's Chromium)."""

import os
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import factory.random
import hypothesis
import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

from accounts.models import Role, Team, User

# Sync Playwright runs an event loop in the test thread; Django must allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Local runs explore: new fuzz inputs and new factory names every time. CI replays a fixed,
# seeded set so that a landing never depends on luck (.ci/run sets HYPOTHESIS_PROFILE=ci).
hypothesis.settings.register_profile("ci", derandomize=True)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
if os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    factory.random.reseed_random("cartera-ci")



class SerialWSGIServer(WSGIServer):
    """The browser tests' live server on SQLite: one request at a time (see below)."""

    def __init__(self, *args, connections_override=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override  # set in the server's own thread by LiveServerThread.run


# On SQLite the test database lives in memory, so every request thread of the live server uses the
# test thread's one connection. Two requests at once deadlocked there (CI, stop 27): one inside
# SQLite waiting for the GIL to run one of Django's SQL functions, the other holding the GIL while
# it waited for SQLite's lock to bind a parameter. So requests are served one at a time, as
# `runserver --nothreading` serves them. Django then closes each browser connection after its
# response, so the next request does not wait behind a kept-alive one. PostgreSQL keeps the threaded server.
if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    LiveServerThread.server_class = SerialWSGIServer

BASE_DIR = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "s3cret-pass-123"


def make_user(username: str, role: str, team: Team | None = None) -> User:
    from accounts.services import user_create

    return user_create(
        username=username, password=PASSWORD, role=role, team=team,
        first_name=username.capitalize(), last_name="Test",
    )


@pytest.fixture
def manager(db) -> User:
    return make_user("gerente", Role.GERENTE)


@pytest.fixture
def team(manager) -> Team:
    return Team.objects.create(name="Norte", manager=manager)


@pytest.fixture
def owner(team) -> User:
    """A comercial of the manager's team: the owner of the clients under test."""
    return make_user("comercial", Role.COMERCIAL, team)


@pytest.fixture
def teammate(team) -> User:
    return make_user("teammate", Role.COMERCIAL, team)


@pytest.fixture
def other_manager(db) -> User:
    return make_user("gerente2", Role.GERENTE)


@pytest.fixture
def outsider(other_manager) -> User:
    """A comercial of another team: must never see the owner's clients."""
    other_team = Team.objects.create(name="Sur", manager=other_manager)
    return make_user("outsider", Role.COMERCIAL, other_team)


def two_factor_on(user: User) -> User:
    """Gives `user` an authenticator (django-otp's TOTP device) and marks the instance as having
    passed it, as the login's code step does: the test client's login of it is then verified."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user.otp_device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


def totp_code(user: User) -> str:
    """The code `user`'s authenticator shows now (the last one used may be asked again in tests)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # a second login within 30 s in one test
    return f"{totp(device.bin_key):06d}"


SCHEDULE_MIGRATIONS = (  # the data migrations that seed beat entries, in the order they run
    "segmentation.migrations.0003_nightly_recompute_schedule", "segmentation.migrations.0009_chores_schedule",
    "imports.migrations.0004_chores_schedule", "exports.migrations.0002_purge_schedule",
    "exports.migrations.0003_recover_schedule", "campaigns.migrations.0002_requeue_schedule",
    "campaigns.migrations.0004_campaign_sources_schedule", "webhooks.migrations.0002_schedule",
    "webhooks.migrations.0003_purge_schedule",
)


@pytest.fixture
def beat_schedule(db) -> None:
    """The beat entries the migrations seed, as a fresh database holds them: a transactional test
    (a browser test's live server) empties every table when it ends, and pytest-django may run
    those first."""
    from importlib import import_module

    from django.apps import apps

    for name in SCHEDULE_MIGRATIONS:
        import_module(name).seed_schedule(apps, None)


@pytest.fixture
def admin_user(db) -> User:
    """An administrador: they log in with two-factor authentication (settings.OTP_REQUIRED_FOR_ADMINS)."""
    return two_factor_on(make_user("admin", Role.ADMINISTRADOR))


# --- Browser harness --------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "es-ES", "timezone_id": "Europe/Madrid"}


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def login(live_server, page):
    """Logs `user` in through the real login form and returns the page."""

    def _login(user: User):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        if hasattr(user, "otp_device"):  # the second step asks the authenticator's code
            page.wait_for_url("**/accounts/login/code/")
            page.fill("input[name=code]", totp_code(user))
            page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return _login


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def worker_process(*, env: dict | None = None, options: tuple[str, ...] = ("-c", "2", "--pool", "prefork")):
    """A Celery worker process of its own, on a queue of its own, against the test database, while
    this process sends its tasks there; yields (queue, process). `env` adds to the worker's."""
    from portfolio.celery import app

    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (REDIS_URL) so that a worker process shares the data")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "CELERY_QUEUE": queue,
        "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "portfolio.settings", **(env or {}),
    }
    if "DATABASE_REPLICA_URL" in env:  # the worker's replica is the test database too, never the real one
        env["DATABASE_REPLICA_URL"] = env["DATABASE_URL"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portfolio", "worker", "-Q", queue, *options, "-n", f"{queue}@%h"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    try:
        yield queue, worker
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        if worker.poll() is None:
            worker.terminate()
            output, _ = worker.communicate(timeout=30)
            if output.strip():
                print(output)


@pytest.fixture
def worker_queue():
    """A worker process of its own, on a queue of its own, against the test database."""
    with worker_process(options=("-c", "2", "--pool", "prefork", "--loglevel", "WARNING")) as (queue, _worker):
        yield queue


