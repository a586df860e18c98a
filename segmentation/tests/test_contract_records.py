"""Contracts renewed, ended and proposals sent (segmentation/records.py), who may do it, and the
dashboard's renewal figures."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from audit.models import AuditEntry
from clients.models import Alert, AlertReason, Client, ClientShare, Contract, FollowUp
from clients.renewals import may_manage_contracts, renewal_defaults
from clients.tests.factories import ClientFactory, ContractFactory
from segmentation import records
from segmentation.automation import automatic_followups_create
from segmentation.dashboard import dashboard_build
from segmentation.models import LifecycleSettings
from segmentation.services import current_thresholds

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The services write and refuse in the active language: these tests read them in English."""
    with translation.override("en"):
        yield

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def trace(contract_or_client, subject: str = "contract") -> list[tuple[str, int, dict]]:
    client_id = contract_or_client.pk if isinstance(contract_or_client, Client) else contract_or_client.client_id
    rows = AuditEntry.objects.filter(client_id=client_id, subject=subject).order_by("id")
    return [(entry.action, entry.object_id, entry.changes) for entry in rows]


def ending_soon(owner, *, by=None, **fields) -> Contract:
    """A contract within the renewal call window: contract_create books its renewal call."""
    record = fields.pop("client", None) or ClientFactory(owner=owner)
    data = {"title": "Mantenimiento", "start_date": days(-345), "end_date": days(20), "value": Decimal("1200"), **fields}
    return records.contract_create(client=record, by=by or owner, **data)


def renewal_call(contract: Contract) -> FollowUp:
    return FollowUp.objects.get(client_id=contract.client_id, origin="renewal", origin_key=str(contract.pk))


def automatic_renewal_calls(enabled: bool) -> None:
    settings = LifecycleSettings.current()
    settings.auto_renewal_enabled = enabled
    settings.save()


# Renewing

def test_renewal_defaults_to_the_next_term_of_the_same_length():
    old = Contract(title="Soporte", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31), value=Decimal("900"))
    assert renewal_defaults(old) == {
        "title": "Soporte", "value": Decimal("900"), "start_date": dt.date(2027, 1, 1), "end_date": dt.date(2027, 12, 31),
    }


def test_renewal_defaults_survive_a_term_ending_on_the_last_day_of_the_calendar():
    old = Contract(title="x", start_date=dt.date(9999, 1, 1), end_date=dt.date.max, value=Decimal("1"))
    assert renewal_defaults(old)["start_date"] == dt.date.max


def test_renewing_creates_the_next_term_and_cancels_the_renewal_call(owner):
    old = ending_soon(owner)
    call = renewal_call(old)
    assert call.status == FollowUp.State.PENDING

    new = records.contract_renew(contract=old, by=owner)

    old.refresh_from_db()
    call.refresh_from_db()
    assert old.renewal_status == Contract.Renewal.RENEWED and old.renewal == new
    assert (new.title, new.value, new.renewal_status) == ("Mantenimiento", Decimal("1200.00"), Contract.Renewal.PENDING)
    assert new.start_date == days(21) and new.end_date == days(21) + (days(20) - days(-345))
    assert call.status == FollowUp.State.CANCELLED and call.cancel_reason == "Contract renewed" and call.sequence == 1
    assert [(action, pk) for action, pk, _c in trace(old)] == [("create", old.pk), ("create", new.pk), ("renew", old.pk)]
    assert trace(old)[-1][2] == {"renewal_status": ["pending", "renewed"]}
    assert trace(old)[1][2]["renewed_from"] == ["", "Mantenimiento"]
    assert [(a, c["status"]) for a, _pk, c in trace(old, "followup")] == [("cancel", ["pending", "cancelled"])]
    # The new term ends in a year: no renewal call for it yet.
    assert not FollowUp.objects.filter(origin="renewal", origin_key=str(new.pk)).exists()


