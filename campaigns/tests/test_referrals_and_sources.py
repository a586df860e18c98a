"""Issue 18 in campaigns: a phone campaign asking for referrals, aimed by default at the NPS
promoters, and the campaign recorded as the source of the clients who first bought in answer."""

import datetime as dt

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from campaigns.models import Campaign, Recipient, SurveyAnswer
from campaigns.services import campaign_launch, campaign_sources_record, promoters_segment
from clients.models import Client, FollowUp, Status
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.segments import segment_clients

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _answer(client: Client, score: int, days_ago: int, campaign: Campaign) -> None:
    recipient = Recipient.objects.create(campaign=campaign, client=client, status_at_launch=client.status, state="sent")
    SurveyAnswer.objects.create(
        recipient=recipient, client=client, score=score, answered_at=timezone.now() - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def survey(owner):
    segment = promoters_segment(user=owner)  # any segment will do for the survey rows
    return Campaign.objects.create(name="NPS", goal=Campaign.Goal.SURVEY, segment=segment, created_by=owner,
                                   state=Campaign.State.DONE, launched_at=timezone.now())


def test_the_promoters_segment_holds_clients_whose_latest_answer_is_9_or_10(owner, survey):
    promoter = ClientFactory(owner=owner, first_name="Promotor")
    _answer(promoter, 10, 5, survey)
    once = ClientFactory(owner=owner, first_name="Antes")  # 9 once, 4 since: no longer a promoter
    _answer(once, 9, 50, Campaign.objects.create(name="Old", goal="survey", segment=survey.segment, created_by=owner))
    _answer(once, 4, 3, survey)
    passive = ClientFactory(owner=owner, first_name="Pasivo")
    _answer(passive, 8, 2, Campaign.objects.create(name="Other", goal="survey", segment=survey.segment, created_by=owner))
    ClientFactory(owner=owner, first_name="Sin respuesta")

    segment = promoters_segment(user=owner)
    assert segment == survey.segment  # found again, not saved twice
    assert [c.first_name for c in segment_clients(user=owner, segment=segment)] == ["Promotor"]


def test_a_referrals_campaign_left_without_a_segment_calls_the_promoters(client, owner, survey):
    promoter = ClientFactory(owner=owner, first_name="Promotor")
    _answer(promoter, 9, 5, survey)
    ClientFactory(owner=owner, first_name="Otro")
    client.force_login(owner)
    response = client.post(reverse("campaigns:campaign_create"), {
        "name": "Referidos", "goal": "referrals", "channel": "phone", "segment": "",
        "followup_due": (TODAY + dt.timedelta(days=1)).isoformat(), "results_days": 30,
    })
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Referidos")
    assert campaign.segment == survey.segment
    assert "(Recomendado por)" in campaign.body  # default talking points, in the user's language (Spanish)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert campaign_launch(campaign, user=owner)
    calls = FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN)
    assert list(calls.values_list("client_id", flat=True)) == [promoter.pk]


def test_referrals_are_asked_for_by_phone(client, owner):
    client.force_login(owner)
    response = client.post(reverse("campaigns:campaign_create"), {
        "name": "Referidos", "goal": "referrals", "channel": "email", "subject": "s", "body": "b", "results_days": 30,
    })
    assert response.status_code == 200
    assert "channel" in response.context["form"].errors
    response = client.post(reverse("campaigns:campaign_create"), {
        "name": "Promo", "goal": "promotion", "channel": "phone", "segment": "",
        "followup_due": (TODAY + dt.timedelta(days=1)).isoformat(), "results_days": 30,
    })
    assert "segment" in response.context["form"].errors  # only referrals have a default audience
    assert not Campaign.objects.exists()


def _launched(owner, *, days_ago: int, name: str, results_days: int = 30) -> Campaign:
    return Campaign.objects.create(
        name=name, goal=Campaign.Goal.PROMOTION, channel=Campaign.Channel.PHONE, segment=promoters_segment(user=owner),
        created_by=owner, state=Campaign.State.DONE, results_days=results_days,
        launched_at=timezone.now() - dt.timedelta(days=days_ago), followup_due=TODAY,
    )


def _reached(campaign: Campaign, client: Client, status: str = Status.PROSPECT, state: str = "scheduled") -> None:
    Recipient.objects.create(campaign=campaign, client=client, status_at_launch=status, state=state)


