"""Every survey answer (its page, filters, NPS month by month), a campaign's recipients with their
answers, and a campaign's results counted from its launch moment."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.answers import nps_trend
from campaigns.models import Campaign, Recipient, SurveyAnswer
from campaigns.services import campaign_results
from clients.models import Client, ClientShare
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.records import client_trash
from segmentation.segments import segment_create

pytestmark = pytest.mark.django_db


def survey(creator, name: str = "Satisfacción", **fields) -> Campaign:
    audience = segment_create(owner=creator, name=f"Para {name}", shared=False, query=QueryDict(""))
    values = {"goal": Campaign.Goal.SURVEY, "subject": "s", "body": "b", "state": Campaign.State.DONE,
              "launched_at": timezone.now() - dt.timedelta(days=400)} | fields
    return Campaign.objects.create(name=name, segment=audience, created_by=creator, **values)


def answer(campaign: Campaign, client: Client, score: int, *, when: dt.datetime | None = None, comment: str = "") -> SurveyAnswer:
    recipient = Recipient.objects.create(campaign=campaign, client=client, status_at_launch=client.status,
                                         state=Recipient.State.SENT)
    return SurveyAnswer.objects.create(recipient=recipient, client=client, score=score, comment=comment,
                                       answered_at=when or timezone.now())


def month_start(months_ago: int) -> dt.datetime:
    """Noon of the first day of the month `months_ago` before this one, local time."""
    month = timezone.localdate().replace(day=1)
    for _month in range(months_ago):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return timezone.make_aware(dt.datetime.combine(month, dt.time(12)))


def rows(response) -> list[tuple[str, int]]:
    return [(a.client.first_name, a.score) for a in response.context["page"].object_list]


# --- The answers page ----------------------------------------------------------------------

@pytest.fixture
def answered(owner, teammate, outsider):
    """Answers of the owner's, the teammate's and the outsider's clients, with hand-computed NPS:

    this month 10, 9, 8, 3 → 2 promoters, 1 passive, 1 detractor of 4: 50 % − 25 % = 25;
    last month 10, 0, 0 → 1 promoter, 2 detractors of 3: 33 % − 67 % = −33;
    11 months ago 9 → 100; 12 months ago 0 → outside the 12 months, not in the trend."""
    campaign = survey(owner)
    ana, bea = ClientFactory(owner=owner, first_name="Ana", city="Lugo"), ClientFactory(owner=owner, first_name="Bea")
    teo = ClientFactory(owner=teammate, first_name="Teo", city="Lugo")
    out = ClientFactory(owner=outsider, first_name="Otto")
    other = survey(outsider, name="Ajena")
    answer(campaign, ana, 10, when=month_start(0), comment="Muy bien")
    answer(campaign, bea, 9, when=month_start(0) + dt.timedelta(hours=1))
    answer(campaign, teo, 8, when=month_start(0) + dt.timedelta(hours=2))
    answer(other, out, 3, when=month_start(0) + dt.timedelta(hours=3), comment="Lento")
    second = survey(owner, name="Segunda")
    answer(second, ana, 10, when=month_start(1))
    answer(second, teo, 0, when=month_start(1) + dt.timedelta(hours=1))
    answer(survey(outsider, name="Otra ajena"), out, 0, when=month_start(1) + dt.timedelta(hours=2))
    answer(survey(owner, name="Antigua"), bea, 9, when=month_start(11))
    answer(survey(owner, name="Muy antigua"), teo, 0, when=month_start(12))
    return {"ana": ana, "bea": bea, "teo": teo, "out": out}


def test_the_administrador_sees_every_answer_newest_first_and_the_hand_computed_trend(client, admin_user, answered):
    client.force_login(admin_user)
    with translation.override("en"):
        response = client.get(reverse("campaigns:answer_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert rows(response) == [
        ("Otto", 3), ("Teo", 8), ("Bea", 9), ("Ana", 10), ("Otto", 0), ("Teo", 0), ("Ana", 10), ("Bea", 9), ("Teo", 0),
    ]
    trend = response.context["trend"]
    assert len(trend) == 12 and trend[-1].month == timezone.localdate().replace(day=1)
    this, last, oldest = trend[-1], trend[-2], trend[0]
    assert (this.answers, this.promoters, this.passives, this.detractors, this.score) == (4, 2, 1, 1, 25)
    assert (last.answers, last.promoters, last.passives, last.detractors, last.score) == (3, 1, 0, 2, -33)
    assert (oldest.answers, oldest.score) == (1, 100)
    assert all(month.answers == 0 and month.score is None for month in trend[1:-2])
    assert response.context["chart_data"]["scores"] == [100] + [None] * 9 + [-33, 25]
    html = response.content.decode()
    assert 'id="nps-trend-data"' in html and "<script>" not in html  # data, not code, under the CSP
    assert "Muy bien" in html and "Lento" in html


def test_a_comercial_sees_only_their_portfolios_answers_and_a_shared_clients(client, owner, teammate, answered):
    client.force_login(owner)
    assert rows(client.get(reverse("campaigns:answer_list"))) == [("Bea", 9), ("Ana", 10), ("Ana", 10), ("Bea", 9)]
    ClientShare.objects.create(client=answered["teo"], user=owner)
    response = client.get(reverse("campaigns:answer_list"))
    assert [name for name, _score in rows(response)] == ["Teo", "Bea", "Ana", "Teo", "Ana", "Bea", "Teo"]
    assert "Otto" not in response.content.decode()


def test_a_campaign_opens_from_its_answers_only_for_who_may_read_it(client, owner, manager):
    mine, theirs = survey(owner, name="Mía"), survey(manager, name="Del gerente")
    answer(mine, ClientFactory(owner=owner), 9)
    answer(theirs, ClientFactory(owner=owner), 3)
    client.force_login(owner)
    html = client.get(reverse("campaigns:answer_list")).content.decode()
    assert mine.get_absolute_url() in html and "Del gerente" in html and theirs.get_absolute_url() not in html
    assert client.get(theirs.get_absolute_url()).status_code == 404
    client.force_login(manager)
    html = client.get(reverse("campaigns:answer_list")).content.decode()
    assert mine.get_absolute_url() in html and theirs.get_absolute_url() in html


def test_a_gerente_sees_their_teams_answers_and_a_trashed_clients_go(client, owner, manager, other_manager, answered):
    client.force_login(manager)
    response = client.get(reverse("campaigns:answer_list"))
    assert {name for name, _score in rows(response)} == {"Ana", "Bea", "Teo"}
    assert (response.context["trend"][-1].answers, response.context["trend"][-1].score) == (3, 67)  # 10, 9, 8
    client_trash(by=owner, client=answered["ana"])
    assert {name for name, _score in rows(client.get(reverse("campaigns:answer_list")))} == {"Bea", "Teo"}
    client.force_login(other_manager)
    assert rows(client.get(reverse("campaigns:answer_list"))) == [("Otto", 3), ("Otto", 0)]


def test_an_administrador_sees_every_answer_but_a_trashed_clients(client, owner, admin_user, answered):
    client.force_login(admin_user)
    before = rows(client.get(reverse("campaigns:answer_list")))
    assert {name for name, _score in before} == {"Ana", "Bea", "Teo", "Otto"}
    client_trash(by=owner, client=answered["ana"])
    response = client.get(reverse("campaigns:answer_list"))
    assert {name for name, _score in rows(response)} == {"Bea", "Teo", "Otto"}
    assert len(rows(response)) == len(before) - sum(1 for name, _score in before if name == "Ana")


def test_filters_by_answer_salesperson_and_segment_and_the_trend_follows(client, manager, owner, teammate, outsider, answered):
    client.force_login(manager)
    url = reverse("campaigns:answer_list")
    detractors = client.get(url, {"category": "detractor"})
    assert rows(detractors) == [("Teo", 0), ("Teo", 0)]
    assert (detractors.context["trend"][-2].answers, detractors.context["trend"][-2].score) == (1, -100)
    assert detractors.context["trend"][-1].score is None
    assert rows(client.get(url, {"category": "promoter"})) == [("Bea", 9), ("Ana", 10), ("Ana", 10), ("Bea", 9)]
    assert rows(client.get(url, {"category": "passive"})) == [("Teo", 8)]
    assert rows(client.get(url, {"owner": teammate.pk})) == [("Teo", 8), ("Teo", 0), ("Teo", 0)]
    lugo = segment_create(owner=manager, name="Lugo", shared=False, query=QueryDict("city=Lugo"))
    in_lugo = client.get(url, {"segment": lugo.pk, "category": "promoter"})
    assert rows(in_lugo) == [("Ana", 10), ("Ana", 10)]
    assert (in_lugo.context["trend"][-1].answers, in_lugo.context["trend"][-1].score) == (1, 100)
    # Another team's salesperson, or someone else's private segment, is not a choice: nothing shows.
    private = segment_create(owner=outsider, name="Privado", shared=False, query=QueryDict(""))
    with translation.override("en"):
        for params in ({"owner": outsider.pk}, {"segment": private.pk}, {"category": "angry"}):
            response = client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 200 and rows(response) == []
            assert "Select a valid choice" in response.content.decode()


def test_the_answers_are_paginated_keeping_the_filters(client, owner):
    campaign = survey(owner)
    for index in range(55):
        answer(campaign, ClientFactory(owner=owner, first_name=f"C{index:02d}"), 10, when=timezone.now() - dt.timedelta(minutes=index))
    client.force_login(owner)
    first = client.get(reverse("campaigns:answer_list"), {"category": "promoter"})
    assert len(first.context["page"].object_list) == 50 and "category=promoter&amp;page=2" in first.content.decode()
    second = client.get(reverse("campaigns:answer_list"), {"category": "promoter", "page": 2})
    assert [name for name, _score in rows(second)] == ["C50", "C51", "C52", "C53", "C54"]


def test_nps_trend_counts_the_months_by_local_time(owner):
    campaign = survey(owner)
    today = dt.date(2026, 3, 15)
    zone = timezone.get_current_timezone()
    answer(campaign, ClientFactory(owner=owner), 10, when=dt.datetime(2026, 3, 1, 0, 30, tzinfo=zone))
    answer(campaign, ClientFactory(owner=owner), 0, when=dt.datetime(2026, 2, 28, 23, 30, tzinfo=zone))
    answer(campaign, ClientFactory(owner=owner), 0, when=dt.datetime(2025, 3, 31, 23, 0, tzinfo=zone))  # 12 months back: out
    trend = nps_trend(SurveyAnswer.objects.all(), today=today)
    assert [m.month for m in trend][0] == dt.date(2025, 4, 1) and trend[-1].month == dt.date(2026, 3, 1)
    assert [(m.answers, m.score) for m in trend[-2:]] == [(1, -100), (1, 100)]
    assert sum(m.answers for m in trend) == 2


@pytest.mark.parametrize("count", [2, 8])
def test_the_answers_page_runs_a_constant_number_of_queries(client, manager, owner, teammate, django_assert_num_queries, count):
    lugo = segment_create(owner=manager, name="Lugo", shared=True, query=QueryDict("city=Lugo"))
    for index in range(count):
        person = owner if index % 2 else teammate
        answer(survey(person, name=f"E{index}"), ClientFactory(owner=person, city="Lugo"), index % 11,
               when=month_start(index % 12))
    client.force_login(manager)
    url = reverse("campaigns:answer_list")
    # session, user, roles, the manager's teams (access rule), shares; the count, the page, the
    # people whose campaigns the manager reads and which of the page's they are, the trend; the
    # salesperson and segment choices rendered
    with django_assert_num_queries(12):
        response = client.get(url)
    assert len(response.context["page"].object_list) == count
    # and the chosen salesperson and segment looked up (the segment's clients are a sub-select)
    with django_assert_num_queries(14):
        response = client.get(url, {"owner": owner.pk, "segment": lugo.pk, "category": "detractor"})
    assert response.status_code == 200


# --- A campaign's recipients and their answers ---------------------------------------------

def test_the_campaign_page_lists_each_recipients_answer_of_the_clients_the_viewer_sees(client, owner, teammate, manager):
    campaign = survey(owner)
    ana, bea, teo = (ClientFactory(owner=owner, first_name=name) for name in ("Ana", "Bea", "Teo"))
    answer(campaign, ana, 4, comment="Tardaron mucho")
    answer(campaign, bea, 10, comment="Genial", when=timezone.now() - dt.timedelta(days=1))
    Recipient.objects.create(campaign=campaign, client=teo, status_at_launch=teo.status, state=Recipient.State.SENT)
    Client.objects.filter(pk=bea.pk).update(owner=teammate)  # reassigned since: no longer the owner's
    client.force_login(owner)
    response = client.get(campaign.get_absolute_url())
    listed = [(r.client.first_name, getattr(getattr(r, "answer", None), "score", None))
              for r in response.context["recipients"].object_list]
    assert listed == [("Ana", 4), ("Teo", None)]
    html = response.content.decode()
    assert "Tardaron mucho" in html and "Genial" not in html
    client.force_login(manager)  # the team's gerente sees every one of them, the answered first, newest first
    response = client.get(campaign.get_absolute_url())
    assert [r.client.first_name for r in response.context["recipients"].object_list] == ["Ana", "Bea", "Teo"]
    assert "Genial" in response.content.decode()


def test_a_promotion_campaign_page_has_no_answers_section(client, owner):
    campaign = survey(owner, goal=Campaign.Goal.PROMOTION)
    client.force_login(owner)
    response = client.get(campaign.get_absolute_url())
    assert "recipients" not in response.context and b'data-testid="recipient-answers"' not in response.content


def test_the_recipients_are_paginated(client, owner):
    campaign = survey(owner)
    for index in range(30):
        answer(campaign, ClientFactory(owner=owner, first_name=f"R{index:02d}"), 7, when=timezone.now() - dt.timedelta(minutes=index))
    client.force_login(owner)
    first = client.get(campaign.get_absolute_url())
    assert len(first.context["recipients"].object_list) == 25 and "recipients_page=2" in first.content.decode()
    second = client.get(campaign.get_absolute_url(), {"recipients_page": 2})
    assert [r.client.first_name for r in second.context["recipients"].object_list] == ["R25", "R26", "R27", "R28", "R29"]


@pytest.mark.parametrize("count", [1, 6])
def test_a_survey_campaigns_page_runs_a_constant_number_of_queries(client, owner, django_assert_num_queries, count):
    campaign = survey(owner)
    for index in range(count):
        answer(campaign, ClientFactory(owner=owner), index % 11, comment="x")
    client.force_login(owner)
    # session, user, roles, the people whose campaigns the user sees, the campaign; the results
    # (states, unsubscribed, NPS, purchases, reactivated); the access rule's shares, the
    # recipients counted and their page
    with django_assert_num_queries(13):
        response = client.get(campaign.get_absolute_url())
    assert len(response.context["recipients"].object_list) == count


# --- Results counted from the launch moment ------------------------------------------------

def test_results_count_the_purchases_that_followed_the_launch_moment(owner):
    """A purchase has a date, no time: those dated after the launch day count; of the launch
    day's, those recorded (created_at) after the launch moment; up to results_days after."""
    zone = timezone.get_current_timezone()
    launch_day = timezone.localdate() - dt.timedelta(days=40)
    launched_at = dt.datetime.combine(launch_day, dt.time(12), tzinfo=zone)
    campaign = survey(owner, goal=Campaign.Goal.PROMOTION, launched_at=launched_at, results_days=30)
    buyer = ClientFactory(owner=owner)
    Recipient.objects.create(campaign=campaign, client=buyer, status_at_launch=buyer.status, state=Recipient.State.SENT)

    def bought(day: dt.date, amount: str, created_at: dt.datetime) -> None:
        PurchaseFactory(client=buyer, date=day, amount=Decimal(amount), created_at=created_at)

    bought(launch_day - dt.timedelta(days=1), "1", launched_at - dt.timedelta(days=1))  # before: no
    bought(launch_day, "2", launched_at - dt.timedelta(minutes=1))  # that morning, recorded before: no
    bought(launch_day, "4", launched_at)  # recorded at the launch moment: yes
    bought(launch_day, "8", launched_at + dt.timedelta(hours=3))  # that afternoon: yes
    bought(launch_day + dt.timedelta(days=1), "16", launched_at + dt.timedelta(days=1))  # the next day: yes
    # Dated the next day though recorded earlier (keyed in ahead): its date says it followed.
    bought(launch_day + dt.timedelta(days=1), "32", launched_at - dt.timedelta(hours=2))
    bought(launch_day + dt.timedelta(days=30), "64", launched_at + dt.timedelta(days=30))  # the window's last day: yes
    bought(launch_day + dt.timedelta(days=31), "128", launched_at + dt.timedelta(days=31))  # after it: no
    results = campaign_results(campaign)
    assert (results["purchases"], results["revenue"]) == (5, Decimal("124"))


def test_the_campaign_page_says_the_purchases_count_from_the_launch(client, owner):
    campaign = survey(owner, goal=Campaign.Goal.PROMOTION)
    client.force_login(owner)
    page = client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="result-purchases">0</span>' in page
    assert "Counted from the launch: purchases dated after the launch day" in page