def test_renewing_takes_the_terms_typed_on_the_form(owner):
    old = ending_soon(owner)
    new = records.contract_renew(
        contract=old, by=owner, title="Mantenimiento 2027", start_date=days(25), end_date=days(25 + 180),
        value=Decimal("1350.555"), notes="subida IPC",
    )
    assert (new.title, new.start_date, new.end_date, new.value, new.notes) == (
        "Mantenimiento 2027", days(25), days(205), Decimal("1350.56"), "subida IPC",
    )


def test_a_contract_is_renewed_once(owner):
    old = ending_soon(owner)
    records.contract_renew(contract=old, by=owner)
    with pytest.raises(ValidationError, match="already renewed or ended"):
        records.contract_renew(contract=old, by=owner)
    assert Contract.objects.filter(client_id=old.client_id).count() == 2


def test_a_renewal_ending_before_it_starts_writes_nothing(owner):
    old = ending_soon(owner)
    with pytest.raises(ValidationError):
        records.contract_renew(contract=old, by=owner, start_date=days(30), end_date=days(29))
    old.refresh_from_db()
    assert old.renewal_status == Contract.Renewal.PENDING and renewal_call(old).status == FollowUp.State.PENDING
    assert Contract.objects.filter(client_id=old.client_id).count() == 1


def test_renewing_clears_the_red_of_a_contract_ending_without_renewal_action(owner):
    automatic_renewal_calls(False)  # no call booked: the contract alone turns the client red
    old = ending_soon(owner)
    client = Client.objects.get(pk=old.client_id)
    assert (client.alert, client.alert_reason) == (Alert.RED, AlertReason.CONTRACT_RENEWAL)
    records.contract_renew(contract=old, by=owner)
    client.refresh_from_db()
    assert client.alert_reason != AlertReason.CONTRACT_RENEWAL


# Ending

def test_ending_a_contract_early_moves_its_end_and_loses_the_renewal(owner):
    contract = ending_soon(owner, notes="firmado en feria")
    records.contract_end(contract=contract, by=owner, ended_on=days(3), reason="competitor", notes="se va a la competencia")
    contract.refresh_from_db()
    assert (contract.renewal_status, contract.ended_on, contract.end_reason, contract.end_date) == (
        Contract.Renewal.NOT_RENEWING, days(3), "competitor", days(3),
    )
    assert contract.notes == "firmado en feria\nse va a la competencia"
    action, _pk, changes = trace(contract)[-1]
    assert action == "end" and changes["end_date"] == [days(20).isoformat(), days(3).isoformat()]
    assert changes["renewal_status"] == ["pending", "not_renewing"] and changes["end_reason"] == ["", "competitor"]
    call = renewal_call(contract)
    assert call.status == FollowUp.State.CANCELLED and call.cancel_reason == "Contract ended"


def test_ending_after_the_end_date_keeps_the_end_date(owner):
    contract = ending_soon(owner)
    records.contract_end(contract=contract, by=owner, ended_on=days(40), reason="price")
    contract.refresh_from_db()
    assert (contract.end_date, contract.ended_on) == (days(20), days(40))


def test_a_contract_cannot_end_before_it_starts(owner):
    contract = ending_soon(owner)
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        records.contract_end(contract=contract, by=owner, ended_on=days(-346), reason="price")
    contract.refresh_from_db()
    assert contract.renewal_status == Contract.Renewal.PENDING and contract.ended_on is None
    assert [action for action, _pk, _c in trace(contract)] == ["create"]


@pytest.mark.parametrize("reason", ["", "bored"])
def test_ending_needs_a_known_reason(owner, reason):
    contract = ending_soon(owner)
    with pytest.raises(ValidationError):
        records.contract_end(contract=contract, by=owner, ended_on=TODAY, reason=reason)


def test_a_renewed_or_ended_contract_is_not_ended_again(owner):
    renewed = ending_soon(owner)
    records.contract_renew(contract=renewed, by=owner)
    ended = ending_soon(owner)
    records.contract_end(contract=ended, by=owner, ended_on=TODAY, reason="price")
    for contract in (renewed, ended):
        with pytest.raises(ValidationError):
            records.contract_end(contract=contract, by=owner, ended_on=TODAY, reason="other")


