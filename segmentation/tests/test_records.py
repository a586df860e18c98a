"""The one write path (segmentation/records.py): each service once, then the same change made from
the page, the Django admin and an import, which must leave the same audit entry and figures."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from clients.models import Client, Contract, FollowUp, Interaction, PurchaseLine
from clients.tests.factories import ClientFactory, FollowUpFactory, ProductFactory, PurchaseFactory
from segmentation import records
from segmentation.models import LifecycleSettings

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def trace(client: Client, subject: str) -> list[tuple]:
    """What the history holds of `subject` for the client, without who and when."""
    rows = AuditEntry.objects.filter(client=client, subject=subject).order_by("id")
    return [(entry.action, entry.changes, entry.version) for entry in rows]


def figures(client: Client) -> tuple:
    client.refresh_from_db()
    return (
        client.status, client.first_purchase_date, client.last_purchase_date, client.purchase_count,
        client.total_spent, client.spend_12m, client.average_basket, client.alert,
    )


# Clients

def test_client_create_sets_the_owner_audits_the_values_and_computes_the_colour(owner):
    created = records.client_create(by=owner, data={"first_name": "Lucía", "city": "Vigo", "country": "ES"})
    assert created.owner == owner and created.status == "prospect"
    [(action, changes, version)] = trace(created, "client")
    assert (action, version) == ("create", 0)
    assert changes == {"first_name": ["", "Lucía"], "city": ["", "Vigo"], "country": ["", "ES"]}


def test_client_update_bumps_the_version_refuses_a_stale_one_and_a_closure_makes_a_baja(owner):
    record = ClientFactory(owner=owner, city="Vigo")
    PurchaseFactory(client=record, date=TODAY - dt.timedelta(days=10))
    updated = records.client_update(by=owner, client=record, data={"city": "Lugo"}, interests=[], seen_version=0)
    assert updated.version == 1
    with pytest.raises(records.EditConflict):
        records.client_update(by=owner, client=record, data={"city": "Ourense"}, interests=[], seen_version=0)
    closed = records.client_update(
        by=owner, client=record, data={"closed_at": TODAY, "close_reason": "price"}, seen_version=1,
    )
    assert (closed.version, Client.objects.get(pk=record.pk).status) == (2, "lost")
    assert [row[0] for row in trace(record, "client")] == ["update", "update"]


def test_client_share_and_unshare_are_audited_and_change_what_the_colleague_sees(owner, teammate):
    record = ClientFactory(owner=owner)
    assert records.client_share(by=owner, client=record, user=teammate) is True
    assert records.client_share(by=owner, client=record, user=teammate) is False  # already shared: nothing new
    assert Client.objects.visible_to(teammate).filter(pk=record.pk).exists()
    assert records.client_unshare(by=owner, client=record, user=teammate) is True
    assert not Client.objects.visible_to(teammate).filter(pk=record.pk).exists()
    assert [(a, c) for a, c, _v in trace(record, "client")] == [
        ("share", {"shared_with": ["", "teammate"]}), ("unshare", {"shared_with": ["teammate", ""]}),
    ]
    with pytest.raises(ValidationError):
        records.client_share(by=owner, client=record, user=owner)


def test_trash_puts_follow_ups_on_hold_and_restore_brings_them_back(owner):
    record = ClientFactory(owner=owner)
    followup = FollowUpFactory(client=record, assigned_to=owner)
    records.client_trash(by=owner, client=record)
    followup.refresh_from_db()
    assert followup.status == "on_hold" and not Client.objects.visible_to(owner).filter(pk=record.pk).exists()
    records.client_restore(by=owner, client=record)
    followup.refresh_from_db()
    assert followup.status == "pending" and Client.objects.visible_to(owner).filter(pk=record.pk).exists()
    assert [row[0] for row in trace(record, "client")] == ["trash", "restore"]


# Purchases

def test_the_unit_price_is_rounded_half_up_to_the_cent_everywhere():
    product = ProductFactory(price=Decimal("9.99"))
    assert records.line_for(product=product, quantity=Decimal("2"), amount=Decimal("0.25")).unit_price == Decimal("0.13")
    assert PurchaseLine.unit_price_for(Decimal("0.25"), Decimal("2")) == Decimal("0.13")
    assert records.line_for(product=product).unit_price == Decimal("9.99")  # no amount: the catalogue's price


@override_settings(CURRENCY="BRL")
def test_purchase_record_writes_the_lines_the_entry_and_the_figures_at_once(owner):
    record = ClientFactory(owner=owner)
    product = ProductFactory()
    line = records.line_for(product=product, quantity=Decimal("3"), amount=Decimal("10"))
    purchase = records.purchase_record(client=record, by=owner, date=TODAY, lines=[line])
    assert (purchase.amount, purchase.currency) == (Decimal("9.99"), "BRL")  # 3 × 3.33, in the business currency
    assert figures(record)[:4] == ("new", TODAY, TODAY, 1)
    [(action, changes, _version)] = trace(record, "purchase")
    assert action == "create" and changes["amount"] == ["", "9.99"] and changes["currency"] == ["", "BRL"]


def test_purchase_correct_and_delete_are_audited_and_refresh_the_figures(owner):
    record = ClientFactory(owner=owner)
    purchase = records.purchase_record(client=record, by=owner, date=TODAY, amount=Decimal("40"))
    records.purchase_correct(purchase=purchase, by=owner, amount=Decimal("55.50"))
    assert figures(record)[4] == Decimal("55.50")
    with pytest.raises(ValueError):
        records.purchase_correct(purchase=purchase, by=owner, client=ClientFactory(owner=owner))
    records.purchase_delete(purchase=purchase, by=owner)
    assert figures(record)[:4] == ("prospect", None, None, 0)
    assert [(a, c) for a, c, _v in trace(record, "purchase")][1:] == [
        ("update", {"amount": ["40.00", "55.50"]}),
        ("delete", {"date": [TODAY.isoformat(), ""], "amount": ["55.50", ""], "currency": ["EUR", ""]}),
    ]


# Follow-ups, interactions, contracts

def test_a_follow_up_is_completed_exactly_once(owner):
    record = ClientFactory(owner=owner)
    followup = records.followup_schedule(client=record, by=owner, kind="call", due_at=timezone.now())
    tomorrow = timezone.now() + dt.timedelta(days=1)
    records.followup_complete(
        followup=followup, by=owner, interaction=Interaction(summary="Llamada"), next_due_at=tomorrow,
    )
    stale = FollowUp.objects.get(pk=followup.pk)
    stale.status = FollowUp.State.PENDING  # a second tab still shows it pending
    with pytest.raises(ValidationError):
        records.followup_complete(followup=stale, by=owner, interaction=Interaction(summary="Otra vez"))
    assert Interaction.objects.filter(client=record).count() == 1
    assert FollowUp.objects.filter(client=record, status="pending").count() == 1  # the one next step
    assert [row[0] for row in trace(record, "followup")] == ["create", "complete", "create"]
    assert [row[0] for row in trace(record, "interaction")] == ["create"]


def test_a_rule_follow_up_is_created_once(owner):
    record = ClientFactory(owner=owner)
    due = timezone.now()
    first = records.followup_schedule(client=record, by=None, kind="call", due_at=due, origin="detractor", origin_key="7")
    again = records.followup_schedule(client=record, by=None, kind="call", due_at=due, origin="detractor", origin_key="7")
    assert first.assigned_to == owner and again is None


def test_a_contract_ending_soon_asks_for_the_renewal_call_and_an_edit_is_audited(owner):
    record = ClientFactory(owner=owner)
    days = LifecycleSettings.current().renewal_call_days
    contract = records.contract_create(
        client=record, by=owner, title="Mantenimiento", start_date=TODAY - dt.timedelta(days=300),
        end_date=TODAY + dt.timedelta(days=days - 1), value=Decimal("1200"),
    )
    assert FollowUp.objects.filter(client=record, origin="renewal", origin_key=str(contract.pk)).exists()
    records.contract_update(contract=contract, by=owner, renewal_status=Contract.Renewal.RENEWED)
    assert [(a, c.get("renewal_status")) for a, c, _v in trace(record, "contract")] == [
        ("create", ["", "pending"]), ("update", ["pending", "renewed"]),
    ]


# The same change from every door

def _purchase_from_the_page(django_client, user, record, day):
    django_client.force_login(user)
    data = {"date": day.isoformat(), "amount": "120.50", "currency": "EUR"}
    assert django_client.post(reverse("clients:purchase_create", args=[record.pk]), data).status_code == 302


def _purchase_from_the_admin(django_client, user, record, day):
    django_client.force_login(user)
    data = {
        "client": record.pk, "date": day.isoformat(), "amount": "120.50", "currency": "EUR", "payment_method": "",
        "channel": "", "notes": "",
        "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
    }
    response = django_client.post(reverse("admin:clients_purchase_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def _purchase_from_an_import(user, record, day):
    from imports.services import Kind, import_analyse, import_apply, proposed_mapping
    from imports.spreadsheets import read_table

    data = f"Referencia;Fecha;Importe\n{record.client_ref};{day.isoformat()};120,50\n"
    table = read_table(data.encode())
    mapping = proposed_mapping(Kind.PURCHASES, table)
    analysis = import_analyse(table, Kind.PURCHASES, mapping, visible=None)
    assert analysis.importable, analysis.problems
    import_apply(analysis, owner=user, created_by=user)


def test_a_purchase_from_the_page_the_admin_and_an_import_leaves_the_same_trace(client, owner, admin_user):
    day = TODAY - dt.timedelta(days=3)
    page, admin, imported = (ClientFactory(owner=owner, client_ref=f"R-{n}") for n in range(3))
    _purchase_from_the_page(client, admin_user, page, day)
    _purchase_from_the_admin(client, admin_user, admin, day)
    _purchase_from_an_import(admin_user, imported, day)
    assert figures(page) == figures(admin) == figures(imported)
    assert figures(page)[3:5] == (1, Decimal("120.50"))
    assert trace(page, "purchase") == trace(admin, "purchase") == trace(imported, "purchase")


def test_an_edit_from_the_page_and_the_admin_leaves_the_same_trace(client, owner, admin_user):
    page, admin = ClientFactory(owner=owner, city="Vigo"), ClientFactory(owner=owner, city="Vigo")
    client.force_login(admin_user)
    pages = ((reverse("clients:client_edit", args=[page.pk]), "form"),
             (reverse("admin:clients_client_change", args=[admin.pk]), "adminform"))
    for url, form_name in pages:
        form = client.get(url).context[form_name]
        form = getattr(form, "form", form)  # the admin wraps its form
        data = {name: value for name, value in form.initial.items() if value is not None and name != "interests"}
        data.update({"city": "Lugo", "version": 0, "seen_version": 0, "owner": owner.pk, "shares-TOTAL_FORMS": "0",
                     "shares-INITIAL_FORMS": "0", "shares-MIN_NUM_FORMS": "0", "shares-MAX_NUM_FORMS": "1000"})
        assert client.post(url, data).status_code == 302
    assert trace(page, "client") == trace(admin, "client") == [("update", {"city": ["Vigo", "Lugo"]}, 1)]


def test_the_admin_refuses_an_edit_over_a_newer_version(client, owner, admin_user):
    record = ClientFactory(owner=owner, city="Vigo")
    records.client_update(by=owner, client=record, data={"city": "Lugo"}, seen_version=0)
    client.force_login(admin_user)
    url = reverse("admin:clients_client_change", args=[record.pk])
    data = {"first_name": record.first_name, "last_name": record.last_name, "country": "ES", "city": "Ourense",
            "owner": owner.pk, "seen_version": 0, "shares-TOTAL_FORMS": "0", "shares-INITIAL_FORMS": "0",
            "shares-MIN_NUM_FORMS": "0", "shares-MAX_NUM_FORMS": "1000"}
    response = client.post(url, data)
    assert response.status_code == 200 and response.context["adminform"].form.non_field_errors()
    record.refresh_from_db()
    assert (record.city, record.version) == ("Lugo", 1)


def _admin_client_data(record, owner, **changes) -> dict:
    """The admin's form as it opens (every field as stored), with a new owner and `changes`."""
    from clients.admin import ClientAdminForm

    initial = ClientAdminForm(instance=record).initial
    data = {name: value for name, value in initial.items() if value is not None and name != "interests"}
    data.update({"owner": owner.pk, "seen_version": record.version, "shares-TOTAL_FORMS": "0",
                 "shares-INITIAL_FORMS": "0", "shares-MIN_NUM_FORMS": "0", "shares-MAX_NUM_FORMS": "1000"})
    return {**data, **changes}


