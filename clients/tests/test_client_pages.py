import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, FollowUp, Interaction, Purchase
from clients.tests.factories import ClientFactory, FollowUpFactory, ProductFactory, PurchaseFactory
from segmentation.models import StatusChange


@pytest.mark.django_db
def test_new_client_goes_to_the_creator_whatever_owner_is_posted(client, owner, outsider):
    client.force_login(owner)
    response = client.post(
        reverse("clients:client_create"),
        {"first_name": "José", "last_name": "Pérez", "country": "es", "owner": outsider.pk, "email": " Jose@Example.COM "},
    )
    created = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == created.get_absolute_url()
    assert created.owner == owner
    assert created.country == "ES"
    assert created.email == "jose@example.com"


@pytest.mark.django_db
def test_editing_cannot_change_the_owner(client, owner, outsider):
    record = ClientFactory(owner=owner, first_name="Ana")
    client.force_login(owner)
    client.post(reverse("clients:client_edit", args=[record.pk]), {"first_name": "Ana María", "country": "ES", "owner": outsider.pk})
    record.refresh_from_db()
    assert record.first_name == "Ana María"
    assert record.owner == owner


@pytest.mark.django_db
def test_a_client_without_any_name_is_refused_with_a_clear_message(client, owner):
    client.force_login(owner)
    response = client.post(reverse("clients:client_create"), {"email": "a@b.es", "country": "ES"})
    assert response.status_code == 200
    assert "Give the client a name" in response.content.decode() or "nombre" in response.content.decode()
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_duplicate_reference_is_refused(client, owner):
    ClientFactory(owner=owner, client_ref="ERP-1")
    client.force_login(owner)
    response = client.post(reverse("clients:client_create"), {"first_name": "B", "client_ref": "ERP-1", "country": "ES"})
    assert response.status_code == 200
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_recording_a_purchase_updates_figures_and_status_at_once(client, owner):
    record = ClientFactory(owner=owner)
    product = ProductFactory(price=Decimal("40.00"))
    client.force_login(owner)
    today = timezone.localdate()
    response = client.post(
        reverse("clients:purchase_create", args=[record.pk]),
        {
            "date": today.isoformat(), "currency": "EUR", "channel": "visit", "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0", "lines-0-product": product.name, "lines-0-quantity": "3",
        },
    )
    assert response.status_code == 302
    purchase = Purchase.objects.get()
    assert purchase.amount == Decimal("120.00")
    assert purchase.lines.get().unit_price == Decimal("40.00")
    record.refresh_from_db()
    assert (record.purchase_count, record.total_spent, record.spend_12m) == (1, Decimal("120.00"), Decimal("120.00"))
    assert record.first_purchase_date == record.last_purchase_date == today
    assert record.status == "new"
    change = StatusChange.objects.get()
    assert (change.from_status, change.to_status, change.cause) == ("prospect", "new", "purchase")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "-5"}, "negative"),
        ({"amount": "abc"}, "number"),
        ({"amount": "10", "date": "2999-01-01"}, "future"),
        ({}, "amount"),
    ],
)
def test_bad_purchase_input_saves_nothing(client, owner, data, message):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "en"})
    payload = {"date": timezone.localdate().isoformat(), "currency": "EUR", **data}
    response = client.post(reverse("clients:purchase_create", args=[record.pk]), payload)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Purchase.objects.exists()


@pytest.mark.django_db
def test_interaction_closes_the_followup_and_schedules_the_next_one(client, owner):
    record = ClientFactory(owner=owner)
    overdue = FollowUpFactory(client=record, due_at=timezone.now() - dt.timedelta(days=2))
    client.force_login(owner)
    next_day = timezone.localdate() + dt.timedelta(days=3)
    response = client.post(
        reverse("clients:interaction_create", args=[record.pk]),
        {
            "followup": overdue.pk, "kind": "call", "direction": "outbound",
            "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "summary": "Quiere ver muestras",
            "outcome": "interested", "next_kind": "visit", "next_date": next_day.isoformat(), "next_time": "10:30",
        },
    )
    assert response.status_code == 302
    overdue.refresh_from_db()
    interaction = Interaction.objects.get()
    assert overdue.status == "done" and overdue.closed_by == interaction
    visit = FollowUp.objects.get(status="pending")
    assert visit.kind == "visit" and visit.assigned_to == owner
    assert timezone.localtime(visit.due_at).date() == next_day
    assert timezone.localtime(visit.due_at).time() == dt.time(10, 30)


