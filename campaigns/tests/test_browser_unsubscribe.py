"""The unsubscribe link of a campaign e-mail, as the client meets it: a question first, then the answer."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Consent, Purpose
from campaigns.tests.test_campaigns import consented, email_campaign, launch
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_client_opens_the_link_confirms_and_is_unsubscribed_from_everything(live_server, page, owner, settings):
    settings.SITE_URL = live_server.url
    lucia = consented(ClientFactory(owner=owner, first_name="Lucía", country="GB"))
    consented(lucia, Purpose.NEWSLETTER)
    launch(email_campaign(owner), owner)
    from django.core import mail

    [message] = mail.outbox
    link = next(word for word in message.body.split() if "/campaigns/unsubscribe/" in word)

    page.goto(link)  # what a mail scanner's prefetch does too

    expect(page.get_by_test_id("unsubscribe-confirm")).to_contain_text("Promotions and offers")
    assert set(Consent.objects.filter(client=lucia).values_list("granted", flat=True)) == {True}
    page.get_by_test_id("unsubscribe-everything").click()
    expect(page.get_by_test_id("unsubscribed")).to_contain_text("Newsletter")
    assert set(Consent.objects.filter(client=lucia).values_list("granted", flat=True)) == {False}
    page.goto(link)  # the link again: only the question
    expect(page.get_by_test_id("unsubscribe-confirm")).to_be_visible()
