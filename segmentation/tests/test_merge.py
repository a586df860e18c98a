"""Merging two clients (segmentation/merge.py): every kind of record moves, the figures are those
of a fresh recompute, a "no" to a consent wins, and a merge that fails writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.utils import timezone

from audit.models import AuditEntry
from campaigns.models import Campaign, Consent, ConsentChange, ConsentSource, Purpose, Recipient, SurveyAnswer
from clients.models import Client, ClientShare, Contract, FollowUp, Interaction, Purchase
from clients.tests.factories import (
    CategoryFactory,
    ClientFactory,
    ContractFactory,
    FollowUpFactory,
    InteractionFactory,
    PurchaseFactory,
)
from segmentation import merge
from segmentation.records import client_update
from segmentation.segments import segment_create
from segmentation.services import lifecycle_refresh_client

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def campaign_of(user, name="Encuesta") -> Campaign:
    segment = segment_create(owner=user, name=f"Segmento {name}", shared=False, query=QueryDict(""))
    return Campaign.objects.create(
        name=name, goal=Campaign.Goal.SURVEY, segment=segment, created_by=user, subject="s", body="b",
        state=Campaign.State.DONE, launched_at=timezone.now(),
    )


def consent(client, purpose, granted):
    Consent.objects.create(client=client, purpose=purpose, granted=granted, source=ConsentSource.FORM)
    ConsentChange.objects.create(client=client, purpose=purpose, granted=granted, source=ConsentSource.FORM)


def figures(client_id: int) -> tuple:
    client = Client.objects.get(pk=client_id)
    return (
        client.status, client.status_since, client.first_purchase_date, client.last_purchase_date,
        client.purchase_count, client.total_spent, client.spend_12m, client.average_basket, client.alert,
    )


@pytest.fixture
def pair(owner, teammate):
    survivor = ClientFactory(owner=owner, first_name="Ana", last_name="Pérez", email="ana@b.es", phone="", city="Soria")
    absorbed = ClientFactory(
        owner=teammate, first_name="Ana María", last_name="Pérez", email="ana.old@b.es", phone="612000111",
        city="Soria", client_ref="ERP-7",
    )
    return survivor, absorbed


def test_the_survivor_takes_every_record_and_its_figures_are_a_fresh_recompute(pair, manager, owner, teammate, outsider):
    survivor, absorbed = pair
    interest_a, interest_b = CategoryFactory(), CategoryFactory()
    survivor.interests.add(interest_a)
    absorbed.interests.add(interest_b)
    PurchaseFactory(client=survivor, date=TODAY - dt.timedelta(days=400), amount=Decimal("50.00"))
    moved_purchases = [PurchaseFactory(client=absorbed, date=TODAY - dt.timedelta(days=d)) for d in (20, 5)]
    lifecycle_refresh_client(survivor.pk)
    lifecycle_refresh_client(absorbed.pk)
    interaction = InteractionFactory(client=absorbed, user=teammate)
    followup = FollowUpFactory(client=absorbed, assigned_to=teammate)
    contract = ContractFactory(client=absorbed)
    ClientShare.objects.create(client=absorbed, user=outsider)
    ClientShare.objects.create(client=absorbed, user=owner)  # the survivor's owner: no share with themselves
    client_update(by=teammate, client=absorbed, data={"notes": "Prefiere las tardes"})  # a history entry
    campaign = campaign_of(manager)
    recipient = Recipient.objects.create(campaign=campaign, client=absorbed, status_at_launch="active")
    answer = SurveyAnswer.objects.create(recipient=recipient, client=absorbed, score=9)
    consent(absorbed, Purpose.NEWSLETTER, True)

    result = merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={"phone": "absorbed"})

    assert result.pk == survivor.pk
    assert set(Purchase.objects.filter(client=survivor).values_list("pk", flat=True)) >= {p.pk for p in moved_purchases}
    assert Purchase.objects.filter(client=survivor).count() == 3
    for model, row in ((Interaction, interaction), (FollowUp, followup), (Contract, contract), (Recipient, recipient),
                       (SurveyAnswer, answer)):
        assert model.objects.get(pk=row.pk).client_id == survivor.pk
    assert Consent.objects.get(purpose=Purpose.NEWSLETTER).client_id == survivor.pk
    assert not AuditEntry.objects.filter(client=absorbed).exclude(action=AuditEntry.Action.MERGE).exists()
    assert AuditEntry.objects.filter(client=survivor, action=AuditEntry.Action.UPDATE, changes__notes__1="Prefiere las tardes").exists()
    # Shares united; the absorbed client's owner keeps seeing it; nobody shares with the owner.
    assert set(ClientShare.objects.filter(client=survivor).values_list("user", flat=True)) == {outsider.pk, teammate.pk}
    assert not ClientShare.objects.filter(client=absorbed).exists()
    assert set(survivor.interests.all()) == {interest_a, interest_b}

    survivor.refresh_from_db()
    assert (survivor.first_name, survivor.email, survivor.phone, survivor.owner) == ("Ana", "ana@b.es", "612000111", owner)
    after_merge = figures(survivor.pk)
    lifecycle_refresh_client(survivor.pk)
    assert figures(survivor.pk) == after_merge  # as a fresh recompute leaves them
    assert after_merge[4:6] == (3, Decimal("250.00"))

    absorbed.refresh_from_db()
    assert absorbed.merged_into == survivor and absorbed.deleted_at is not None and absorbed.client_ref == ""
    assert not Client.objects.visible_to(manager).filter(pk=absorbed.pk).exists()
    assert AuditEntry.objects.get(client=absorbed, action=AuditEntry.Action.MERGE).changes["client_ref"] == ["ERP-7", ""]
    entry = AuditEntry.objects.get(client=survivor, action=AuditEntry.Action.MERGE)
    assert entry.changes["phone"] == ["", "612000111"] and entry.version == survivor.version


def test_the_survivor_may_take_the_absorbed_reference(pair, manager):
    survivor, absorbed = pair
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={"client_ref": "absorbed"})
    survivor.refresh_from_db()
    assert survivor.client_ref == "ERP-7"


@pytest.mark.parametrize(("survivor_says", "absorbed_says", "kept"), [
    (True, False, False), (False, True, False), (True, True, True), (None, True, True), (None, False, False),
])
def test_a_no_to_a_consent_beats_a_yes(pair, manager, survivor_says, absorbed_says, kept):
    survivor, absorbed = pair
    if survivor_says is not None:
        consent(survivor, Purpose.PROMOTIONS, survivor_says)
    consent(absorbed, Purpose.PROMOTIONS, absorbed_says)
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
    assert list(Consent.objects.values_list("client", "purpose", "granted")) == [(survivor.pk, Purpose.PROMOTIONS, kept)]
    assert ConsentChange.objects.filter(client=survivor).count() == (2 if survivor_says is not None else 1)


def test_one_recipient_per_campaign_stays_the_one_with_an_answer(pair, manager):
    survivor, absorbed = pair
    campaign, other = campaign_of(manager), campaign_of(manager, "Otra")
    Recipient.objects.create(campaign=campaign, client=survivor, status_at_launch="active")
    answered = Recipient.objects.create(campaign=campaign, client=absorbed, status_at_launch="active")
    SurveyAnswer.objects.create(recipient=answered, client=absorbed, score=3)
    kept = Recipient.objects.create(campaign=other, client=survivor, status_at_launch="active")
    Recipient.objects.create(campaign=other, client=absorbed, status_at_launch="active")
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
    assert set(Recipient.objects.values_list("pk", "client")) == {(answered.pk, survivor.pk), (kept.pk, survivor.pk)}
    assert SurveyAnswer.objects.get().client_id == survivor.pk


def test_automatic_follow_ups_for_the_same_trigger_stay_once_pending(pair, manager):
    survivor, absorbed = pair
    FollowUpFactory(client=survivor, origin=FollowUp.Origin.WELCOME, origin_key="2026-01-01")
    twin = FollowUpFactory(client=absorbed, origin=FollowUp.Origin.WELCOME, origin_key="2026-01-01")
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
    twin.refresh_from_db()
    assert (twin.client_id, twin.status) == (survivor.pk, FollowUp.State.CANCELLED)
    assert FollowUp.objects.filter(client=survivor, status=FollowUp.State.PENDING).count() == 1


def test_a_merge_that_fails_midway_writes_nothing(pair, manager, monkeypatch):
    survivor, absorbed = pair
    PurchaseFactory(client=absorbed)
    InteractionFactory(client=absorbed)

    def broken(client_id, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(merge, "lifecycle_refresh_client", broken)
    with pytest.raises(RuntimeError):
        merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={"phone": "absorbed"})
    absorbed.refresh_from_db()
    survivor.refresh_from_db()
    assert absorbed.merged_into is None and absorbed.deleted_at is None and absorbed.client_ref == "ERP-7"
    assert survivor.phone == "" and survivor.version == 0
    assert Purchase.objects.get().client_id == absorbed.pk and Interaction.objects.get().client_id == absorbed.pk
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.MERGE).exists()


def test_who_may_merge(pair, owner, teammate, manager, other_manager, admin_user):
    survivor, absorbed = pair
    assert merge.may_merge(manager, survivor, absorbed) and merge.may_merge(admin_user, survivor, absorbed)
    assert not merge.may_merge(other_manager, survivor, absorbed)
    assert not merge.may_merge(owner, survivor, absorbed)  # owns only one of them
    ClientShare.objects.create(client=absorbed, user=owner)
    assert not merge.may_merge(owner, survivor, absorbed)  # a share is not enough
    own_twin = ClientFactory(owner=owner)
    assert merge.may_merge(owner, survivor, own_twin)
    with pytest.raises(PermissionDenied):
        merge.client_merge(by=other_manager, survivor=survivor, absorbed=absorbed, values={})


def test_a_client_merged_or_trashed_meanwhile_is_not_merged_again(pair, manager, admin_user):
    survivor, absorbed = pair
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
    with pytest.raises(ValidationError):
        merge.client_merge(by=admin_user, survivor=ClientFactory(owner=survivor.owner), absorbed=absorbed, values={})
    with pytest.raises(ValidationError):
        merge.client_merge(by=manager, survivor=survivor, absorbed=survivor, values={})


def test_keeping_no_name_at_all_is_refused(owner, manager):
    survivor = ClientFactory(owner=owner, first_name="", last_name="", company_name="Acme")
    absorbed = ClientFactory(owner=owner, first_name="Luis", last_name="", company_name="")
    with pytest.raises(ValidationError):
        merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={"company_name": "absorbed"})
    assert Client.objects.get(pk=survivor.pk).company_name == "Acme"


def test_clients_merged_earlier_into_the_absorbed_one_lead_to_the_survivor(pair, manager, owner):
    survivor, absorbed = pair
    older = ClientFactory(owner=owner)
    merge.client_merge(by=manager, survivor=absorbed, absorbed=older, values={})
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
    older.refresh_from_db()
    assert older.merged_into_id == survivor.pk


def test_merge_defaults_fill_the_survivor_empty_fields(pair):
    survivor, absorbed = pair
    defaults = merge.merge_defaults(survivor, absorbed)
    assert defaults["phone"] == "absorbed" and defaults["client_ref"] == "absorbed"
    assert defaults["first_name"] == "survivor" and defaults["email"] == "survivor"


def test_every_relation_unique_per_client_has_a_merge_rule():
    for relation in Client._meta.related_objects:
        model = relation.related_model
        if model not in merge._HANDLED and merge._unique_with_client(model, relation.field.name):
            assert hasattr(model._default_manager, "before_client_merge"), model


def test_an_import_matches_the_survivor_not_the_older_client_merged_into_it(owner, manager):
    from imports.services import Kind, import_analyse, proposed_mapping
    from imports.spreadsheets import read_table

    older = ClientFactory(owner=owner, email="same@b.es", tax_id="12345678Z")
    survivor = ClientFactory(owner=owner, email="same@b.es", tax_id="12345678Z")
    merge.client_merge(by=manager, survivor=survivor, absorbed=older, values={})
    for header, value in (("Correo", "same@b.es"), ("NIF", "12345678Z")):
        table = read_table(f"{header},Fecha,Importe\n{value},2025-01-01,5\n".encode())
        analysis = import_analyse(table, Kind.PURCHASES, proposed_mapping(Kind.PURCHASES, table), visible=None, today=TODAY)
        assert analysis.errors == [] and analysis.matched == {survivor.pk}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("crosswise", [False, True])
def test_two_merges_of_one_client_at_once_leave_exactly_one(monkeypatch, owner, manager, crosswise):
    """The first merge holds both rows' locks until the second waits for them; the second then
    finds the client merged and refuses. Crosswise (S into A while A into S) does not deadlock:
    both lock in id order."""
    import threading

    from django.db import connection

    from clients.tests.test_followup_exactly_once import wait_for_a_blocked_backend

    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE) need PostgreSQL")
    absorbed, first_survivor, second_survivor = (ClientFactory(owner=owner) for _ in range(3))
    PurchaseFactory.create_batch(2, client=absorbed)
    if crosswise:
        second_survivor, absorbed_second = absorbed, first_survivor
    else:
        absorbed_second = absorbed
    real, locked, release = merge._lock_both, threading.Event(), threading.Event()

    def held(survivor, absorbed):
        current = real(survivor, absorbed)
        if not locked.is_set():
            locked.set()
            assert release.wait(timeout=30)
        return current

    monkeypatch.setattr(merge, "_lock_both", held)
    results = {}

    def run(name, survivor, absorbed):
        # By thread, not in the order they end: the first's work after its commit may outlast
        # the second's refusal.
        try:
            merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
            results[name] = "merged"
        except ValidationError:
            results[name] = "refused"
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first", first_survivor, absorbed))
    first.start()
    assert locked.wait(timeout=30)
    second = threading.Thread(target=run, args=("second", second_survivor, absorbed_second))
    second.start()
    try:
        wait_for_a_blocked_backend()
    finally:
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
    assert results == {"first": "merged", "second": "refused"}
    absorbed.refresh_from_db()
    assert absorbed.merged_into_id == first_survivor.pk
    assert Purchase.objects.filter(client=first_survivor).count() == 2
    assert Client.objects.filter(merged_into__isnull=False).count() == 1


def test_a_merge_runs_the_same_number_of_queries_whatever_the_clients_hold(owner, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 1, 8):  # the first warms the caches (the user's roles, the thresholds row)
        survivor, absorbed = ClientFactory(owner=owner), ClientFactory(owner=owner)
        PurchaseFactory.create_batch(size, client=absorbed)
        InteractionFactory.create_batch(size, client=absorbed)
        ContractFactory.create_batch(size, client=absorbed)
        for purpose in Purpose.values:
            consent(absorbed, purpose, True)
        with CaptureQueriesContext(connection) as queries:
            merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
        counts.append(len(queries))
    # One UPDATE per kind of record, never one per record.
    assert counts[1] == counts[2]