def test_a_prospect_who_first_bought_after_a_campaign_gets_it_as_source(owner):
    older = _launched(owner, days_ago=40, name="Primavera", results_days=60)
    newer = _launched(owner, days_ago=20, name="Verano")
    both = ClientFactory(owner=owner, first_name="Ambas", first_purchase_date=TODAY - dt.timedelta(days=10))
    _reached(older, both)
    _reached(newer, both)
    early = ClientFactory(owner=owner, first_name="Antes", first_purchase_date=TODAY - dt.timedelta(days=30))
    _reached(newer, early)  # bought before Verano's launch…
    _reached(older, early)  # …and within Primavera's 60 days
    late = ClientFactory(owner=owner, first_name="Tarde", first_purchase_date=TODAY - dt.timedelta(days=1))
    _reached(older, late, state="failed")  # never reached
    buyer = ClientFactory(owner=owner, first_name="Ya cliente", first_purchase_date=TODAY - dt.timedelta(days=5))
    _reached(newer, buyer, status=Status.ACTIVE)  # not a prospect then: no new client
    typed = ClientFactory(owner=owner, first_name="Web", source="web", first_purchase_date=TODAY - dt.timedelta(days=5))
    _reached(newer, typed)  # a source someone recorded is kept

    assert campaign_sources_record() == 2
    sources = dict(Client.objects.values_list("first_name", "source_detail"))
    assert sources == {"Ambas": "Verano", "Antes": "Primavera", "Tarde": "", "Ya cliente": "", "Web": ""}
    assert Client.objects.get(first_name="Ambas").source == Client.Source.CAMPAIGN
    entry = AuditEntry.objects.get(client_id=both.pk)
    assert entry.user is None and entry.changes == {"source": ["", "campaign"], "source_detail": ["", "Verano"]}
    assert Client.objects.get(first_name="Ambas").version == entry.version == 1
    assert campaign_sources_record() == 0  # a second run changes nothing


def test_recording_the_first_purchase_on_the_page_records_the_campaign(client, owner):
    campaign = _launched(owner, days_ago=3, name="Llamadas")
    prospect = ClientFactory(owner=owner)
    _reached(campaign, prospect)
    client.force_login(owner)
    response = client.post(reverse("clients:purchase_create", args=[prospect.pk]), {
        "date": TODAY.isoformat(), "amount": "50.00", "currency": "EUR", "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0", "token": "t-1",
    })
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    prospect.refresh_from_db()
    assert (prospect.source, prospect.source_detail) == ("campaign", "Llamadas")
    PurchaseFactory(client=prospect)  # the purchase page's later purchases change nothing
    assert campaign_sources_record(client_ids=[prospect.pk]) == 0


def test_a_referrals_campaign_counts_the_clients_its_recipients_referred_since_the_launch(owner):
    from campaigns.services import campaign_results

    campaign = _launched(owner, days_ago=5, name="Pide referidos")
    campaign.goal = Campaign.Goal.REFERRALS
    campaign.save()
    promoter = ClientFactory(owner=owner)
    _reached(campaign, promoter, status=Status.ACTIVE)
    ClientFactory(owner=owner, referred_by=promoter)  # since the launch
    ClientFactory(owner=owner, referred_by=promoter, created_at=timezone.now() - dt.timedelta(days=30))  # before
    ClientFactory(owner=owner, referred_by=ClientFactory(owner=owner))  # by someone the campaign did not call
    assert campaign_results(campaign)["referrals"] == 1
    assert "referrals" not in campaign_results(_launched(owner, days_ago=5, name="Otra"))


def test_after_a_purchase_only_the_campaigns_that_reached_the_client_are_read(owner, django_assert_num_queries):
    for number in range(5):
        _launched(owner, days_ago=3, name=f"Otra {number}")
    campaign = _launched(owner, days_ago=3, name="Esta")
    prospect = ClientFactory(owner=owner, first_purchase_date=TODAY)
    _reached(campaign, prospect)
    # its savepoint; the campaigns that reached the client (one); its clients to change, locked;
    # the update; the audit rows; the savepoint's release
    with django_assert_num_queries(6):
        assert campaign_sources_record(client_ids=[prospect.pk]) == 1
    with django_assert_num_queries(3):  # it has a source now: no campaign to read (and the savepoint)
        assert campaign_sources_record(client_ids=[prospect.pk]) == 0
