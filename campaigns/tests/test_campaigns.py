"""Campaigns: consent, sending once, unsubscribe, phone campaigns, NPS and results."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.http import QueryDict
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from campaigns.consent import consent_record, consenting
from campaigns.models import Campaign, Consent, ConsentChange, ConsentSource, Purpose, Recipient, SurveyAnswer
from campaigns.nps import nps, nps_score
from campaigns.pacing import first_working_day
from campaigns.services import (
    campaign_launch,
    campaign_results,
    campaign_send_batch,
    campaigns_resume,
)
from campaigns.tasks import campaign_send
from campaigns.tokens import survey_read, survey_token, unsubscribe_token
from clients.models import Alert, Client, FollowUp, Interaction, Status
from clients.tests.factories import ClientFactory, ProductFactory, PurchaseFactory
from segmentation.segments import segment_create
from segmentation.services import lifecycle_recompute

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def consented(client: Client, purpose: str = Purpose.PROMOTIONS) -> Client:
    consent_record(client=client, purpose=purpose, granted=True, source=ConsentSource.FORM, evidence="Form 1")
    return client


def segment(owner, query: str = "", name: str = "Todos"):
    return segment_create(owner=owner, name=name, shared=False, query=QueryDict(query))


def email_campaign(owner, **fields) -> Campaign:
    values = {
        "name": "Otoño", "goal": Campaign.Goal.PROMOTION, "channel": Campaign.Channel.EMAIL,
        "segment": fields.pop("segment", None) or segment(owner),
        "subject": "{{ first_name }}, una oferta", "body": "Hola {{ first_name }}: {{ salesperson }} te recuerda {{ last_product }}.",
        "created_by": owner,
    } | fields
    return Campaign.objects.create(**values)


def launch(campaign: Campaign, user) -> bool:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return campaign_launch(campaign, user=user)


def test_only_clients_who_consented_and_have_an_address_are_written_to(owner):
    yes = consented(ClientFactory(owner=owner, first_name="Sí"))
    consented(ClientFactory(owner=owner, first_name="Retirado"))
    withdrawn = Client.objects.get(first_name="Retirado")
    consent_record(client=withdrawn, purpose=Purpose.PROMOTIONS, granted=False, source=ConsentSource.PHONE)
    consented(ClientFactory(owner=owner, first_name="Boletín"), Purpose.NEWSLETTER)  # another purpose
    consented(ClientFactory(owner=owner, first_name="Sin correo", email=""))
    ClientFactory(owner=owner, first_name="Nunca")  # never asked
    assert list(consenting(Client.objects.all(), Purpose.PROMOTIONS).exclude(email="")) == [yes]

    campaign = email_campaign(owner)
    assert launch(campaign, owner)
    assert [m.to for m in mail.outbox] == [[yes.email]]
    assert ConsentChange.objects.filter(client=withdrawn).count() == 2  # the grant and the withdrawal


def test_the_launch_stores_its_recipients_count_which_the_list_shows(client, owner):
    for name in ("Ana", "Luis", "Eva"):
        consented(ClientFactory(owner=owner, first_name=name))
    ClientFactory(owner=owner, first_name="Nunca")  # never asked: no recipient
    campaign = email_campaign(owner)
    assert campaign.recipient_count == 0
    assert launch(campaign, owner)
    campaign.refresh_from_db()
    assert campaign.recipient_count == Recipient.objects.filter(campaign=campaign).count() == 3
    client.force_login(owner)
    page = client.get(reverse("campaigns:campaign_list")).content.decode()
    assert '<td class="text-end">3</td>' in page


def test_a_message_is_personal_and_carries_the_unsubscribe_link_and_headers(owner):
    record = consented(ClientFactory(owner=owner, first_name="Lucía", country="ES"))
    purchase = PurchaseFactory(client=record)
    purchase.lines.create(product=ProductFactory(name="Café de Colombia"), quantity=1, unit_price=purchase.amount)
    launch(email_campaign(owner), owner)
    [message] = mail.outbox
    assert message.subject == "Lucía, una oferta"
    assert "Hola Lucía: Comercial Test te recuerda Café de Colombia." in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in message.body and link in message.alternatives[0][0]
    assert "/campaigns/unsubscribe/" in link


def test_sending_again_sends_nothing_new(owner):
    for _ in range(5):
        consented(ClientFactory(owner=owner))
    campaign = email_campaign(owner)
    launch(campaign, owner)
    assert len(mail.outbox) == 5
    assert launch(campaign, owner) is False  # a second click launches nothing
    campaign_send(campaign.pk)
    assert len(mail.outbox) == 5
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DONE
    assert set(Recipient.objects.values_list("state", flat=True)) == {Recipient.State.SENT}


def test_a_crash_in_the_middle_resumes_without_writing_to_anyone_twice(owner, monkeypatch):
    """A sender dies after claiming a batch and sending one of its three messages."""
    for _ in range(7):
        consented(ClientFactory(owner=owner))
    campaign = email_campaign(owner)
    monkeypatch.setattr("campaigns.services.BATCH_SIZE", 3)
    monkeypatch.setattr("django.conf.settings.CAMPAIGN_SENDERS", 0)  # launch without sending: sent by hand
    launch(campaign, owner)
    assert campaign_send_batch(campaign.pk, size=3) == 3
    sent_before_crash = len(mail.outbox)
    claimed = list(Recipient.objects.filter(state=Recipient.State.PENDING).order_by("id")[:3])
    Recipient.objects.filter(pk__in=[r.pk for r in claimed]).update(
        state=Recipient.State.SENDING, claimed_at=timezone.now() - dt.timedelta(minutes=20),
    )
    mail.outbox.append(mail.EmailMessage("crash", "", to=[claimed[0].client.email]))
    # The nightly run finds the campaign still sending and resumes it.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert campaigns_resume() == 1
    addresses = [m.to[0] for m in mail.outbox]
    assert len(addresses) == len(set(addresses)) == 7 - 2  # the other two in flight are not risked
    assert sent_before_crash == 3
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DONE
    assert Recipient.objects.filter(state=Recipient.State.FAILED).count() == 3


def test_a_client_who_unsubscribes_during_the_sending_is_not_written_to(owner, monkeypatch):
    first, second = consented(ClientFactory(owner=owner)), consented(ClientFactory(owner=owner))
    monkeypatch.setattr("django.conf.settings.CAMPAIGN_SENDERS", 0)
    campaign = email_campaign(owner)
    launch(campaign, owner)
    consent_record(client=second, purpose=Purpose.PROMOTIONS, granted=False, source=ConsentSource.UNSUBSCRIBE)
    campaign_send(campaign.pk)
    assert [m.to for m in mail.outbox] == [[first.email]]


def test_behind_a_proxy_the_unsubscribe_evidence_names_the_client_address(client, owner, settings):
    settings.PROXY_COUNT = 1
    record = consented(ClientFactory(owner=owner))
    token = unsubscribe_token(record.pk, Purpose.PROMOTIONS, email_campaign(owner).pk)
    client.post(
        reverse("campaigns:unsubscribe", args=[token]), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert "203.0.113.9" in ConsentChange.objects.get(client=record, granted=False).evidence


def test_unsubscribe_with_a_good_token_takes_effect_at_once_and_is_recorded(client, owner):
    record = consented(ClientFactory(owner=owner))
    campaign = email_campaign(owner)
    token = unsubscribe_token(record.pk, Purpose.PROMOTIONS, campaign.pk)
    response = client.post(reverse("campaigns:unsubscribe", args=[token]), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200 and b'data-testid="unsubscribed"' in response.content
    assert Consent.objects.get(client=record, purpose=Purpose.PROMOTIONS).granted is False
    change = ConsentChange.objects.filter(client=record).first()
    assert (change.granted, change.source, change.campaign) == (False, ConsentSource.UNSUBSCRIBE, campaign)
    assert "203.0.113.9" in change.evidence
    # One-click (RFC 8058): the mail client POSTs without a session or CSRF token.
    csrf_client = client_class_enforcing_csrf()
    again = csrf_client.post(reverse("campaigns:unsubscribe", args=[token]), {"List-Unsubscribe": "One-Click", "everything": "1"})
    assert again.status_code == 200
    assert set(Consent.objects.filter(client=record).values_list("granted", flat=True)) == {False}
    assert campaign_results(campaign)["unsubscribed"] == 1


def client_class_enforcing_csrf():
    from django.test import Client as HttpClient

    return HttpClient(enforce_csrf_checks=True)


def test_unsubscribe_with_a_tampered_token_changes_nothing(client, owner):
    record = consented(ClientFactory(owner=owner))
    other = consented(ClientFactory(owner=owner))
    token = unsubscribe_token(record.pk, Purpose.PROMOTIONS, None)
    tampered = token.replace(token.split(":")[0], unsubscribe_token(other.pk, Purpose.PROMOTIONS, None).split(":")[0])
    for bad in (tampered, token[:-2] + "xx", "nonsense"):
        response = client.get(reverse("campaigns:unsubscribe", args=[bad]))
        assert response.status_code == 404 and b'data-testid="invalid-link"' in response.content
    assert set(Consent.objects.values_list("granted", flat=True)) == {True}


def test_a_phone_campaign_puts_a_call_in_each_owners_agenda_once(owner, teammate, manager):
    ana = ClientFactory(owner=owner)
    bea = ClientFactory(owner=teammate)
    campaign = Campaign.objects.create(
        name="Reactivar", goal=Campaign.Goal.REACTIVATION, channel=Campaign.Channel.PHONE, segment=segment(manager),
        followup_due=TODAY + dt.timedelta(days=2), created_by=manager,
    )
    assert launch(campaign, manager)
    calls = FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN)
    assert sorted(calls.values_list("client_id", "assigned_to_id")) == sorted([(ana.pk, owner.pk), (bea.pk, teammate.pk)])
    # The first working day from the campaign's date (campaigns.pacing spreads larger portfolios).
    assert {timezone.localdate(f.due_at) for f in calls} == {first_working_day(TODAY + dt.timedelta(days=2), TODAY)}
    assert not mail.outbox
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DONE
    assert launch(campaign, manager) is False
    assert calls.count() == 2
    assert campaign_results(campaign)["scheduled"] == 2


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], None),
        ([10, 9, 8, 7, 6], 20),  # 2 promoters, 2 passives, 1 detractor of 5
        ([0, 6, 9], -33),  # 1 promoter, 2 detractors of 3: -33.3 → -33
        ([9, 9], 100),
        ([6, 6, 7], -67),
        ([7, 8], 0),
    ],
)
def test_nps_arithmetic(owner, scores, expected):
    campaign = email_campaign(owner, goal=Campaign.Goal.SURVEY)
    for score in scores:
        recipient = Recipient.objects.create(campaign=campaign, client=ClientFactory(owner=owner), status_at_launch="active")
        SurveyAnswer.objects.create(recipient=recipient, client=recipient.client, score=score)
    result = nps(SurveyAnswer.objects.all())
    assert result["score"] == expected
    assert result["promoters"] + result["passives"] + result["detractors"] == len(scores)
    assert nps_score(result["promoters"], result["detractors"], len(scores)) == expected


def survey_campaign_sent(owner, **client_fields):
    record = consented(ClientFactory(owner=owner, **client_fields), Purpose.SURVEYS)
    campaign = email_campaign(owner, goal=Campaign.Goal.SURVEY, name="Satisfacción", subject="Tu opinión", body="Hola {{ first_name }}")
    launch(campaign, owner)
    return record, campaign, Recipient.objects.get(client=record)


def test_a_detractors_answer_becomes_an_interaction_a_call_and_red(client, owner):
    record, campaign, recipient = survey_campaign_sent(owner)
    [message] = mail.outbox
    # The link the e-mail holds, signed at the second it was sent (a token made now may differ).
    [token] = re.findall(r"/campaigns/survey/([^/\s]+)/", message.body)
    assert survey_read(token) == recipient.pk
    link = reverse("campaigns:survey", args=[token])
    page = client.get(link)
    assert page.status_code == 200 and b"0" in page.content
    response = client.post(link, {"score": "3", "comment": "Tardaron mucho"})
    assert b'data-testid="survey-thanks"' in response.content
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.comment, answer.client) == (3, "Tardaron mucho", record)
    interaction = Interaction.objects.get(client=record)
    assert interaction.kind == Interaction.Kind.SURVEY and "3/10" in interaction.summary
    call = FollowUp.objects.get(client=record, origin=FollowUp.Origin.DETRACTOR)
    assert call.assigned_to == owner and call.status == FollowUp.State.PENDING
    record.refresh_from_db()
    assert (record.alert, record.alert_reason) == (Alert.RED, "detractor")
    # Answered once: a second post changes nothing.
    client.post(link, {"score": "10"})
    assert SurveyAnswer.objects.get().score == 3
    results = campaign_results(campaign)
    assert results["nps"]["score"] == -100 and results["nps"]["answers"] == 1


def test_a_promoters_answer_leaves_the_client_alone(client, owner):
    record, _campaign, recipient = survey_campaign_sent(owner)
    client.post(reverse("campaigns:survey", args=[survey_token(recipient.pk)]), {"score": "10"})
    assert not FollowUp.objects.filter(client=record).exists()
    record.refresh_from_db()
    assert record.alert != Alert.RED


def test_the_survey_speaks_the_clients_language_and_asks_why_a_lost_client_left(client, owner):
    record, _campaign, recipient = survey_campaign_sent(owner, country="BR")
    Client.objects.filter(pk=record.pk).update(status=Status.LOST)
    link = reverse("campaigns:survey", args=[survey_token(recipient.pk)])
    page = client.get(link)
    assert page["Content-Language"] == "pt-br"
    assert "leave_reason" in page.context["form"].fields
    client.post(link, {"score": "5", "leave_reason": "price"})
    assert SurveyAnswer.objects.get().leave_reason == "price"
    assert Client.objects.get(pk=record.pk).close_reason == "price"


def test_a_tampered_survey_token_is_refused(client, owner):
    _record, _campaign, recipient = survey_campaign_sent(owner)
    token = survey_token(recipient.pk)
    response = client.post(reverse("campaigns:survey", args=[token[:-3] + "abc"]), {"score": "0"})
    assert response.status_code == 404
    assert not SurveyAnswer.objects.exists()


def test_results_count_purchases_after_the_send_and_reactivated_dormant_clients(owner):
    sleeper = consented(ClientFactory(owner=owner))
    PurchaseFactory(client=sleeper, date=TODAY - dt.timedelta(days=200))
    awake = consented(ClientFactory(owner=owner))
    PurchaseFactory(client=awake, date=TODAY - dt.timedelta(days=10))
    outsider = ClientFactory(owner=owner)  # no consent: not a recipient
    lifecycle_recompute()
    assert Client.objects.get(pk=sleeper.pk).status == Status.DORMANT
    campaign = email_campaign(owner)
    launch(campaign, owner)
    PurchaseFactory(client=sleeper, date=TODAY, amount=Decimal("80.00"))
    PurchaseFactory(client=awake, date=TODAY, amount=Decimal("20.50"))
    PurchaseFactory(client=outsider, date=TODAY, amount=Decimal("999.00"))
    results = campaign_results(campaign)
    assert (results["sent"], results["failed"], results["purchases"], results["revenue"], results["reactivated"]) == (
        2, 0, 2, Decimal("100.50"), 1,
    )


def test_an_email_campaign_needs_known_merge_fields(client, owner):
    client.force_login(owner)
    response = client.post(reverse("campaigns:campaign_create"), {
        "name": "Mal", "goal": "promotion", "channel": "email", "segment": segment(owner).pk,
        "subject": "Hola {{ nombre }}", "body": "Texto", "results_days": 30,
    })
    assert response.status_code == 200
    assert "{{ nombre }}" in " ".join(response.context["form"].errors["subject"])
    assert not Campaign.objects.exists()


def test_campaign_pages_are_scoped_and_only_the_creator_launches(client, owner, teammate, manager, outsider, other_manager):
    consented(ClientFactory(owner=owner))
    campaign = email_campaign(owner)
    client.force_login(other_manager)
    assert client.get(campaign.get_absolute_url()).status_code == 404
    client.force_login(manager)  # sees the team's campaign, does not launch someone else's
    assert client.get(campaign.get_absolute_url()).status_code == 200
    assert client.post(reverse("campaigns:campaign_launch", args=[campaign.pk])).status_code == 404
    client.force_login(teammate)
    assert client.get(campaign.get_absolute_url()).status_code == 404
    client.force_login(owner)
    page = client.get(campaign.get_absolute_url())
    assert page.context["audience"]["reachable"] == 1
    assert page.context["preview"]["subject"].endswith(", una oferta")
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("campaigns:campaign_launch", args=[campaign.pk]))
    assert len(mail.outbox) == 1


def test_consent_is_recorded_from_the_client_page(client, owner, outsider):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    url = reverse("campaigns:consent_update", args=[record.pk])
    client.post(url, {"purpose": "newsletter", "granted": "yes", "source": "in_person", "evidence": "Feria 2026"})
    consent = Consent.objects.get(client=record)
    assert (consent.purpose, consent.granted, consent.source, consent.evidence) == ("newsletter", True, "in_person", "Feria 2026")
    assert ConsentChange.objects.get(client=record).recorded_by == owner
    page = client.get(record.get_absolute_url())
    assert b"Feria 2026" in page.content
    client.force_login(outsider)
    assert client.post(url, {"purpose": "newsletter", "granted": "no", "source": "phone"}).status_code == 404
    assert Consent.objects.get(client=record).granted is True


@pytest.mark.parametrize("count", [1, 5])
def test_campaign_pages_run_a_constant_number_of_queries(client, owner, django_assert_num_queries, count):
    audience = segment(owner)
    for _ in range(count):
        consented(ClientFactory(owner=owner))
        email_campaign(owner, segment=audience)
    client.force_login(owner)
    # session, user, roles, the people whose campaigns the user sees, the campaigns
    with django_assert_num_queries(5):
        client.get(reverse("campaigns:campaign_list"))
    campaign = Campaign.objects.first()
    # session, user, roles, the people whose campaigns the user sees, the campaign, the access
    # rule's shares (once: the viewer is the creator), the audience counts, the preview's
    # clients and their last product
    with django_assert_num_queries(9):
        client.get(campaign.get_absolute_url())


def test_the_dashboard_shows_nps_per_salesperson_segment_and_campaign(client, owner, teammate, manager, outsider):
    from campaigns.nps import dashboard_nps_add, nps_snapshot_take
    from segmentation.dashboard import dashboard_build

    campaign = email_campaign(manager, goal=Campaign.Goal.SURVEY, name="Encuesta")
    scores = {owner: [10, 9, 3], teammate: [8, 2], outsider: [0]}  # the outsider is another team's
    for person, values in scores.items():
        for score in values:
            record = ClientFactory(owner=person, city="Vigo" if score >= 8 else "Lugo")
            recipient = Recipient.objects.create(campaign=campaign, client=record, status_at_launch="active")
            SurveyAnswer.objects.create(recipient=recipient, client=record, score=score)
    vigo = segment(manager, "city=Vigo", name="Vigo")
    lifecycle_recompute()  # the night's snapshots, which the dashboard's page shows
    nps_snapshot_take(day=timezone.localdate())  # the NPS one, as the nightly snapshots step takes it
    board = dashboard_build(user=manager)
    dashboard_nps_add(board, user=manager)  # as the dashboard's view does
    # Independent arithmetic: the team's six answers → promoters 10, 9; detractors 3, 2.
    assert (board.nps["answers"], board.nps["score"]) == (5, 0)
    by_person = {entry["person"]: entry["nps"] for entry in board.by_person}
    assert by_person[owner]["score"] == round(100 * (2 - 1) / 3)
    assert by_person[teammate]["score"] == round(100 * (0 - 1) / 2)
    [segment_row] = [row for row in board.segments if row.code == str(vigo.pk)]
    assert (segment_row.nps["answers"], segment_row.nps["score"]) == (3, round(100 * 2 / 3))
    [line] = board.nps_campaigns
    assert (line["name"], line["answers"], line["score"]) == ("Encuesta", 5, 0)
    client.force_login(manager)
    page = client.get(reverse("segmentation:dashboard")).content.decode()
    assert 'data-testid="nps-score">0<' in page


def test_the_dashboard_reads_the_nights_nps_and_counts_a_segment_saved_since_live(owner, manager):
    import datetime as dt

    from campaigns.models import NpsSnapshot
    from campaigns.nps import dashboard_nps_add, nps_snapshot_take
    from segmentation.dashboard import dashboard_build

    campaign = email_campaign(manager, goal=Campaign.Goal.SURVEY, name="Encuesta")
    today = timezone.localdate()
    for score, city in ((10, "Vigo"), (6, "Vigo"), (9, "Lugo")):
        record = ClientFactory(owner=owner, city=city)
        recipient = Recipient.objects.create(campaign=campaign, client=record, status_at_launch="active")
        SurveyAnswer.objects.create(recipient=recipient, client=record, score=score, answered_at=timezone.now() - dt.timedelta(days=1))
    lugo = segment(manager, "city=Lugo", name="Lugo")
    lifecycle_recompute(as_of=today)  # the night (early today): its snapshots, then the NPS one
    nps_snapshot_take(day=today)
    assert NpsSnapshot.objects.filter(date=today, segment=lugo).get().answers == 1
    # An answer after the night waits for the next one; a segment saved the same day, after the
    # night, is counted live over the same 12 months (its clients' answers up to the day's end).
    late = ClientFactory(owner=owner, city="Vigo")
    SurveyAnswer.objects.create(
        recipient=Recipient.objects.create(campaign=campaign, client=late, status_at_launch="active"), client=late, score=0,
    )
    vigo = segment(manager, "city=Vigo", name="Vigo")
    board = dashboard_build(user=manager)
    assert board.day == today
    dashboard_nps_add(board, user=manager)
    assert (board.nps["answers"], board.nps["score"]) == (3, round(100 * (2 - 1) / 3))
    [line] = board.nps_campaigns
    assert (line["name"], line["answers"]) == ("Encuesta", 3)
    rows = {row.label: row.nps for row in board.segments}
    assert (rows["Lugo"]["answers"], rows["Lugo"]["score"]) == (1, 100)
    assert (rows["Vigo"]["answers"], rows["Vigo"]["score"]) == (3, round(100 * (1 - 2) / 3))  # live: 10, 6, 0
    assert vigo.pk != lugo.pk


def test_the_demo_consents_follow_their_shares_and_skip_clients_without_email(owner):
    from demo.consents import SHARES, consents_seed

    records = [ClientFactory(owner=owner) for _ in range(30)] + [ClientFactory(owner=owner, email="")]
    assert consents_seed() == sum(
        1 for record in records for tenths in SHARES.values() if record.email and record.pk % 10 < tenths
    )
    assert ConsentChange.objects.count() == Consent.objects.count()
    assert not Consent.objects.filter(client__email="").exists()


def test_a_resume_leaves_alone_the_messages_another_sender_is_sending(owner, monkeypatch):
    consented(ClientFactory(owner=owner))
    monkeypatch.setattr("django.conf.settings.CAMPAIGN_SENDERS", 0)
    campaign = email_campaign(owner)
    launch(campaign, owner)
    Recipient.objects.update(state=Recipient.State.SENDING, claimed_at=timezone.now())  # in flight right now
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert campaigns_resume() == 1
    assert Recipient.objects.get().state == Recipient.State.SENDING
    assert Campaign.objects.get().state == Campaign.State.SENDING and not mail.outbox


def test_a_client_moved_to_the_trash_after_the_launch_is_not_written_to(owner, monkeypatch):
    from segmentation.records import client_trash

    kept, trashed = consented(ClientFactory(owner=owner)), consented(ClientFactory(owner=owner))
    monkeypatch.setattr("django.conf.settings.CAMPAIGN_SENDERS", 0)
    campaign = email_campaign(owner)
    launch(campaign, owner)
    client_trash(by=owner, client=trashed)
    campaign_send(campaign.pk)
    assert [m.to for m in mail.outbox] == [[kept.email]]


def test_without_a_segment_the_campaign_form_says_how_to_make_one(client, owner):
    client.force_login(owner)
    page = client.get(reverse("campaigns:campaign_create")).content.decode()
    assert "Todavía no tienes ningún segmento." in page
    segment(owner, name="Madrid")
    assert "Todavía no tienes ningún segmento." not in client.get(reverse("campaigns:campaign_create")).content.decode()


@pytest.mark.parametrize("segments", [1, 6])
def test_the_campaign_form_and_the_survey_page_run_a_constant_number_of_queries(client, owner, django_assert_num_queries, segments):
    for index in range(segments):
        segment(owner, name=f"S{index}")
    client.force_login(owner)
    # session, user, roles, whether there is any segment, the segments to choose from
    with django_assert_num_queries(5):
        assert client.get(reverse("campaigns:campaign_create")).status_code == 200
    _record, _campaign, recipient = survey_campaign_sent(owner)
    client.logout()
    # the recipient with its client and campaign, whether it was answered
    with django_assert_num_queries(2):
        assert client.get(reverse("campaigns:survey", args=[survey_token(recipient.pk)])).status_code == 200


def test_an_unsubscribe_link_for_an_unknown_purpose_is_invalid_not_an_error(client, owner):
    from campaigns.tokens import unsubscribe_token

    record = ClientFactory(owner=owner)
    response = client.get(f"/campaigns/unsubscribe/{unsubscribe_token(record.pk, 'gone', None)}/")
    assert response.status_code == 404  # found by the fuzz test: a signed token with "\x8e\x83" answered 500
