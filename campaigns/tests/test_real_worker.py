"""A campaign sent by two sender tasks on a real Celery worker over Redis: everyone once."""

import time

import pytest
from django.test import TestCase

from campaigns.models import Campaign, Recipient
from campaigns.services import campaign_launch
from campaigns.tests.test_campaigns import consented, email_campaign
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mail_dir(tmp_path, monkeypatch):
    """The worker writes each e-mail to a file here (django-environ's filemail backend)."""
    folder = tmp_path / "mail"
    folder.mkdir()
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{folder}")  # django-environ drops one leading slash
    return folder


def test_two_senders_on_a_worker_write_to_each_recipient_once(mail_dir, worker_queue, owner, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CAMPAIGN_SENDERS = 2
    monkeypatch.setattr("campaigns.services.BATCH_SIZE", 7)  # several batches for the two senders
    clients = [consented(ClientFactory(owner=owner, email=f"c{n}@example.com")) for n in range(40)]
    campaign = email_campaign(owner)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert campaign_launch(campaign, user=owner)
    deadline = time.monotonic() + 60
    while Campaign.objects.get(pk=campaign.pk).state != Campaign.State.DONE and time.monotonic() < deadline:
        time.sleep(0.3)
    assert Campaign.objects.get(pk=campaign.pk).state == Campaign.State.DONE
    assert Recipient.objects.filter(campaign=campaign, state=Recipient.State.SENT).count() == 40
    recipients = []
    for file in mail_dir.iterdir():
        recipients += [line.split(": ", 1)[1] for line in file.read_text().splitlines() if line.startswith("To: ")]
    assert sorted(recipients) == sorted(client.email for client in clients)
