import datetime as dt
import threading
from decimal import Decimal
from importlib import import_module
from io import StringIO

import pytest
from celery import current_app
from celery.result import allow_join_result
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import Count
from django_celery_beat.models import PeriodicTask

from accounts.models import User
from clients.models import Client, FollowUp, Recommendation
from clients.tasks import recommendations_step
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation import nightly, tasks
from segmentation.models import DailySnapshot, NightlyRun, NightlyStep, StatusChange
from segmentation.services import lifecycle_recompute
from segmentation.tests.reference import expected_values, stored_values

AS_OF = dt.date(2026, 6, 30)
Step, State = NightlyStep.Name, NightlyStep.State


def force_free_lock() -> None:
    if settings.REDIS_URL:
        nightly._redis_lock().redis.delete(cache.make_key(nightly.LOCK_KEY))


@pytest.fixture(autouse=True)
def free_lock():
    force_free_lock()
    yield
    force_free_lock()


def lock_is_free() -> bool:
    token = nightly.lock_acquire()
    if token is None:
        return False
    nightly.lock_release(token)
    return True


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


def steps_of(run_id: int) -> dict[str, NightlyStep]:
    return {step.name: step for step in NightlyStep.objects.filter(run_id=run_id)}


def states_of(run_id: int) -> dict[str, str]:
    return {name: step.state for name, step in steps_of(run_id).items()}


def test_nightly_recompute_in_process_updates_everyone_and_a_second_call_changes_nothing(portfolio):
    first = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()
    changes = StatusChange.objects.count()
    after_first = stored_values()

    second = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()

    assert first["state"] == second["state"] == NightlyRun.State.DONE
    assert set(states_of(first["run"]).values()) == {State.DONE}
    assert steps_of(first["run"])[Step.LIFECYCLE].rows_changed == 8
    assert after_first == expected_values(AS_OF)
    assert steps_of(second["run"])[Step.LIFECYCLE].rows_changed == 0
    assert StatusChange.objects.count() == changes
    assert stored_values() == after_first
    assert lock_is_free()


def test_every_step_is_recorded_with_its_start_duration_and_rows(portfolio):
    result = tasks.nightly_recompute(AS_OF.isoformat())

    run = NightlyRun.objects.get(pk=result["run"])
    assert run.as_of == AS_OF and run.finished_at is not None
    recorded = list(run.steps.all())
    assert [step.name for step in recorded] == Step.values  # in the order they run
    for step in recorded:
        assert step.started_at is not None and step.duration is not None and step.rows_changed is not None, step.name
        assert (step.attempts, step.error) == (1, ""), step.name


def business_state() -> dict:
    """Everything a nightly step writes, without the ids a rewrite renews."""
    return {
        "clients": stored_values(),
        "alerts": list(Client.objects.order_by("pk").values_list("pk", "alert", "alert_reason", "alert_value")),
        "status_changes": sorted(StatusChange.objects.values_list("client_id", "from_status", "to_status", "date")),
        "followups": sorted(FollowUp.objects.values_list("client_id", "origin", "due_at")),
        "snapshots": sorted(DailySnapshot.objects.values_list("date", "owner_id", "status", "alert", "clients", "spend_12m")),
        "recommendations": sorted(Recommendation.objects.values_list("client_id", "kind", "rank", "score")),
        "summaries": list(User.objects.order_by("pk").values_list("morning_summary_sent_on", flat=True)),
    }


STEP_TASKS = {
    Step.LIFECYCLE: tasks.lifecycle_step,
    Step.FOLLOWUPS_COLOURS: tasks.followups_colours_step,
    Step.SNAPSHOTS: tasks.snapshots_step,
    Step.RECOMMENDATIONS: recommendations_step,
    Step.SUMMARIES: tasks.summaries_step,
}


@pytest.mark.parametrize("name", list(STEP_TASKS))
def test_each_step_called_twice_changes_nothing_the_second_time(portfolio, owner, mailoutbox, name):
    owner.email = "comercial@cartera.example"
    owner.save()
    if name != Step.LIFECYCLE:  # the later steps work on recomputed statuses
        lifecycle_recompute(as_of=AS_OF, with_consequences=False)
    run = nightly.run_start(as_of=AS_OF)
    STEP_TASKS[name].delay(run.pk, AS_OF.isoformat()).get()
    after_first, mails = business_state(), len(mailoutbox)

    STEP_TASKS[name].delay(run.pk, AS_OF.isoformat()).get()

    assert business_state() == after_first
    assert len(mailoutbox) == mails
    step = steps_of(run.pk)[name]
    assert (step.state, step.attempts) == (State.DONE, 2)


