"""Issue 17 in core: the idle timeout at a short SESSION_IDLE_MINUTES, queueing with Redis down,
and the public pages' rate limits."""

import datetime as dt
import os
import runpy
import time
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone, translation

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


# --- Redis down: every action answers at once, the work waits and runs once Redis is back -------

CLOSED_PORT = "redis://127.0.0.1:6390/0"  # nothing listens there
WAITS = ("The background queue cannot be reached right now. Your request is saved and waits: "
         "it starts by itself a few minutes after the queue is back, nothing to do again.")


@pytest.fixture
def redis_down_everywhere(settings):
    """Redis unreachable as production meets it: the cache, Celery's broker and its result store."""
    from core.tests.test_faults import _fresh_pools
    from portfolio.celery import app

    settings.CACHES = {"default": {
        "BACKEND": "core.cache.ForgivingRedisCache", "LOCATION": CLOSED_PORT,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }}
    previous = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    _fresh_pools()
    app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend = False, CLOSED_PORT, CLOSED_PORT
    _forget_backend(app)
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend = previous
        _forget_backend(app)
        _fresh_pools()


def _forget_backend(app) -> None:
    """Celery keeps its result store per app (or per thread): the next use makes one from the config."""
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


def _timed_post(client, url, data) -> tuple:
    """Without a test transaction around it, as in production: on_commit callbacks run inside the request."""
    started = time.monotonic()
    with translation.override("en"):
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    return response, time.monotonic() - started


def _messages(client, url) -> list[str]:
    return [str(message) for message in client.get(url, HTTP_ACCEPT_LANGUAGE="en").context["messages"]]


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_confirming_an_import_answers_at_once_and_it_runs_once_redis_is_back(
    client, owner, redis_down_everywhere,
):
    from clients.tests.factories import ClientFactory
    from imports.jobs import job_create, jobs_requeue
    from imports.models import ImportJob
    from imports.spreadsheets import read_table

    ClientFactory(owner=owner, client_ref="C-1")
    data = b"Referencia,Fecha,Importe\nC-1,2026-10-01,10\n"
    job = job_create(user=owner, kind="purchases", filename="v.csv", data=data, table=read_table(data))
    client.force_login(owner)
    url = reverse("imports:import_detail", args=[job.pk])

    response, took = _timed_post(client, url, {
        "column_0": "client_ref", "column_1": "date", "column_2": "amount", "owner": owner.pk, "action": "confirm",
    })

    assert response.status_code == 302 and took < 5, took  # was a 500 after about 19 s
    assert WAITS in _messages(client, url)
    assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.QUEUED

    redis_back_and_minutes_later(ImportJob, job)
    assert jobs_requeue() == 1  # the beat entry "Requeue stuck imports" (every 5 minutes)
    assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.DONE


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_launching_a_campaign_answers_at_once_and_it_is_sent_once_redis_is_back(
    client, owner, redis_down_everywhere,
):
    from django.core import mail

    from campaigns.models import Campaign, Recipient
    from campaigns.services import campaigns_requeue
    from campaigns.tests.test_campaigns import consented, email_campaign
    from clients.tests.factories import ClientFactory

    for _ in range(3):
        consented(ClientFactory(owner=owner))
    campaign = email_campaign(owner)
    client.force_login(owner)

    response, took = _timed_post(client, reverse("campaigns:campaign_launch", args=[campaign.pk]), {})

    assert response.status_code == 302 and took < 5, took  # was a 500 after about 19 s
    assert WAITS in _messages(client, campaign.get_absolute_url())
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENDING and not mail.outbox
    assert set(Recipient.objects.values_list("state", flat=True)) == {Recipient.State.PENDING}

    assert campaigns_requeue() == 0  # launched a moment ago: its sender may just be late
    redis_back_and_minutes_later(Campaign, campaign, field="launched_at")
    assert campaigns_requeue() == 1  # the beat entry "Requeue campaigns without a sender" (every 5 minutes)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DONE and len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_background_export_answers_at_once_and_runs_once_redis_is_back(
    client, owner, settings, redis_down_everywhere,
):
    from clients.tests.factories import ClientFactory
    from exports.models import ExportJob
    from exports.services import exports_recover

    settings.EXPORT_BACKGROUND_ROWS = 1
    ClientFactory(owner=owner), ClientFactory(owner=owner)
    client.force_login(owner)

    response, took = _timed_post(client, reverse("exports:export_create"), {"kind": "clients", "format": "csv"})

    assert response.status_code == 302 and took < 5, took
    job = ExportJob.objects.get()
    assert WAITS in _messages(client, reverse("exports:export_detail", args=[job.pk]))
    assert job.state == ExportJob.State.QUEUED

    redis_back_and_minutes_later(ExportJob, job)
    exports_recover()  # the beat entry "Recover stuck exports" (every 5 minutes)
    job.refresh_from_db()
    assert (job.state, job.rows) == (ExportJob.State.DONE, 2)


def redis_back_and_minutes_later(model, row, field: str = "created_at") -> None:
    """Redis comes back (tasks run in-process again, as without a broker) after the job waited."""
    from core.tests.test_faults import _fresh_pools
    from portfolio.celery import app

    app.conf.task_always_eager, app.conf.result_backend = True, "cache+memory://"
    _forget_backend(app)
    _fresh_pools()
    model.objects.filter(pk=row.pk).update(**{field: timezone.now() - dt.timedelta(minutes=30)})


