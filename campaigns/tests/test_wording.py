"""What users read: the dashboard lists salespeople (not idle gerentes) and writes its shares
with "%"; counts carry their noun in the right plural; the HTML e-mail's unsubscribe link and
month names are translated as each language writes them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import formats, timezone, translation

from campaigns.messages import message_build
from campaigns.models import Campaign, Recipient, SurveyAnswer
from campaigns.templatetags.nps_tags import nps_mix
from clients.tests.factories import ClientFactory, PurchaseFactory
from core.templatetags.numbers import percent
from segmentation.dashboard import dashboard_build
from segmentation.segments import segment_create
from segmentation.services import lifecycle_recompute

pytestmark = pytest.mark.django_db


def buyer(owner, days_ago: int = 10, amount: str = "100.00"):
    record = ClientFactory(owner=owner)
    PurchaseFactory(client=record, date=timezone.localdate() - dt.timedelta(days=days_ago), amount=Decimal(amount))
    return record


def test_gerentes_without_clients_are_not_listed_as_salespeople(manager, owner, teammate, admin_user, other_manager):
    buyer(owner)
    lifecycle_recompute()  # figures and the night's snapshot
    listed = {entry["person"] for entry in dashboard_build(user=manager).by_person}
    assert listed == {owner, teammate}  # the teammate without clients still sells: listed
    assert {entry["person"] for entry in dashboard_build(user=admin_user).by_person} == {owner, teammate}


def test_a_gerente_who_owns_clients_is_listed(manager, owner):
    buyer(owner)
    own = buyer(manager, amount="250.00")
    lifecycle_recompute()
    entries = {entry["person"]: entry for entry in dashboard_build(user=manager).by_person}
    assert set(entries) == {owner, manager}
    own.refresh_from_db()
    assert (entries[manager]["total"].clients, entries[manager]["total"].revenue) == (1, own.spend_12m)


@pytest.mark.parametrize(("language", "text"), [("en", "12.5%"), ("es", "12,5\u00a0%"), ("pt-br", "12,5%")])
def test_shares_carry_their_percent_sign(language, text):
    with translation.override(language):
        assert percent(12.5) == text
        assert percent(None) == ""


def test_the_dashboard_shows_every_share_with_its_sign(client, manager, owner):
    buyer(owner)
    lifecycle_recompute()
    client.force_login(manager)
    content = client.get(reverse("segmentation:dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # Every share column (status, volume, frequency, teams) ends with its sign.
    assert content.count("100.0%") >= 3 and "0.0%" in content
    assert " %</td>" not in content and "<td class=\"text-end\">0.0</td>" not in content


@pytest.mark.parametrize(
    ("language", "figures", "text"),
    [
        ("en", {"promoters": 1, "passives": 2, "detractors": 0}, "1 promoter, 2 passives, 0 detractors"),
        ("es", {"promoters": 1, "passives": 1, "detractors": 3}, "1 promotor, 1 pasivo, 3 detractores"),
        ("pt-br", {"promoters": 2, "passives": 1, "detractors": 1}, "2 promotores, 1 neutro, 1 detrator"),
    ],
)
def test_nps_counts_have_the_right_plural(language, figures, text):
    with translation.override(language):
        assert nps_mix(figures) == text


def test_a_survey_campaign_page_says_1_promoter(client, owner):
    segment = segment_create(owner=owner, name="Todos", shared=False, query=QueryDict(""))
    campaign = Campaign.objects.create(
        name="NPS", goal=Campaign.Goal.SURVEY, channel=Campaign.Channel.EMAIL, segment=segment, subject="s", body="b",
        created_by=owner, state=Campaign.State.DONE, launched_at=timezone.now(),
    )
    recipient = Recipient.objects.create(campaign=campaign, client=ClientFactory(owner=owner), status_at_launch="active")
    SurveyAnswer.objects.create(recipient=recipient, client=recipient.client, score=10)
    client.force_login(owner)
    content = client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "1 promotor, 0 pasivos, 0 detractores" in content


def test_the_html_email_unsubscribe_link_is_in_the_clients_language(owner):
    segment = segment_create(owner=owner, name="Todos", shared=False, query=QueryDict(""))
    campaign = Campaign.objects.create(
        name="Otoño", goal=Campaign.Goal.PROMOTION, channel=Campaign.Channel.EMAIL, segment=segment,
        subject="Hola", body="Una oferta", created_by=owner,
    )
    spanish = ClientFactory(owner=owner, country="ES")
    brazilian = ClientFactory(owner=owner, country="BR")
    html = message_build(campaign, spanish).alternatives[0].content
    assert "Date de baja con un clic</a>" in html and "Unsubscribe" not in html
    assert "Cancele a inscrição com um clique</a>" in message_build(campaign, brazilian).alternatives[0].content


@pytest.mark.parametrize(
    ("language", "month_year", "long_date"),
    [
        ("pt-br", "dezembro de 2026", "2 de dezembro de 2026"),
        ("es", "diciembre de 2026", "2 de diciembre de 2026"),
        ("en", "December 2026", "Dec. 2, 2026"),
    ],
)
def test_month_names_are_written_as_each_language_writes_them(language, month_year, long_date):
    day = dt.date(2026, 12, 2)
    with translation.override(language):
        assert formats.date_format(day, "YEAR_MONTH_FORMAT") == month_year
        assert formats.date_format(day, "DATE_FORMAT") == long_date


def test_the_dashboard_trend_writes_months_in_lowercase_in_portuguese(client, owner):
    buyer(owner)
    lifecycle_recompute()
    owner.language = "pt-br"
    owner.save()
    client.force_login(owner)
    content = client.get(reverse("segmentation:dashboard"), HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    with translation.override("pt-br"):
        expected = formats.date_format(timezone.localdate(), "YEAR_MONTH_FORMAT")
    assert expected == expected.lower()
    assert expected in content