@pytest.mark.django_db
def test_an_invalid_next_step_saves_nothing(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    response = client.post(
        reverse("clients:interaction_create", args=[record.pk]),
        {"kind": "call", "direction": "outbound", "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
         "summary": "Hablamos", "next_kind": "visit", "next_date": "2001-01-01"},
    )
    assert response.status_code == 200
    assert not Interaction.objects.exists() and not FollowUp.objects.exists()


@pytest.mark.django_db
def test_manager_schedules_a_followup_for_the_owner(client, owner, manager):
    record = ClientFactory(owner=owner)
    client.force_login(manager)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    client.post(reverse("clients:followup_create", args=[record.pk]), {"kind": "call", "due_date": tomorrow.isoformat()})
    assert FollowUp.objects.get().assigned_to == owner


@pytest.mark.django_db
def test_client_page_shows_figures_timeline_and_contracts(client, owner):
    from clients.tests.factories import ContractFactory, InteractionFactory

    record = ClientFactory(owner=owner)
    PurchaseFactory(client=record, amount=Decimal("75.50"))
    InteractionFactory(client=record, summary="Pidió presupuesto", user=owner)
    ContractFactory(client=record, title="Contrato de soporte")
    client.force_login(owner)
    content = client.get(record.get_absolute_url()).content.decode()
    assert "75,50" in content
    assert "Pidió presupuesto" in content
    assert "Contrato de soporte" in content


@pytest.mark.django_db
def test_correcting_and_deleting_a_purchase_updates_the_client_at_once(client, owner):
    record = ClientFactory(owner=owner)
    today = timezone.localdate()
    client.force_login(owner)
    client.post(reverse("clients:purchase_create", args=[record.pk]), {"date": today.isoformat(), "amount": "80", "currency": "EUR"})
    purchase = Purchase.objects.get()
    old = (today - dt.timedelta(days=120)).isoformat()
    response = client.post(
        reverse("clients:purchase_edit", args=[record.pk, purchase.pk]), {"date": old, "amount": "50", "currency": "EUR"}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.total_spent, record.last_purchase_date.isoformat(), record.status) == (Decimal("50.00"), old, "dormant")
    response = client.post(reverse("clients:purchase_delete", args=[record.pk, purchase.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.purchase_count, record.total_spent, record.status) == (0, Decimal("0"), "prospect")
    assert [c.to_status for c in StatusChange.objects.order_by("id")] == ["new", "dormant", "prospect"]


@pytest.mark.django_db
def test_another_portfolio_cannot_touch_a_purchase(client, owner, outsider):
    purchase = PurchaseFactory(client=ClientFactory(owner=owner))
    client.force_login(outsider)
    url_args = [purchase.client_id, purchase.pk]
    assert client.get(reverse("clients:purchase_edit", args=url_args)).status_code == 404
    assert client.post(reverse("clients:purchase_delete", args=url_args)).status_code == 404
    assert Purchase.objects.filter(pk=purchase.pk).exists()


@pytest.mark.django_db
def test_deleting_a_purchase_in_the_admin_updates_the_client(client, owner, admin_user):
    record = ClientFactory(owner=owner)
    purchase = PurchaseFactory(client=record, amount=Decimal("30"))
    from segmentation.services import lifecycle_refresh_client

    lifecycle_refresh_client(record.pk)
    client.force_login(admin_user)
    response = client.post(reverse("admin:clients_purchase_delete", args=[purchase.pk]), {"post": "yes"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.purchase_count, record.status) == (0, "prospect")