def test_without_a_result_asked_for_queueing_never_touches_the_result_store(redis_down_everywhere):
    """The 19 s and the 500: Celery subscribed to the task's result in Redis before sending it."""
    from core.tasks import enqueue, queue_watch

    started = time.monotonic()
    with queue_watch() as unqueued:
        assert enqueue("imports.tasks.import_run", 0) is False
    assert time.monotonic() - started < 5 and unqueued == ["imports.tasks.import_run"]


# --- Rate limits of the public pages -----------------------------------------------------------

@pytest.fixture
def limits(settings):
    from django.core.cache import cache

    cache.clear()
    settings.RATE_LIMIT_PUBLIC_ADDRESS = settings.RATE_LIMIT_CALENDAR_ADDRESS = "5/m"
    settings.RATE_LIMIT_PUBLIC_LINK = settings.RATE_LIMIT_CALENDAR_LINK = "3/m"
    return settings


def _public_urls(owner) -> dict[str, list[str]]:
    """Per page, four links of four different clients (or users)."""
    from accounts.models import Role
    from campaigns.models import Campaign, Purpose, Recipient
    from campaigns.tests.test_campaigns import email_campaign
    from campaigns.tokens import survey_token, unsubscribe_token
    from clients.calendar import calendar_token_rotate
    from clients.tests.factories import ClientFactory
    from conftest import make_user

    clients = [ClientFactory(owner=owner) for _ in range(4)]
    survey = email_campaign(owner, goal=Campaign.Goal.SURVEY)
    recipients = [Recipient.objects.create(campaign=survey, client=c, state=Recipient.State.SENT,
                                           status_at_launch=c.status) for c in clients]
    users = [make_user(f"feed{n}", Role.COMERCIAL) for n in range(4)]
    return {
        "survey": [reverse("campaigns:survey", args=[survey_token(r.pk)]) for r in recipients],
        "unsubscribe": [reverse("campaigns:unsubscribe", args=[unsubscribe_token(c.pk, Purpose.PROMOTIONS, None)])
                        for c in clients],
        "calendar": [reverse("clients:calendar_feed", args=[calendar_token_rotate(user=u)]) for u in users],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["survey", "unsubscribe", "calendar"])
def test_one_link_asked_for_too_often_answers_429_with_retry_after(client, owner, limits, page):
    url, other, *_rest = _public_urls(owner)[page]
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR="203.0.113.1").status_code == 200

    with translation.override("en"):
        refused = client.get(url, REMOTE_ADDR="203.0.113.2", HTTP_ACCEPT_LANGUAGE="en")  # from another address too

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert b"Too many requests" in refused.content
    assert client.get(other, REMOTE_ADDR="203.0.113.2").status_code == 200  # another link is not held back


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["survey", "unsubscribe", "calendar"])
def test_one_address_trying_many_links_answers_429(client, owner, limits, page):
    urls = _public_urls(owner)[page]
    answers = [client.get(url, REMOTE_ADDR="198.51.100.9").status_code for url in urls + urls[:2]]

    assert answers == [200] * 5 + [429]  # five links' worth from one address, then nothing
    assert client.get(urls[3], REMOTE_ADDR="198.51.100.10").status_code == 200  # another address still gets in


@pytest.mark.django_db
def test_the_window_passes_and_the_link_works_again(client, owner, limits):
    url = _public_urls(owner)["survey"][0]
    with mock.patch("core.ratelimit.time.time", return_value=1_000_000_040.0):
        for _ in range(3):
            client.get(url)
        refused = client.get(url)
    assert refused.status_code == 429 and refused["Retry-After"] == "40"  # the minute's window ends in 40 s
    with mock.patch("core.ratelimit.time.time", return_value=1_000_000_080.0):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_one_click_unsubscribe_post_counts_too_and_a_refused_one_changes_nothing(client, owner, limits):
    from campaigns.models import ConsentChange

    url = _public_urls(owner)["unsubscribe"][0]
    for _ in range(3):
        client.get(url)

    refused = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")

    assert refused.status_code == 429
    assert not ConsentChange.objects.filter(granted=False).exists()


def test_rates_are_read_as_a_count_per_period():
    from core.ratelimit import parse_rate

    assert parse_rate("30/m") == (30, 60)
    assert parse_rate("600/h") == (600, 3600)
    assert parse_rate("10/300") == (10, 300)
    assert parse_rate("") == (0, 0)
    with pytest.raises(ValueError):
        parse_rate("lots")


@pytest.mark.django_db
def test_with_redis_down_the_public_pages_still_answer(client, owner, limits, redis_down_everywhere):
    url = _public_urls(owner)["survey"][0]
    assert [client.get(url).status_code for _ in range(5)] == [200] * 5


def test_a_mistyped_rate_limit_stops_the_start_not_the_pages():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="not '30 per minute'"):
        settings_from_environment(RATE_LIMIT_PUBLIC_LINK="30 per minute")
    assert settings_from_environment(RATE_LIMIT_PUBLIC_LINK="")["RATE_LIMIT_PUBLIC_LINK"] == ""