def test_the_admin_moves_an_owner_without_touching_the_version_and_refuses_a_non_salesperson(
    client, owner, teammate, manager, admin_user,
):
    record = ClientFactory(owner=owner, city="Vigo")
    client.force_login(admin_user)
    url = reverse("admin:clients_client_change", args=[record.pk])
    refused = client.post(url, _admin_client_data(record, admin_user))  # an administrador holds no portfolio
    assert refused.status_code == 200 and "owner" in refused.context["adminform"].form.errors
    assert client.post(url, _admin_client_data(record, teammate)).status_code == 302
    record.refresh_from_db()
    assert (record.owner, record.version) == (teammate, 0)  # an edit opened by the salesperson is not stale
    assert [row[0] for row in trace(record, "client")] == ["reassign"]


def test_sharing_with_the_owner_in_the_admin_is_a_form_error_not_a_crash(client, owner, admin_user):
    record = ClientFactory(owner=owner)
    client.force_login(admin_user)
    data = _admin_client_data(record, owner, **{"shares-TOTAL_FORMS": "1", "shares-0-user": owner.pk})
    response = client.post(reverse("admin:clients_client_change", args=[record.pk]), data)
    assert response.status_code == 200 and not record.shares.exists()


def test_amounts_and_times_are_audited_as_the_pages_show_them(owner):
    record = ClientFactory(owner=owner)
    contract = records.contract_create(
        client=record, by=owner, title="Soporte", start_date=TODAY, end_date=TODAY + dt.timedelta(days=400),
        value=Decimal("10"),
    )
    records.contract_update(contract=contract, by=owner, value=Decimal("10.00"), title="Soporte anual")
    assert [c.get("value") for _a, c, _v in trace(record, "contract")] == [["", "10.00"], None]
    utc = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    records.followup_schedule(client=record, by=owner, kind="call", due_at=utc)
    [(_action, changes, _version)] = trace(record, "followup")
    assert changes["due_at"][1] == timezone.localtime(utc).isoformat(timespec="minutes")  # Madrid: 10:00+02:00


def test_the_admin_deletes_a_purchase_through_the_service(client, owner, admin_user):
    record = ClientFactory(owner=owner)
    purchase = records.purchase_record(client=record, by=owner, date=TODAY, amount=Decimal("30"))
    client.force_login(admin_user)
    assert client.post(reverse("admin:clients_purchase_delete", args=[purchase.pk]), {"post": "yes"}).status_code == 302
    assert [row[0] for row in trace(record, "purchase")] == ["create", "delete"]
    assert figures(record)[3] == 0


def test_the_admin_shows_interactions_and_follow_ups_read_only(client, admin_user, owner):
    client.force_login(admin_user)
    assert client.get(reverse("admin:clients_followup_add")).status_code == 403
    assert client.get(reverse("admin:clients_interaction_add")).status_code == 403
    assert client.get(reverse("admin:clients_client_add")).status_code == 403