def test_nightly_recompute_does_nothing_while_another_run_holds_the_lock(portfolio):
    other = nightly.lock_acquire()

    result = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()

    assert result == {"skipped": True}
    assert not NightlyRun.objects.exists()
    assert not Client.objects.exclude(status="prospect").exists()
    assert nightly.lock_release(other)  # still the other run's


def test_only_the_holders_token_frees_the_lock(db):
    token = nightly.lock_acquire()

    assert nightly.lock_acquire() is None
    assert not nightly.lock_release("a-late-callback-of-another-run")
    assert nightly.lock_acquire() is None
    assert nightly.lock_release(token)
    assert lock_is_free()


def test_a_failing_lifecycle_is_recorded_with_its_error_and_frees_the_lock(portfolio, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("segmentation.services.lifecycle_recompute", broken)

    result = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()  # the launcher itself did not fail

    run = NightlyRun.objects.get(pk=result["run"])
    lifecycle = steps_of(run.pk)[Step.LIFECYCLE]
    assert run.state == NightlyRun.State.FAILED and run.finished_at is not None
    assert lifecycle.state == State.FAILED and "RuntimeError: database went away" in lifecycle.error
    assert {name: state for name, state in states_of(run.pk).items() if name != Step.LIFECYCLE} == {
        Step.FOLLOWUPS_COLOURS: State.SKIPPED, Step.SNAPSHOTS: State.SKIPPED, Step.RECOMMENDATIONS: State.SKIPPED,
        Step.SUMMARIES: State.SKIPPED,
    }
    assert lock_is_free()


def test_when_follow_ups_fail_the_error_callback_frees_the_lock_and_nothing_after_them_runs(portfolio, monkeypatch):
    def broken(**kwargs):
        raise ValueError("a rule with a bad day count")

    monkeypatch.setattr("segmentation.services.followups_and_colours_refresh", broken)

    tasks.nightly_recompute(AS_OF.isoformat())

    run = NightlyRun.objects.get()
    assert states_of(run.pk) == {
        Step.LIFECYCLE: State.DONE, Step.FOLLOWUPS_COLOURS: State.FAILED, Step.SNAPSHOTS: State.SKIPPED,
        Step.RECOMMENDATIONS: State.SKIPPED, Step.SUMMARIES: State.SKIPPED,
    }
    assert run.state == NightlyRun.State.FAILED
    assert not DailySnapshot.objects.exists()
    assert lock_is_free()


def test_when_recommendations_fail_the_snapshots_and_the_summaries_still_run(portfolio, owner, mailoutbox, monkeypatch):
    owner.email = "comercial@cartera.example"
    owner.save()

    def broken(**kwargs):
        raise ZeroDivisionError("no baskets")

    monkeypatch.setattr("clients.recommendations.recommendations_recompute", broken)

    result = tasks.nightly_recompute(AS_OF.isoformat())  # not raised: the run carried on

    assert states_of(result["run"]) == {
        Step.LIFECYCLE: State.DONE, Step.FOLLOWUPS_COLOURS: State.DONE, Step.SNAPSHOTS: State.DONE,
        Step.RECOMMENDATIONS: State.FAILED, Step.SUMMARIES: State.DONE,
    }
    assert "ZeroDivisionError: no baskets" in steps_of(result["run"])[Step.RECOMMENDATIONS].error
    assert result["state"] == NightlyRun.State.FAILED
    assert DailySnapshot.objects.filter(date=AS_OF).exists()
    assert [message.to for message in mailoutbox] == [[owner.email]]
    assert lock_is_free()


def test_a_transient_error_is_retried_and_the_step_then_succeeds(portfolio, monkeypatch):
    from clients import recommendations

    real, attempts = recommendations.recommendations_recompute, []

    def flaky(**kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("could not connect to server")
        return real(**kwargs)

    monkeypatch.setattr(recommendations, "recommendations_recompute", flaky)

    result = tasks.nightly_recompute(AS_OF.isoformat())

    step = steps_of(result["run"])[Step.RECOMMENDATIONS]
    assert (step.state, step.attempts, step.error) == (State.DONE, 2, "")
    assert result["state"] == NightlyRun.State.DONE


def test_a_transient_error_that_persists_fails_the_step_after_a_few_attempts(portfolio, monkeypatch):
    def down(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("segmentation.services.snapshots_take", down)

    result = tasks.nightly_recompute(AS_OF.isoformat())

    step = steps_of(result["run"])[Step.SNAPSHOTS]
    assert (step.state, step.attempts) == (State.FAILED, tasks.snapshots_step.max_retries + 1)
    assert "could not connect to server" in step.error
    assert states_of(result["run"])[Step.SUMMARIES] == State.DONE
    assert lock_is_free()


def test_a_step_the_rest_needs_failing_for_good_is_retried_alone_not_the_whole_run(portfolio, monkeypatch):
    def down(**kwargs):
        raise OperationalError("the database is starting up")

    monkeypatch.setattr("segmentation.services.lifecycle_recompute", down)

    result = tasks.nightly_recompute.delay(AS_OF.isoformat()).get()

    lifecycle = NightlyRun.objects.get().steps.get(name=Step.LIFECYCLE)  # one run: the launcher was not retried
    assert (lifecycle.state, lifecycle.attempts) == (State.FAILED, tasks.lifecycle_step.max_retries + 1)
    assert result["state"] == NightlyRun.State.FAILED
    assert lock_is_free()


def test_a_run_whose_worker_died_is_closed_as_failed_when_the_next_one_starts(portfolio):
    dead = nightly.run_start(as_of=AS_OF - dt.timedelta(days=1))
    nightly.step_started(dead.pk, Step.LIFECYCLE)  # then the worker was killed: no callback ever came

    tasks.nightly_recompute(AS_OF.isoformat())

    dead.refresh_from_db()
    assert dead.state == NightlyRun.State.FAILED and dead.finished_at is not None
    assert states_of(dead.pk)[Step.LIFECYCLE] == State.FAILED and "Interrupted" in steps_of(dead.pk)[Step.LIFECYCLE].error
    assert states_of(dead.pk)[Step.SUMMARIES] == State.SKIPPED
    assert NightlyRun.objects.exclude(pk=dead.pk).get().state == NightlyRun.State.DONE


def test_every_stage_has_the_error_callback_and_the_last_steps_are_a_chord(db):
    run = nightly.run_start(as_of=AS_OF)

    workflow, chunks = tasks.nightly_workflow(run.pk, AS_OF, "token", chunk_size=None)

    lifecycle, followups, last = workflow.tasks
    for stage in (lifecycle, followups, last.body):
        assert [errback["task"] for errback in stage.options["link_error"]] == ["segmentation.tasks.nightly_failed"]
    assert [sig["task"] for sig in last.tasks] == [
        "segmentation.tasks.snapshots_step", "clients.tasks.recommendations_step", "segmentation.tasks.summaries_step",
    ]
    assert last.body["task"] == "segmentation.tasks.nightly_finish"
    assert chunks == 0


def test_the_error_callback_fails_the_step_still_running_and_frees_the_lock(db):
    """With a broker, a chunk that fails for good reaches nightly_failed through the chord."""
    from celery.exceptions import ChordError

    token = nightly.lock_acquire()
    run = nightly.run_start(as_of=AS_OF)
    nightly.step_started(run.pk, Step.LIFECYCLE)

    tasks.nightly_failed(None, ChordError("Dependency 42 raised OperationalError('timeout')"), None, run_id=run.pk, token=token)

    lifecycle = steps_of(run.pk)[Step.LIFECYCLE]
    assert lifecycle.state == State.FAILED and "Dependency 42 raised" in lifecycle.error
    assert NightlyRun.objects.get(pk=run.pk).state == NightlyRun.State.FAILED
    assert lock_is_free()


@pytest.fixture
def broker_mode(monkeypatch):
    """task_always_eager off as with a broker, the canvas then applied in-process as a worker would."""
    launched = {}

    def in_process(workflow, run_id, token):
        launched["workflow"] = workflow
        launched["lock_free_during_run"] = lock_is_free()
        with allow_join_result():
            workflow.apply(propagate=False)

    monkeypatch.setattr(tasks, "_launch", in_process)
    previous, current_app.conf.task_always_eager = current_app.conf.task_always_eager, False
    try:
        yield launched
    finally:
        current_app.conf.task_always_eager = previous


def test_with_a_broker_the_run_is_split_into_chunks_that_equal_a_single_run(portfolio, broker_mode):
    result = tasks.nightly_recompute(AS_OF.isoformat(), chunk_size=2)

    ids = sorted(c.pk for c in portfolio)
    chunks = [sig.args[:2] for sig in broker_mode["workflow"].tasks[0].tasks]
    assert result["chunks"] == 5
    assert chunks[0][0] == ids[0] and chunks[-1][1] == ids[-1] + 1
    assert all(hi == next_lo for (_, hi), (next_lo, _) in zip(chunks, chunks[1:], strict=False))
    assert broker_mode["lock_free_during_run"] is False
    assert lock_is_free()  # nightly_finish freed it
    assert stored_values() == expected_values(AS_OF)
    lifecycle = steps_of(result["run"])[Step.LIFECYCLE]
    assert (lifecycle.state, lifecycle.rows_changed) == (State.DONE, 8)
    assert set(states_of(result["run"]).values()) == {State.DONE}


def test_with_a_broker_and_no_clients_the_run_needs_no_chunks(db, broker_mode):
    result = tasks.nightly_recompute(AS_OF.isoformat())

    assert result["chunks"] == 0 and result["state"] == NightlyRun.State.DONE
    assert lock_is_free()


def test_a_chunk_task_without_shared_cuts_computes_them_itself(portfolio):
    ids = sorted(c.pk for c in portfolio)

    tasks.recompute_chunk.delay(ids[0], ids[3], AS_OF.isoformat()).get()
    tasks.recompute_chunk.delay(ids[3], ids[-1] + 1, AS_OF.isoformat()).get()

    assert stored_values() == expected_values(AS_OF)


def test_the_nightly_schedule_is_seeded_at_two_in_madrid(beat_schedule):
    task = PeriodicTask.objects.get(name="Nightly lifecycle recompute")

    assert task.task == "segmentation.tasks.nightly_recompute"
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("0", "2", "Europe/Madrid")


def test_the_chores_have_schedule_entries_of_their_own(beat_schedule):
    entries = {task.name: task for task in PeriodicTask.objects.exclude(name="Nightly lifecycle recompute")}
    for task in entries.values():  # what a worker does at start: import every app's tasks.py
        import_module(task.task.rpartition(".")[0])

    assert {name: (task.task, task.crontab.minute, task.crontab.hour) for name, task in entries.items()} == {
        "Resume interrupted campaigns": ("campaigns.tasks.campaigns_resume", "0", "3"),
        "Purge the trash": ("privacy.tasks.trash_purge", "30", "3"),
        "Requeue stuck imports": ("imports.tasks.imports_requeue", "*/5", "*"),  # moved by imports' 0004
        "Purge unconfirmed imports": ("imports.tasks.imports_purge", "50", "3"),
        "Purge old exports": ("exports.tasks.exports_purge", "45", "3"),
        "Recover stuck exports": ("exports.tasks.exports_recover", "*/5", "*"),
        "Requeue campaigns without a sender": ("campaigns.tasks.campaigns_requeue", "*/5", "*"),
        "Record the campaigns new clients answered": ("campaigns.tasks.campaign_sources_record", "40", "4"),
        "Webhooks: status changes": ("webhooks.tasks.webhooks_scan", "*", "*"),
        "Webhooks: reds and renewals": ("webhooks.tasks.webhooks_scan", "*/15", "*"),
        "Webhooks: send due deliveries": ("webhooks.tasks.deliveries_send_due", "*", "*"),
        "Webhooks: forget old deliveries": ("webhooks.tasks.deliveries_purge", "55", "3"),
    }
    assert all(task.enabled and task.task in current_app.tasks for task in entries.values())


def test_command_prints_clients_per_status_and_the_time(portfolio):
    out = StringIO()

    call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=out)

    text = out.getvalue()
    statuses = {line.split()[0]: int(line.split()[1]) for line in text.splitlines()[:5]}
    assert statuses == {"prospect": 1, "new": 1, "active": 4, "dormant": 2, "lost": 1}
    assert "9 clients, 8 changed, 8 status changes in" in text
    assert Client.objects.get(pk=portfolio[0].pk).status == "new"
    assert lock_is_free()


def test_verify_lists_every_difference_and_changes_nothing_then_finds_none_after_a_run(portfolio):
    before = list(Client.objects.order_by("id").values_list("status", "purchase_count", "total_spent"))
    out = StringIO()

    with pytest.raises(CommandError, match=r"differences in 8 clients"):
        call_command("recompute_lifecycle", "--verify", "--as-of", AS_OF.isoformat(), stdout=out)

    assert f"client {portfolio[0].pk}: status stored prospect, a full recompute gives new" in out.getvalue()
    assert list(Client.objects.order_by("id").values_list("status", "purchase_count", "total_spent")) == before
    assert not StatusChange.objects.exists()
    call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=StringIO())
    out = StringIO()
    call_command("recompute_lifecycle", "--verify", "--as-of", AS_OF.isoformat(), stdout=out)
    assert "match a full recompute" in out.getvalue()


def test_verify_names_a_figure_changed_behind_the_engines_back(portfolio):
    call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=StringIO())
    client = Client.objects.filter(purchase_count__gt=0).order_by("id").first()
    Client.objects.filter(pk=client.pk).update(total_spent=client.total_spent + 1)
    out = StringIO()

    with pytest.raises(CommandError, match="1 differences in 1 clients"):
        call_command("recompute_lifecycle", "--verify", "--as-of", AS_OF.isoformat(), stdout=out)

    assert out.getvalue() == (
        f"client {client.pk}: total_spent stored {client.total_spent + 1:.2f}, a full recompute gives {client.total_spent:.2f}\n"
    )


