import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation import tasks
from segmentation.models import StatusChange
from segmentation.tests.reference import expected_values, stored_values

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def free_lock():
    cache.delete(tasks.LOCK_KEY)
    yield
    cache.delete(tasks.LOCK_KEY)


@pytest.fixture
def portfolio(owner) -> list[Client]:
    clients = []
    for index, days in enumerate([3, 45, 100, 400, 20, 70, 200, 10]):
        client = ClientFactory(owner=owner)
        for extra in range(index % 3 + 1):
            PurchaseFactory(client=client, date=AS_OF - dt.timedelta(days=days + 30 * extra), amount=Decimal(50 * index + 1))
        clients.append(client)
    clients.append(ClientFactory(owner=owner))
    return clients


def test_nightly_recompute_in_process_updates_everyone_and_a_second_call_changes_nothing(portfolio):
    first = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()
    changes = StatusChange.objects.count()
    after_first = stored_values()

    second = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()

    assert first["rows_changed"] == 8
    assert after_first == expected_values(AS_OF)
    assert second["rows_changed"] == 0
    assert StatusChange.objects.count() == changes
    assert stored_values() == after_first


def test_nightly_recompute_does_nothing_while_another_run_holds_the_lock(portfolio):
    cache.add(tasks.LOCK_KEY, "another-run", timeout=60)

    result = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()

    assert result == {"skipped": True}
    assert not Client.objects.exclude(status="prospect").exists()
    assert cache.get(tasks.LOCK_KEY) == "another-run"


def test_nightly_recompute_frees_the_lock_when_it_fails(portfolio, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("segmentation.services.lifecycle_recompute", broken)

    with pytest.raises(RuntimeError):
        tasks.nightly_recompute.delay(AS_OF.isoformat()).get()

    assert cache.get(tasks.LOCK_KEY) is None


def test_with_a_broker_the_run_is_split_into_chunks_that_equal_a_single_run(portfolio, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    dispatched = {}

    def in_process_chord(header):
        # What a worker would do, here: run every chunk, then the callback with their results.
        def run(callback):
            dispatched["chunks"] = [sig.args[:2] for sig in header]
            dispatched["lock_during_run"] = cache.get(tasks.LOCK_KEY)
            return callback.apply(([sig.apply().get() for sig in header],)).get()

        return run

    monkeypatch.setattr(tasks, "chord", in_process_chord)

    result = tasks.nightly_recompute(AS_OF.isoformat(), chunk_size=2)

    ids = sorted(c.pk for c in portfolio)
    assert result == {"chunks": 5}
    assert dispatched["chunks"][0][0] == ids[0] and dispatched["chunks"][-1][1] == ids[-1] + 1
    assert all(hi == next_lo for (_, hi), (next_lo, _) in zip(dispatched["chunks"], dispatched["chunks"][1:], strict=False))
    assert dispatched["lock_during_run"] is not None
    assert cache.get(tasks.LOCK_KEY) is None  # the callback freed it
    assert stored_values() == expected_values(AS_OF)


def test_a_chunk_task_without_shared_cuts_computes_them_itself(portfolio):
    ids = sorted(c.pk for c in portfolio)

    tasks.recompute_chunk.delay(ids[0], ids[3], AS_OF.isoformat()).get()
    tasks.recompute_chunk.delay(ids[3], ids[-1] + 1, AS_OF.isoformat()).get()

    assert stored_values() == expected_values(AS_OF)


def test_the_nightly_schedule_is_seeded_at_two_in_madrid(db):
    task = PeriodicTask.objects.get(name="Nightly lifecycle recompute")

    assert task.task == "segmentation.tasks.nightly_recompute"
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("0", "2", "Europe/Madrid")


def test_command_prints_clients_per_status_and_the_time(portfolio):
    out = StringIO()

    call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=out)

    text = out.getvalue()
    statuses = {line.split()[0]: int(line.split()[1]) for line in text.splitlines()[:5]}
    assert statuses == {"prospect": 1, "new": 1, "active": 4, "dormant": 2, "lost": 1}
    assert "9 clients, 8 changed, 8 status changes in" in text
    assert Client.objects.get(pk=portfolio[0].pk).status == "new"


def test_command_rejects_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("recompute_lifecycle", "--as-of", "30/06/2026", stdout=StringIO())


def test_with_a_broker_and_no_clients_the_run_ends_at_once(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    assert tasks.nightly_recompute(AS_OF.isoformat()) == {"chunks": 0}
    assert cache.get(tasks.LOCK_KEY) is None


def test_the_nightly_run_books_automatic_follow_ups_and_mails_the_summary_once(portfolio, owner, mailoutbox):
    owner.email = "comercial@cartera.example"
    owner.save()
    first = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()
    second = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()

    # The clients 100 and 200 days without buying turned dormant; the one 10 days in is new.
    assert first["followups_created"] == {"reactivation": 2, "renewal": 0, "welcome": 1}
    assert first["summaries_sent"] == 1
    assert [message.to for message in mailoutbox] == [[owner.email]]
    assert second["followups_created"] == {"reactivation": 0, "renewal": 0, "welcome": 0}
    assert second["summaries_sent"] == 0