# Proposal sent

def test_a_proposal_sent_leaves_the_renewal_window_of_the_automatic_call(owner):
    automatic_renewal_calls(False)
    contract = ending_soon(owner)
    records.contract_proposal_sent(contract=contract, by=owner)
    contract.refresh_from_db()
    assert contract.renewal_status == Contract.Renewal.IN_NEGOTIATION
    assert trace(contract)[-1][:1] == ("update",) and trace(contract)[-1][2] == {"renewal_status": ["pending", "negotiating"]}
    client = Client.objects.get(pk=contract.client_id)
    assert client.alert_reason != AlertReason.CONTRACT_RENEWAL
    automatic_renewal_calls(True)
    assert automatic_followups_create(as_of=TODAY, thresholds=current_thresholds())["renewal"] == 0
    with pytest.raises(ValidationError):
        records.contract_proposal_sent(contract=contract, by=owner)


# Who may change contracts

@pytest.mark.parametrize(("persona", "allowed"), [
    ("owner", True), ("manager", True), ("admin_user", True), ("teammate", False), ("outsider", False),
    ("other_manager", False),
])
def test_who_manages_a_clients_contracts(request, owner, persona, allowed):
    user = request.getfixturevalue(persona)
    record = ClientFactory(owner=owner)
    ClientShare.objects.create(client=record, user=request.getfixturevalue("teammate"))
    assert may_manage_contracts(user, record) is allowed


