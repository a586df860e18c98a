"""Issue 17: a subject that breaks the e-mail header, unsubscribe links that a mail scanner's
prefetch must not act on, and the public pages' rate limits."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation

from campaigns.consent import consent_record
from campaigns.models import Campaign, Consent, ConsentChange, ConsentSource, Purpose, Recipient
from campaigns.services import campaign_launch, campaign_results
from campaigns.tests.test_campaigns import consented, email_campaign, launch, segment
from campaigns.tokens import unsubscribe_token
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


# --- Unsubscribe: a GET shows the question, a POST withdraws -----------------------------------

def _unsubscribe_url(owner, purpose: str = Purpose.PROMOTIONS):
    record = consented(ClientFactory(owner=owner, country="GB"), purpose)
    campaign = email_campaign(owner)
    return record, campaign, reverse("campaigns:unsubscribe", args=[unsubscribe_token(record.pk, purpose, campaign.pk)])


def test_opening_the_unsubscribe_link_changes_nothing_it_asks(client, owner):
    """A mail scanner or a link preview fetches the link (GET, HEAD): the client stays subscribed."""
    record, _campaign, url = _unsubscribe_url(owner)

    page = client.get(url)
    head = client.head(url)

    assert page.status_code == head.status_code == 200
    assert b'data-testid="unsubscribe-confirm"' in page.content
    assert b"Do you want to stop receiving e-mails of: Promotions and offers?" in page.content  # in the client's language
    assert page["Content-Language"] == "en"
    assert Consent.objects.get(client=record).granted is True
    assert not ConsentChange.objects.filter(granted=False).exists()


def test_the_confirmation_button_withdraws_the_consent(client, owner):
    record, campaign, url = _unsubscribe_url(owner)

    response = client.post(url, REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 200 and b'data-testid="unsubscribed"' in response.content
    assert Consent.objects.get(client=record).granted is False
    change = ConsentChange.objects.get(granted=False)
    assert (change.campaign, change.evidence) == (campaign, "Unsubscribe link, from 203.0.113.9")


def test_rfc_8058_one_click_post_from_the_mail_program_withdraws_without_a_page_session_or_csrf(owner):
    record, campaign, url = _unsubscribe_url(owner)
    mail_program = HttpClient(enforce_csrf_checks=True)

    response = mail_program.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded",
                                 REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 200
    assert Consent.objects.get(client=record).granted is False
    change = ConsentChange.objects.get(granted=False)
    assert change.evidence == "One-click unsubscribe from the mail program, from 198.51.100.7"
    assert campaign_results(campaign)["unsubscribed"] == 1


def test_other_methods_are_refused(client, owner):
    record, _campaign, url = _unsubscribe_url(owner)
    assert client.put(url).status_code == 405 and client.delete(url).status_code == 405
    assert Consent.objects.get(client=record).granted is True


def test_the_campaign_email_carries_one_click_headers_whose_link_takes_the_post(owner):
    consented(ClientFactory(owner=owner))
    launch(email_campaign(owner), owner)
    [message] = mail.outbox

    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<") and header.endswith(">")  # RFC 2369: the URI between angle brackets
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058
    link = header.strip("<>")
    assert link in message.body  # the same link in the footer, which asks before withdrawing
    assert "\r" not in message.message()["Subject"] and "\n" not in message.message()["Subject"]


@pytest.mark.parametrize("changes", [1, 6])
def test_the_unsubscribe_question_runs_a_constant_number_of_queries(client, owner, django_assert_num_queries, changes):
    record, _campaign, url = _unsubscribe_url(owner)
    for granted in [False, True] * (changes // 2):  # the client's consent history does not change the page
        consent_record(client=record, purpose=Purpose.PROMOTIONS, granted=granted, source=ConsentSource.FORM)
    with django_assert_num_queries(1):  # the client
        assert client.get(url).status_code == 200
