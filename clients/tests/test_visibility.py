"""One access rule decides which clients a user sees; another portfolio's client is a 404."""

import pytest
from django.urls import reverse

from clients.models import Client, ClientShare
from clients.tests.factories import ClientFactory

CLIENT_PAGES = [
    "clients:client_detail", "clients:client_edit", "clients:purchase_create",
    "clients:interaction_create", "clients:followup_create",
]


@pytest.fixture
def owned(owner):
    return ClientFactory(owner=owner, first_name="Lucía", last_name="Ferrer")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "sees"),
    [("owner", True), ("teammate", False), ("manager", True), ("other_manager", False), ("outsider", False), ("admin_user", True)],
)
def test_each_persona_on_every_client_page(client, request, owned, persona, sees):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for name in CLIENT_PAGES:
        response = client.get(reverse(name, args=[owned.pk]))
        assert response.status_code == (200 if sees else 404), f"{persona} on {name}"
        response = client.post(reverse(name, args=[owned.pk]), {})
        assert response.status_code in ((200, 302) if sees else (404,)), f"{persona} POST {name}"
    listed = client.get(reverse("clients:client_list"))
    assert ("Lucía Ferrer" in listed.content.decode()) is sees  # the country filter offers Santa Lucía
    assert (owned in Client.objects.visible_to(user)) is sees


@pytest.mark.django_db
def test_a_shared_client_is_visible_to_the_teammate(client, owned, teammate):
    ClientShare.objects.create(client=owned, user=teammate)
    client.force_login(teammate)
    assert client.get(reverse("clients:client_detail", args=[owned.pk])).status_code == 200
    assert list(Client.objects.visible_to(teammate)) == [owned]


@pytest.mark.django_db
def test_outsider_cannot_write_to_another_portfolio(client, owned, outsider):
    client.force_login(outsider)
    response = client.post(reverse("clients:purchase_create", args=[owned.pk]), {"date": "2026-01-01", "amount": "10", "currency": "EUR"})
    assert response.status_code == 404
    assert owned.purchases.count() == 0


@pytest.mark.django_db
def test_anonymous_and_inactive_users_see_nothing(owned, owner):
    from django.contrib.auth.models import AnonymousUser

    assert not Client.objects.visible_to(AnonymousUser()).exists()
    owner.is_active = False
    assert not Client.objects.visible_to(owner).exists()
