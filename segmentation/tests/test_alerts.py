"""The colour alert (segmentation/alerts.py): every rule at its boundaries, priority, idempotency."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from clients.models import Client, FollowUp
from clients.tests.factories import ClientFactory, ContractFactory, FollowUpFactory, InteractionFactory
from segmentation.alerts import recompute_alerts
from segmentation.models import LifecycleSettings
from segmentation.rules import Thresholds

MADRID = ZoneInfo("Europe/Madrid")
NOW = dt.datetime(2026, 11, 12, 12, 0, tzinfo=MADRID)
TODAY = NOW.date()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def iso(day: dt.date) -> str:
    return day.isoformat()


def followup(at: dt.datetime, **kwargs):
    return lambda c: FollowUpFactory(client=c, due_at=at, **kwargs)


def interaction(at: dt.datetime, awaiting: bool = False):
    return lambda c: InteractionFactory(client=c, happened_at=at, awaiting_reply=awaiting)


def contract(end: dt.date, renewal: str = "pending"):
    return lambda c: ContractFactory(client=c, start_date=end - days(365), end_date=end, renewal_status=renewal)


OLD = {"created_at": NOW - days(200)}
ACTIVE_OLD = {"status": "active", **OLD}

# (case, client fields, setups, expected (alert, reason, value))
CASES = [
    ("nothing", {}, [], ("", "", "")),
    ("overdue by 1 day", {}, [followup(NOW - days(1))], ("red", "followup_overdue", iso(TODAY - days(1)))),
    ("overdue earlier today", {}, [followup(NOW - dt.timedelta(hours=2))], ("red", "followup_overdue", iso(TODAY))),
    ("oldest overdue counts", {}, [followup(NOW - days(1)), followup(NOW - days(5))], ("red", "followup_overdue", iso(TODAY - days(5)))),
    ("overdue but done", {}, [followup(NOW - days(1), status="done")], ("", "", "")),
    ("due later today", {}, [followup(NOW + dt.timedelta(hours=3))], ("yellow", "followup_due_soon", iso(TODAY))),
    ("due in 2 days", {}, [followup(NOW + days(2))], ("yellow", "followup_due_soon", iso(TODAY + days(2)))),
    ("due in 3 days", {}, [followup(NOW + days(3))], ("", "", "")),
    ("awaiting 7 days", {}, [interaction(NOW - days(7), awaiting=True)], ("green", "awaiting_reply", iso(TODAY - days(7)))),
    ("awaiting 8 days", {}, [interaction(NOW - days(8), awaiting=True)], ("yellow", "awaiting_too_long", iso(TODAY - days(8)))),
    (
        "awaiting, but a later interaction", {},
        [interaction(NOW - days(3), awaiting=True), interaction(NOW - days(1))], ("", "", ""),
    ),
    ("contact 45 days ago", ACTIVE_OLD, [interaction(NOW - days(45))], ("", "", "")),
    ("contact 46 days ago", ACTIVE_OLD, [interaction(NOW - days(46))], ("yellow", "no_contact", iso(TODAY - days(46)))),
    ("never contacted, created 46 days ago", {"status": "new", "created_at": NOW - days(46)}, [], ("yellow", "no_contact", "")),
    ("never contacted, created 45 days ago", {"status": "new", "created_at": NOW - days(45)}, [], ("", "", "")),
    ("no contact but a step scheduled", ACTIVE_OLD, [followup(NOW + days(20))], ("", "", "")),
    ("no contact, prospect", {"status": "prospect", **OLD}, [], ("", "", "")),
    ("no contact, lost", {"status": "lost", **OLD}, [], ("", "", "")),
    (
        "valuable dormant 7 days", {"status": "dormant", "volume_tier": "high", "status_since": TODAY - days(7)}, [],
        ("red", "valuable_dormant", iso(TODAY - days(7))),
    ),
    (
        "valuable dormant 8 days", {"status": "dormant", "volume_tier": "very_high", "status_since": TODAY - days(8)}, [],
        ("", "", ""),
    ),
    ("dormant, medium volume", {"status": "dormant", "volume_tier": "medium", "status_since": TODAY}, [], ("", "", "")),
    ("contract ends in 30 days", {}, [contract(TODAY + days(30))], ("red", "contract_renewal", iso(TODAY + days(30)))),
    ("contract ends today", {}, [contract(TODAY)], ("red", "contract_renewal", iso(TODAY))),
    ("contract ends in 31 days", {}, [contract(TODAY + days(31))], ("", "", "")),
    ("contract ended yesterday", {}, [contract(TODAY - days(1))], ("", "", "")),
    ("contract in negotiation", {}, [contract(TODAY + days(10), renewal="negotiating")], ("", "", "")),
    ("contract with a pending follow-up", {}, [contract(TODAY + days(10)), followup(NOW + days(20))], ("", "", "")),
    # Priority: red > yellow > green, and the order of the rules within a colour.
    (
        "overdue beats awaiting", {}, [followup(NOW - days(2)), interaction(NOW - days(1), awaiting=True)],
        ("red", "followup_overdue", iso(TODAY - days(2))),
    ),
    (
        "contract beats awaiting too long", {}, [contract(TODAY + days(5)), interaction(NOW - days(9), awaiting=True)],
        ("red", "contract_renewal", iso(TODAY + days(5))),
    ),
    (
        "due soon beats awaiting reply", {}, [followup(NOW + days(1)), interaction(NOW - days(1), awaiting=True)],
        ("yellow", "followup_due_soon", iso(TODAY + days(1))),
    ),
    (
        "awaiting too long beats no contact", ACTIVE_OLD, [interaction(NOW - days(60), awaiting=True)],
        ("yellow", "awaiting_too_long", iso(TODAY - days(60))),
    ),
    (
        "valuable dormant beats no contact",
        {"status": "dormant", "volume_tier": "high", "status_since": TODAY - days(1), **OLD}, [],
        ("red", "valuable_dormant", iso(TODAY - days(1))),
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "setups", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_alert_rules(owner, fields, setups, expected):
    record = ClientFactory(owner=owner, **fields)
    ClientFactory(owner=owner)  # a neighbour with nothing, to show the rules are per client
    for setup in setups:
        setup(record)
    recompute_alerts(NOW, Thresholds())
    record.refresh_from_db()
    assert (record.alert, record.alert_reason, record.alert_value) == expected


@pytest.mark.django_db
def test_the_valuable_dormant_rule_can_be_switched_off(owner):
    record = ClientFactory(owner=owner, status="dormant", volume_tier="high", status_since=TODAY - days(1), **OLD)
    recompute_alerts(NOW, Thresholds(valuable_dormant_enabled=False))
    record.refresh_from_db()
    # The next rule that holds decides: nothing is scheduled and the last contact is old.
    assert (record.alert, record.alert_reason) == ("yellow", "no_contact")


@pytest.mark.django_db
def test_thresholds_are_the_settings_day_counts(owner):
    record = ClientFactory(owner=owner)
    FollowUpFactory(client=record, due_at=NOW + days(3))
    recompute_alerts(NOW, Thresholds(due_soon_days=3))
    record.refresh_from_db()
    assert record.alert_reason == "followup_due_soon"
    settings = LifecycleSettings.current()
    settings.due_soon_days = 3
    settings.save()
    assert settings.thresholds().due_soon_days == 3


@pytest.mark.django_db
def test_second_run_changes_nothing_and_a_scoped_run_only_its_clients(owner):
    overdue, waiting, idle = (ClientFactory(owner=owner) for _ in range(3))
    FollowUpFactory(client=overdue, due_at=NOW - days(1))
    InteractionFactory(client=waiting, happened_at=NOW - days(1), awaiting_reply=True)
    assert recompute_alerts(NOW, Thresholds()) == 2
    assert recompute_alerts(NOW, Thresholds()) == 0
    FollowUpFactory(client=idle, due_at=NOW - days(3))
    FollowUpFactory(client=waiting, due_at=NOW - days(3))
    assert recompute_alerts(NOW, Thresholds(), [idle.pk]) == 1
    assert Client.objects.get(pk=waiting.pk).alert == "green"  # out of scope: untouched
    assert Client.objects.get(pk=idle.pk).alert == "red"
    assert recompute_alerts(NOW, Thresholds(), []) == 0


@pytest.mark.django_db
def test_recording_an_interaction_on_the_client_page_refreshes_the_colour(client, owner):
    record = ClientFactory(owner=owner, status="active", created_at=timezone.now() - days(100))
    recompute_alerts(timezone.now(), Thresholds())
    record.refresh_from_db()
    assert (record.alert, record.alert_reason) == ("yellow", "no_contact")
    client.force_login(owner)
    response = client.post(
        reverse("clients:interaction_create", args=[record.pk]),
        {
            "kind": "email", "direction": "outbound", "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "summary": "Enviada la oferta", "outcome": "offer_sent", "awaiting_reply": "on",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.alert, record.alert_reason, record.alert_value) == (
        "green", "awaiting_reply", timezone.localdate().isoformat(),
    )
    page = client.get(record.get_absolute_url()).content.decode()
    day = timezone.localdate().strftime("%d/%m/%Y")
    assert f"Esperando su respuesta desde el {day}" in page


@pytest.mark.django_db
def test_scheduling_a_follow_up_on_the_client_page_refreshes_the_colour(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    tomorrow = timezone.localdate() + days(1)
    response = client.post(
        reverse("clients:followup_create", args=[record.pk]),
        {"kind": "call", "due_date": tomorrow.isoformat(), "due_time": "10:00", "notes": ""},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.alert, record.alert_reason, record.alert_value) == ("yellow", "followup_due_soon", tomorrow.isoformat())


@pytest.mark.parametrize(
    ("reason", "value", "spanish", "english"),
    [
        ("followup_overdue", "3", "Seguimiento vencido hace 3 días", "Follow-up overdue for 3 days"),
        ("followup_overdue", "1", "Seguimiento vencido hace 1 día", "Follow-up overdue for 1 day"),
        ("followup_overdue", "0", "Seguimiento vencido hoy", "Follow-up overdue since earlier today"),
        ("awaiting_reply", "2026-11-12", "Esperando su respuesta desde el 12/11/2026", "Waiting for their answer since 11/12/2026"),
        ("no_contact", "", "Nunca contactado", "Never contacted"),
        ("no_contact", "2026-09-27", "Sin contacto desde el 27/09/2026", "No contact since 09/27/2026"),
        ("", "", "", ""),
    ],
)
def test_alert_text_in_spanish_and_english(reason, value, spanish, english):
    record = Client(alert_reason=reason, alert_value=value)
    with translation.override("es"):
        assert record.alert_text() == spanish
    with translation.override("en"):
        assert record.alert_text() == english


def test_every_reason_has_words():
    for reason, value in [
        ("valuable_dormant", "2026-11-10"), ("contract_renewal", "2026-12-01"), ("followup_due_soon", "2026-11-13"),
        ("awaiting_too_long", "2026-11-01"),
    ]:
        with translation.override("es"):
            text = Client(alert_reason=reason, alert_value=value).alert_text()
        assert text and "%(" not in text


@pytest.mark.django_db
def test_alert_day_counts_must_be_positive():
    settings = LifecycleSettings(due_soon_days=0, contact_cadence_days=0)
    with pytest.raises(ValidationError) as error:
        settings.clean()
    assert {"due_soon_days", "contact_cadence_days"} <= set(error.value.message_dict)


@pytest.mark.django_db
def test_the_nightly_paths_recompute_every_alert(owner):
    from segmentation.nightly import run_start
    from segmentation.services import lifecycle_recompute
    from segmentation.tasks import followups_colours_step

    late, waiting = ClientFactory(owner=owner), ClientFactory(owner=owner)
    FollowUpFactory(client=late, due_at=timezone.now() - days(2))
    result = lifecycle_recompute()
    assert result["alerts_changed"] == 1
    assert Client.objects.get(pk=late.pk).alert == "red"
    InteractionFactory(client=waiting, happened_at=timezone.now() - days(1), awaiting_reply=True)
    run = run_start(as_of=timezone.localdate())
    merged = followups_colours_step.delay(run.pk, timezone.localdate().isoformat()).get()
    assert merged["alerts_changed"] == 1
    assert Client.objects.get(pk=waiting.pk).alert == "green"


@pytest.mark.django_db
def test_a_purchase_refresh_also_refreshes_the_alert(owner):
    from segmentation.services import lifecycle_refresh_client

    record = ClientFactory(owner=owner)
    FollowUpFactory(client=record, due_at=timezone.now() - days(1))
    lifecycle_refresh_client(record.pk)
    assert Client.objects.get(pk=record.pk).alert_reason == "followup_overdue"


@pytest.mark.django_db
def test_a_long_list_of_clients_goes_through_a_table_of_ids(owner):
    from segmentation.alerts import INLINE_IDS

    record, neighbour = ClientFactory(owner=owner), ClientFactory(owner=owner)
    for someone in (record, neighbour):
        FollowUpFactory(client=someone, due_at=NOW - days(1))
    unknown_ids = list(range(10**9, 10**9 + INLINE_IDS + 1))  # an import's worth of ids, past the inline limit
    assert recompute_alerts(NOW, Thresholds(), [record.pk, *unknown_ids]) == 1
    record.refresh_from_db()
    neighbour.refresh_from_db()
    assert (record.alert, neighbour.alert) == ("red", "")


def test_an_overdue_follow_up_counts_its_days_from_its_stored_due_date():
    """The value is the due date (stable from night to night); the words count the days to today."""
    three_days_ago = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    with translation.override("en"):
        assert Client(alert_reason="followup_overdue", alert_value=three_days_ago).alert_text() == "Follow-up overdue for 3 days"
        today = timezone.localdate().isoformat()
        assert Client(alert_reason="followup_overdue", alert_value=today).alert_text() == "Follow-up overdue since earlier today"


@pytest.mark.django_db
def test_a_recompute_of_everyone_writes_only_the_colours_that_moved(owner):
    """The candidates are compared with their stored colour before the UPDATE: a second run
    writes nothing, and a moved follow-up rewrites its client alone."""
    calm, busy = ClientFactory(owner=owner), ClientFactory(owner=owner)
    followup = FollowUpFactory(client=busy, due_at=NOW + days(10))
    recompute_alerts(NOW, Thresholds())
    assert recompute_alerts(NOW, Thresholds()) == 0
    FollowUp.objects.filter(pk=followup.pk).update(due_at=NOW - days(1))
    before = Client.objects.get(pk=calm.pk).alert_reason
    assert recompute_alerts(NOW, Thresholds()) == 1
    assert Client.objects.get(pk=busy.pk).alert_reason == "followup_overdue"
    assert Client.objects.get(pk=calm.pk).alert_reason == before
    assert recompute_alerts(NOW, Thresholds(), [calm.pk, busy.pk]) == 0  # a few clients: the nested statement
