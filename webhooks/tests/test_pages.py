"""Administración → Webhooks: what the administrador does there, who else is refused, query counts."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import activate

from clients.tests.factories import ClientFactory
from webhooks import services
from webhooks.models import TEST_EVENT, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db

LIST = reverse("webhooks:endpoint_list")


@pytest.fixture(autouse=True)
def english(client):
    """The messages are checked in English (the translations are merged later)."""
    activate("en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_an_administrador_adds_an_endpoint_and_sees_its_secret(client, admin_user):
    client.force_login(admin_user)
    response = client.post(LIST, {"url": "https://erp.example.com/hooks", "description": "ERP",
                                  "events": [Event.PURCHASE_RECORDED, Event.CLIENT_TURNED_RED]})

    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("webhooks:endpoint_edit", args=[endpoint.pk])
    assert endpoint.events == [Event.CLIENT_TURNED_RED, Event.PURCHASE_RECORDED]
    assert endpoint.created_by == admin_user and endpoint.secret.startswith("whsec_") and endpoint.is_active
    page = client.get(response["Location"])
    assert endpoint.secret in page.content.decode()


@override_settings(WEBHOOKS_ALLOW_PRIVATE=False)
@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/x", "Enter a valid URL."),
    ("http://127.0.0.1:8000/x", "Give a public address"),
    ("http://localhost/x", "Give a public address"),
])
def test_a_bad_or_internal_url_is_refused_with_a_message(client, admin_user, url, message):
    client.force_login(admin_user)
    response = client.post(LIST, {"url": url, "events": [Event.PURCHASE_RECORDED]})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_an_endpoint_needs_an_event(client, admin_user):
    client.force_login(admin_user)
    response = client.post(LIST, {"url": "https://erp.example.com/hooks"})
    assert "Choose at least one event." in response.content.decode() and not Endpoint.objects.exists()


def test_edit_pause_resume_test_and_delete(client, admin_user, receiver, django_capture_on_commit_callbacks):
    endpoint = services.endpoint_create(by=admin_user, url=receiver.url, events=[Event.PURCHASE_RECORDED])
    client.force_login(admin_user)
    edit = reverse("webhooks:endpoint_edit", args=[endpoint.pk])

    client.post(edit, {"url": receiver.url, "description": "Tienda", "events": [Event.SURVEY_ANSWERED]})
    endpoint.refresh_from_db()
    assert endpoint.events == [Event.SURVEY_ANSWERED] and endpoint.description == "Tienda"

    client.post(reverse("webhooks:endpoint_pause", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.state == Endpoint.State.PAUSED and endpoint.paused_reason == Endpoint.PausedReason.BY_HAND
    assert "Paused by an administrator" in client.get(edit).content.decode()

    client.post(reverse("webhooks:endpoint_resume", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.is_active

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:endpoint_test", args=[endpoint.pk]))
    delivery = Delivery.objects.get(event=TEST_EVENT)
    assert delivery.state == Delivery.State.DELIVERED and len(receiver.requests) == 1
    assert "HTTP 200" in client.get(edit).content.decode()

    response = client.post(reverse("webhooks:endpoint_delete", args=[endpoint.pk]))
    assert response.status_code == 302 and not Endpoint.objects.exists() and not Delivery.objects.exists()


@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_other_roles_are_refused(client, request, persona, admin_user):
    endpoint = Endpoint.objects.create(url="https://erp.example.com/hooks", events=[Event.PURCHASE_RECORDED])
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {"url": "https://x.example.com", "events": [Event.PURCHASE_RECORDED]}).status_code == 403
    assert client.post(reverse("webhooks:endpoint_delete", args=[endpoint.pk])).status_code == 403
    assert Endpoint.objects.count() == 1


def _endpoints_with_deliveries(count: int) -> Endpoint:
    now = timezone.now()
    endpoints = [Endpoint.objects.create(url=f"https://erp{index}.example.com/hooks", events=[Event.PURCHASE_RECORDED])
                 for index in range(count)]
    Delivery.objects.bulk_create(
        Delivery(endpoint=endpoint, event=Event.PURCHASE_RECORDED, payload={"n": index}, created_at=now,
                 attempts=1, last_status_code=500, next_attempt_at=now)
        for endpoint in endpoints for index in range(3)
    )
    return endpoints[0]


@pytest.mark.parametrize("size", [1, 6])
def test_the_pages_run_a_constant_number_of_queries(client, admin_user, owner, size, django_assert_num_queries):
    first = _endpoints_with_deliveries(size)
    ClientFactory(owner=owner)
    client.force_login(admin_user)
    # The session, the user, the user's roles (navbar); then the endpoints and the latest
    # deliveries with their endpoint: 5, whatever the number of either.
    with django_assert_num_queries(5):
        assert client.get(LIST).status_code == 200
    # The same three; then the endpoint and its latest deliveries: 5.
    with django_assert_num_queries(5):
        assert client.get(reverse("webhooks:endpoint_edit", args=[first.pk])).status_code == 200