@pytest.mark.parametrize("persona", ["teammate", "other_manager"])
def test_a_colleague_who_only_sees_the_client_changes_no_contract(request, owner, persona):
    user = request.getfixturevalue(persona)
    record = ClientFactory(owner=owner)
    ClientShare.objects.create(client=record, user=user)
    contract = ending_soon(owner, client=record)
    calls = [
        lambda: records.contract_create(client=record, by=user, title="x", start_date=TODAY, end_date=TODAY),
        lambda: records.contract_update(contract=contract, by=user, title="y"),
        lambda: records.contract_renew(contract=contract, by=user),
        lambda: records.contract_end(contract=contract, by=user, ended_on=TODAY, reason="price"),
        lambda: records.contract_proposal_sent(contract=contract, by=user),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    contract.refresh_from_db()
    assert (contract.title, contract.renewal_status) == ("Mantenimiento", Contract.Renewal.PENDING)
    assert Contract.objects.filter(client=record).count() == 1


def test_the_owners_gerente_and_an_administrador_renew_and_end(owner, manager, admin_user):
    new = records.contract_renew(contract=ending_soon(owner), by=manager)
    records.contract_end(contract=new, by=admin_user, ended_on=new.start_date, reason="no_need")
    entries = AuditEntry.objects.filter(client_id=new.client_id, subject="contract").order_by("id")
    assert [(e.action, e.user) for e in entries] == [
        ("create", owner), ("create", manager), ("renew", manager), ("end", admin_user),
    ]


# The dashboard

def _night() -> None:
    """The night's dashboard snapshots of today (the board's day) without the rest of the run."""
    from segmentation.snapshots import renewal_snapshot_take, snapshot_take

    snapshot_take(day=TODAY)
    renewal_snapshot_take(day=TODAY)


@pytest.mark.parametrize("night", [False, True], ids=["live", "from the night's snapshot"])
def test_the_dashboard_shows_the_renewal_rate_of_the_last_12_months(owner, teammate, manager, outsider, night):
    mine, theirs = ClientFactory(owner=owner), ClientFactory(owner=teammate)
    in_period = {"start_date": days(-500), "end_date": days(-30)}
    ContractFactory(client=mine, value=Decimal("1000"), renewal_status="renewed", **in_period)
    ContractFactory(client=theirs, value=Decimal("500"), renewal_status="renewed", **in_period)
    ContractFactory(client=mine, value=Decimal("300"), renewal_status="not_renewing", **in_period)
    ContractFactory(client=mine, value=Decimal("700"), renewal_status="pending", **in_period)  # undecided: not counted
    ContractFactory(client=mine, value=Decimal("9000"), renewal_status="renewed", start_date=days(-900),
                    end_date=days(-400))  # before the period
    ContractFactory(client=mine, value=Decimal("9000"), renewal_status="renewed")  # comes to term later
    ContractFactory(client=ClientFactory(owner=outsider), value=Decimal("9000"), renewal_status="not_renewing",
                    **in_period)  # another team's
    if night:
        _night()
        from segmentation.models import RenewalSnapshot

        assert RenewalSnapshot.objects.count() == 4  # the decided ones of the period, every team's

    team = dashboard_build(user=manager).renewals
    assert (team["renewed"], team["lost"], team["rate"]) == (2, 1, 66.7)
    assert (team["renewed_value"], team["lost_value"]) == (Decimal("1500.00"), Decimal("300.00"))
    assert (team["since"], team["until"]) == (days(-364), TODAY)
    own = dashboard_build(user=owner).renewals
    assert (own["renewed"], own["lost"], own["rate"], own["renewed_value"]) == (1, 1, 50.0, Decimal("1000.00"))


def test_the_renewal_rate_counts_the_contracts_saved_since_the_night_as_they_are_now(owner, manager):
    """The night's rows less the contracts saved since (their updated_at), counted again as they
    are; a contract deleted since takes its row with it."""
    from segmentation.models import RenewalSnapshot

    mine = ClientFactory(owner=owner)
    in_period = {"start_date": days(-500), "end_date": days(-30)}
    renewed = ContractFactory(client=mine, value=Decimal("1000"), renewal_status="renewed", **in_period)
    lost = ContractFactory(client=mine, value=Decimal("300"), renewal_status="not_renewing", **in_period)
    undecided = ContractFactory(client=mine, value=Decimal("700"), renewal_status="negotiating", **in_period)
    _night()
    assert RenewalSnapshot.objects.count() == 2
    board = dashboard_build(user=manager).renewals
    assert (board["renewed"], board["lost"], board["rate"]) == (1, 1, 50.0)
    # Decided this morning: counted at once.
    undecided.renewal_status = "renewed"
    undecided.save()
    # A correction of a night's row: counted as it is now, not twice.
    lost.value = Decimal("350")
    lost.save()
    board = dashboard_build(user=manager).renewals
    assert (board["renewed"], board["lost"], board["renewed_value"], board["lost_value"]) == (
        2, 1, Decimal("1700.00"), Decimal("350.00"),
    )
    renewed.delete()
    board = dashboard_build(user=manager).renewals
    assert (board["renewed"], board["lost"], board["rate"]) == (1, 1, 50.0)
    # The same as a count from scratch.
    RenewalSnapshot.objects.all().delete()
    assert dashboard_build(user=manager).renewals == board


def test_the_renewal_rate_is_blank_when_nothing_came_to_term(owner):
    assert dashboard_build(user=owner).renewals["rate"] is None


def test_the_dashboard_card_says_its_period_and_figures(client, owner, manager):
    from segmentation.services import lifecycle_recompute

    record = ClientFactory(owner=owner)
    ContractFactory(client=record, value=Decimal("1000"), renewal_status="renewed", start_date=days(-400), end_date=days(-3))
    ContractFactory(client=record, value=Decimal("250"), renewal_status="not_renewing", start_date=days(-400),
                    end_date=days(-2))
    lifecycle_recompute()  # the dashboard shows its figures once a snapshot exists
    client.force_login(manager)
    content = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    card = content[content.index('data-testid="renewal-rate"'):]
    assert "Contract renewals, last 12 months" in card
    assert f"from {days(-364).strftime('%m/%d/%Y')} to {TODAY.strftime('%m/%d/%Y')}" in card
    assert 'data-testid="renewal-rate-value">50.0 %' in card
    assert "Renewed (1 contract)" in card and "Lost (1 contract)" in card
    assert "€1,000.00" in card and "€250.00" in card
