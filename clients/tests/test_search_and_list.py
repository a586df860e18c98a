import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory, PurchaseFactory


@pytest.fixture
def jose(owner):
    return ClientFactory(
        owner=owner, first_name="José", last_name="Pérez Núñez", phone="+34 612 345 678", email="jose.perez@correo.es",
        tax_id="12345678Z", client_ref="ERP-777",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["jose perez", "JOSÉ PÉREZ", "perez nunez", "Núñez", "612345678", "612 34 56 78", "+34612345678", "0034 612 345 678",
     "jose.perez@correo.es", "12345678z", "erp-777"],
)
def test_search_box_finds_the_client_however_it_is_typed(jose, owner, query):
    ClientFactory(owner=owner, first_name="María", last_name="Gómez", phone="699000111")
    assert list(Client.objects.visible_to(owner).search(query)) == [jose]


@pytest.mark.django_db
def test_search_through_the_list_page(client, jose, owner):
    ClientFactory(owner=owner, first_name="María", last_name="Gómez")
    client.force_login(owner)
    content = client.get(reverse("clients:client_list"), {"q": "jose perez"}).content.decode()
    assert "Pérez Núñez" in content and "Gómez" not in content


@pytest.mark.django_db
def test_list_filters_by_status_and_last_purchase_range(client, owner):
    recent = ClientFactory(owner=owner, last_name="Reciente", status="active", last_purchase_date=timezone.localdate())
    ClientFactory(owner=owner, last_name="Antiguo", status="dormant", last_purchase_date=timezone.localdate() - dt.timedelta(days=200))
    client.force_login(owner)
    content = client.get(reverse("clients:client_list"), {"status": "active"}).content.decode()
    assert "Reciente" in content and "Antiguo" not in content
    since = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    content = client.get(reverse("clients:client_list"), {"last_purchase_after": since}).content.decode()
    assert "Reciente" in content and "Antiguo" not in content
    assert recent.pk


@pytest.mark.django_db
def test_list_ignores_garbage_parameters(client, owner):
    ClientFactory(owner=owner)
    client.force_login(owner)
    for params in ({"sort": "nope"}, {"page": "abc"}, {"status": "zzz"}, {"owner": "x"}, {"last_purchase_after": "31/02/2026"}, {"page": "99999"}):
        assert client.get(reverse("clients:client_list"), params).status_code in (200, 404)


@pytest.mark.django_db
def test_htmx_request_gets_only_the_table(client, owner):
    ClientFactory(owner=owner, last_name="Parcial")
    client.force_login(owner)
    content = client.get(reverse("clients:client_list"), HTTP_HX_REQUEST="true").content.decode()
    assert "Parcial" in content and "<html" not in content


@pytest.mark.django_db
def test_manager_reassigns_clients_and_their_pending_followups(client, manager, owner, teammate):
    moving = ClientFactory(owner=owner)
    staying = ClientFactory(owner=owner)
    followup = FollowUpFactory(client=moving)
    client.force_login(manager)
    response = client.post(reverse("clients:client_reassign"), {"clients": [moving.pk], "new_owner": teammate.pk})
    assert response.status_code == 302
    moving.refresh_from_db(); staying.refresh_from_db(); followup.refresh_from_db()  # noqa: E702
    assert moving.owner == teammate and staying.owner == owner
    assert followup.assigned_to == teammate


@pytest.mark.django_db
def test_reassignment_is_refused_to_comerciales_and_outside_the_team(client, owner, manager, outsider):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    assert client.post(reverse("clients:client_reassign"), {"clients": [record.pk], "new_owner": owner.pk}).status_code == 403
    client.force_login(manager)
    client.post(reverse("clients:client_reassign"), {"clients": [record.pk], "new_owner": outsider.pk})
    record.refresh_from_db()
    assert record.owner == owner


@pytest.mark.django_db
def test_manager_cannot_reassign_another_teams_clients(client, manager, owner, outsider, teammate):
    foreign = ClientFactory(owner=outsider)
    client.force_login(manager)
    client.post(reverse("clients:client_reassign"), {"clients": [foreign.pk], "new_owner": teammate.pk})
    foreign.refresh_from_db()
    assert foreign.owner == outsider