def test_command_rejects_a_bad_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("recompute_lifecycle", "--as-of", "30/06/2026", stdout=StringIO())


def test_the_command_refuses_while_a_run_holds_the_lock(portfolio):
    token = nightly.lock_acquire()

    with pytest.raises(CommandError, match="under way"):
        call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=StringIO())

    assert not StatusChange.objects.exists()
    nightly.lock_release(token)
    call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=StringIO())
    assert StatusChange.objects.count() == 8


def test_the_command_says_so_when_redis_cannot_be_reached(portfolio, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    with pytest.raises(CommandError, match="cannot be reached"):
        call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=StringIO())

    assert not StatusChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_one_is_refused_and_each_status_change_is_recorded_once(portfolio, monkeypatch):
    from segmentation import services

    real = services.lifecycle_recompute
    holding, tried = threading.Event(), threading.Event()

    def held_open(**kwargs):  # the nightly run, inside its lock, waits until the command has tried
        holding.set()
        tried.wait(timeout=30)
        return real(**kwargs)

    monkeypatch.setattr(services, "lifecycle_recompute", held_open)
    outcome = {}

    def nightly_run():
        try:
            outcome["nightly"] = tasks.nightly_recompute(AS_OF.isoformat())["state"]
        finally:
            connection.close()

    night = threading.Thread(target=nightly_run)
    night.start()
    assert holding.wait(timeout=30)
    try:
        call_command("recompute_lifecycle", "--as-of", AS_OF.isoformat(), stdout=StringIO())
        outcome["command"] = "ran"
    except CommandError:
        outcome["command"] = "refused"
    tried.set()
    night.join(timeout=60)

    assert outcome == {"nightly": NightlyRun.State.DONE, "command": "refused"}
    assert StatusChange.objects.count() == 8
    assert not StatusChange.objects.values("client_id").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_the_nightly_run_books_automatic_follow_ups_and_mails_the_summary_once(portfolio, owner, mailoutbox):
    owner.email = "comercial@cartera.example"
    owner.save()
    first = steps_of(tasks.nightly_recompute.delay(AS_OF.isoformat()).get()["run"])
    second = steps_of(tasks.nightly_recompute.delay(AS_OF.isoformat()).get()["run"])

    # The clients 100 and 200 days without buying turned dormant; the one 10 days in is new.
    assert first[Step.FOLLOWUPS_COLOURS].detail["followups_created"] == {"reactivation": 2, "renewal": 0, "welcome": 1}
    assert first[Step.SUMMARIES].rows_changed == 1
    assert [message.to for message in mailoutbox] == [[owner.email]]
    assert second[Step.FOLLOWUPS_COLOURS].detail["followups_created"] == {"reactivation": 0, "renewal": 0, "welcome": 0}
    assert second[Step.SUMMARIES].rows_changed == 0
