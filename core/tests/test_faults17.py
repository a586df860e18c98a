"""Issue 17 in core: the idle timeout at a short SESSION_IDLE_MINUTES, queueing with Redis down,
and the public pages' rate limits."""

import datetime as dt
import os
import runpy
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

BASE_DIR = Path(__file__).resolve().parents[2]


def settings_from_environment(**environment: str) -> dict:
    """portfolio/settings.py as the environment `environment` gives it (the test settings are computed once)."""
    with mock.patch.dict(os.environ, {"ENV_FILE": "", "DEBUG": "true", **environment}):
        return runpy.run_path(str(BASE_DIR / "portfolio" / "settings.py"))


class Clock:
    """time.time() and timezone.now() of the idle middleware and the session store, moved by hand."""

    def __init__(self):
        self.now = timezone.now()

    def time(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    clock = Clock()
    with mock.patch("accounts.middleware.time", clock), mock.patch("django.utils.timezone.now", lambda: clock.now):
        yield clock


@pytest.mark.django_db
def test_with_one_idle_minute_a_user_clicking_every_20_seconds_stays_logged_in(client, owner, settings, clock):
    configured = settings_from_environment(SESSION_IDLE_MINUTES="1")
    settings.SESSION_COOKIE_AGE = configured["SESSION_COOKIE_AGE"]
    settings.SESSION_REFRESH_SECONDS = configured["SESSION_REFRESH_SECONDS"]
    assert settings.SESSION_COOKIE_AGE == 60
    client.force_login(owner)
    agenda = reverse("clients:agenda")

    for _click in range(15):  # five minutes of work
        clock.advance(20)
        assert client.get(agenda).status_code == 200, f"logged out at {_click}"

    clock.advance(61)  # then a minute and a second without a click: the session is over
    assert client.get(agenda).status_code == 302


def test_the_default_idle_hour_still_writes_the_session_at_most_once_a_minute():
    configured = settings_from_environment()
    assert (configured["SESSION_COOKIE_AGE"], configured["SESSION_REFRESH_SECONDS"]) == (3600, 60)
    assert settings_from_environment(SESSION_IDLE_MINUTES="5")["SESSION_REFRESH_SECONDS"] == 30