@pytest.mark.django_db
def test_database_refuses_negative_amounts_and_keeps_purchases(owner):
    record = ClientFactory(owner=owner)
    PurchaseFactory(client=record)
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseFactory(client=record, amount=Decimal("-1"))
    with pytest.raises(ProtectedError):
        record.delete()
    assert record.purchases.count() == 1


@pytest.mark.django_db
def test_agenda_lists_overdue_today_and_upcoming(client, owner):
    record = ClientFactory(owner=owner, last_name="Agendado")
    FollowUpFactory(client=record, due_at=timezone.now() - dt.timedelta(days=1))
    FollowUpFactory(client=record, due_at=timezone.now() + dt.timedelta(days=3))
    FollowUpFactory(client=record, due_at=timezone.now() + dt.timedelta(days=30))
    FollowUpFactory(client=record, due_at=timezone.now() - dt.timedelta(days=1), status=FollowUp.State.DONE)
    client.force_login(owner)
    response = client.get(reverse("clients:agenda"))
    sections = [response.context[name] for name in ("overdue", "today", "upcoming")]
    assert [section.total for section in sections] == [1, 0, 1]
    assert [len(section.followups) for section in sections] == [1, 0, 1]


@pytest.mark.django_db
def test_list_shows_and_filters_the_computed_classifications(client, owner):
    ClientFactory(owner=owner, last_name="Campeona", rfm_segment="champions", volume_tier="very_high", frequency_class="frequent")
    ClientFactory(owner=owner, last_name="Dormilón", rfm_segment="hibernating", volume_tier="low")
    client.force_login(owner)
    content = client.get(reverse("clients:client_list"), {"rfm_segment": "champions"}).content.decode()
    assert "Campeona" in content and "Dormilón" not in content
    assert "Champions" in content or "Campeones" in content
    assert "Muy alto" in content and "Frecuente" in content


@pytest.mark.django_db
def test_agenda_puts_red_clients_first_within_each_section(client, owner):
    calm = ClientFactory(owner=owner, last_name="Tranquilo")
    urgent = ClientFactory(owner=owner, last_name="Urgente")
    FollowUpFactory(client=calm, due_at=timezone.now() + dt.timedelta(days=2))
    FollowUpFactory(client=urgent, due_at=timezone.now() + dt.timedelta(days=3))
    Client.objects.filter(pk=urgent.pk).update(alert="red")
    client.force_login(owner)
    upcoming = client.get(reverse("clients:agenda")).context["upcoming"]
    assert [f.client.last_name for f in upcoming.followups] == ["Urgente", "Tranquilo"]


@pytest.mark.django_db
def test_gerente_opens_a_team_members_agenda_but_not_another_teams(client, manager, owner, outsider):
    FollowUpFactory(client=ClientFactory(owner=owner, last_name="DelEquipo"), due_at=timezone.now() + dt.timedelta(days=1))
    client.force_login(manager)
    response = client.get(reverse("clients:agenda"), {"user": owner.pk})
    assert response.status_code == 200
    assert "DelEquipo" in response.content.decode()
    assert client.get(reverse("clients:agenda"), {"user": outsider.pk}).status_code == 404


@pytest.mark.django_db
def test_a_comercial_cannot_open_a_teammates_agenda(client, owner, teammate):
    client.force_login(owner)
    assert client.get(reverse("clients:agenda"), {"user": teammate.pk}).status_code == 404
    assert client.get(reverse("clients:agenda"), {"user": owner.pk}).status_code == 200


@pytest.mark.django_db
def test_list_shows_the_reason_of_each_colour_and_filters_by_colour(client, owner):
    ClientFactory(owner=owner, last_name="Rojizo", alert="red", alert_reason="followup_overdue", alert_value="4")
    ClientFactory(owner=owner, last_name="Sereno")
    client.force_login(owner)
    content = client.get(reverse("clients:client_list")).content.decode()
    assert "Seguimiento vencido hace 4 días" in content
    filtered = client.get(reverse("clients:client_list"), {"alert": "red"}).content.decode()
    assert "Rojizo" in filtered and "Sereno" not in filtered
