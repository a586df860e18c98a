"""A draft's audience page: what each viewer may see (issue 17) and its counts at any size (issue 16)."""

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns import services
from campaigns.services import audience_counts
from campaigns.tests.test_campaigns import consented, email_campaign
from clients.models import ClientShare
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_a_draft_shows_its_viewer_only_the_recipients_they_may_see(client, owner, outsider, other_manager):
    """The creator (a comercial of another team) reaches a client shared with them; the gerente of
    the creator's team sees the draft, but not that client's name or address."""
    secret = consented(ClientFactory(owner=owner, first_name="Secreta", last_name="Norte", email="secreta@example.com"))
    ClientShare.objects.create(client=secret, user=outsider)
    consented(ClientFactory(owner=outsider, first_name="Propia", last_name="Sur", email="propia@example.com"))
    campaign = email_campaign(outsider)
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])

    client.force_login(other_manager)
    for params in ({}, {"q": "secreta"}, {"client": secret.pk}):
        page = client.get(url, params)
        assert page.status_code == 200
        assert b"Secreta" not in page.content and b"secreta@example.com" not in page.content
    assert b"Propia" in client.get(url).content
    assert client.get(url).context["audience"]["reachable"] == 2  # the campaign's audience, as it will be sent

    client.force_login(outsider)
    assert b"Secreta" in client.get(url, {"q": "secreta"}).content  # its creator may see them


def test_a_large_audience_is_estimated_from_a_sample_and_the_nightly_size(client, owner):
    for index in range(6):
        person = ClientFactory(owner=owner, email="" if index == 0 else f"c{index}@example.com")
        if index % 2:
            consented(person)
    campaign = email_campaign(owner)  # its segment counted when saved: 6 clients
    for _ in range(4):
        ClientFactory(owner=owner, email="")  # after the count: the size stays last night's

    with mock.patch.object(services, "AUDIENCE_SAMPLE", 5):
        counts = audience_counts(campaign)
    assert counts["estimated"] is True and counts["segment"] == 6
    assert counts["segment"] == counts["reachable"] + counts["no_email"] + counts["no_consent"]

    with mock.patch.object(services, "AUDIENCE_SAMPLE", 100):
        assert audience_counts(campaign) == {
            "segment": 10, "reachable": 3, "no_email": 5, "no_consent": 2, "estimated": False,
        }


def test_the_page_says_when_the_audience_is_estimated(client, owner):
    for _ in range(3):
        consented(ClientFactory(owner=owner))
    campaign = email_campaign(owner)
    client.force_login(owner)
    with translation.override("en"), mock.patch.object(services, "AUDIENCE_SAMPLE", 2):
        page = client.get(reverse("campaigns:campaign_detail", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="audience-estimated"' in page.content and "≈".encode() in page.content
