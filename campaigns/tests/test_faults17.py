"""Issue 17: a subject that breaks the e-mail header, unsubscribe links that a mail scanner's
prefetch must not act on, and the public pages' rate limits."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from campaigns.models import Campaign, Recipient
from campaigns.services import campaign_launch
from campaigns.tests.test_campaigns import consented, email_campaign, launch, segment
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("subject", ["Hola\rmundo", "Hola\nmundo", "Hola\r\nBcc: x@example.com", "Hola\tmundo",
                                     "Hola\x1bmundo", "Hola\x7fmundo", "Hola\u2028mundo"])
def test_a_subject_with_a_line_break_or_a_control_character_is_refused_by_the_form(client, owner, subject):
    client.force_login(owner)
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        response = client.post(reverse("campaigns:campaign_create"), {
            "name": "Mal", "goal": "promotion", "channel": "email", "segment": segment(owner).pk,
            "subject": subject, "body": "Texto", "results_days": 30,
        })
    assert response.status_code == 200
    assert response.context["form"].errors["subject"] == [
        "The subject must be a single line: remove the line breaks, tabs and other invisible characters."]
    assert not Campaign.objects.exists()


def test_a_campaign_saved_with_a_carriage_return_elsewhere_is_not_launched(owner):
    consented(ClientFactory(owner=owner))
    campaign = email_campaign(owner, subject="Oferta\rde otoño")  # the admin, or a row from before the check
    with pytest.raises(ValidationError):
        campaign_launch(campaign, user=owner)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and not Recipient.objects.exists()


def test_a_merge_value_with_a_line_break_does_not_fail_the_message(owner):
    consented(ClientFactory(owner=owner, first_name="Ana\r\nMaría"))
    launch(email_campaign(owner), owner)
    assert Recipient.objects.get().state == Recipient.State.SENT
    [message] = mail.outbox
    assert message.subject == "Ana  María, una oferta"
