"""The survey answers page and a survey campaign's recipients with their answers, in a browser."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from campaigns.models import Recipient
from campaigns.tests.test_answers import answer, survey
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_gerente_filters_the_answers_and_reads_the_nps_trend(live_server, login, manager, owner, teammate, outsider):
    campaign = survey(owner, name="Satisfacción otoño")
    answer(campaign, ClientFactory(owner=owner, first_name="Ana", last_name="Promotora"), 10, comment="Todo perfecto")
    answer(campaign, ClientFactory(owner=teammate, first_name="Teo", last_name="Detractor"), 2, comment="Llegó tarde")
    answer(campaign, ClientFactory(owner=teammate, first_name="Pau", last_name="Pasivo"), 7)
    answer(survey(outsider), ClientFactory(owner=outsider, first_name="Otto", last_name="Ajeno"), 0, comment="Ajeno")
    problems: list[str] = []
    page = login(manager)
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.get_by_test_id("nav-answers").click()
    expect(page.get_by_test_id("answer-row")).to_have_count(3)
    expect(page.get_by_test_id("answer-table")).not_to_contain_text("Ajeno")
    expect(page.get_by_test_id("trend-row")).to_have_count(12)
    expect(page.get_by_test_id("trend-score").last).to_have_text("0")  # 1 promoter, 1 detractor of 3
    # The line is drawn by the page's script (no inline script under the CSP).
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-nps-trend'))")

    page.select_option("select[name=category]", "detractor")  # submits on change
    page.wait_for_url("**category=detractor**")
    expect(page.get_by_test_id("answer-row")).to_have_count(1)
    expect(page.get_by_test_id("answer-row")).to_contain_text("Llegó tarde")
    expect(page.get_by_test_id("trend-score").last).to_have_text("-100")

    page.select_option("select[name=category]", "")
    page.wait_for_url(lambda url: "category=detractor" not in url)
    page.select_option("select[name=owner]", str(owner.pk))
    page.wait_for_url(f"**owner={owner.pk}**")
    expect(page.get_by_test_id("answer-row")).to_have_count(1)
    expect(page.get_by_test_id("answer-client")).to_have_text("Ana Promotora")
    expect(page.get_by_test_id("trend-score").last).to_have_text("100")
    page.get_by_test_id("answer-client").click()
    page.wait_for_url("**/clients/**")
    assert not problems, problems


def test_the_campaign_creator_reads_each_recipients_answer(live_server, login, owner):
    campaign = survey(owner, name="Encuesta anual")
    answer(campaign, ClientFactory(owner=owner, first_name="Lía", last_name="Contenta"), 9, comment="Muy amables",
           when=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    answer(campaign, ClientFactory(owner=owner, first_name="Mar", last_name="Enfadada"), 3, comment="Nadie me llamó")
    for index in range(25):  # no answer: after those who answered, on two pages
        silent = ClientFactory(owner=owner, first_name="Sin", last_name=f"Respuesta {index:02d}")
        Recipient.objects.create(campaign=campaign, client=silent, status_at_launch=silent.status, state=Recipient.State.SENT)
    page = login(owner)

    page.goto(f"{live_server.url}/campaigns/")
    page.get_by_role("link", name="Encuesta anual").click()
    expect(page.get_by_test_id("result-answered")).to_have_text("2")
    rows = page.get_by_test_id("recipient-row")
    expect(rows).to_have_count(25)
    expect(rows.nth(0)).to_contain_text("Mar Enfadada")
    expect(rows.nth(0)).to_contain_text("Nadie me llamó")
    expect(rows.nth(0).get_by_test_id("recipient-score")).to_have_text("3")
    expect(rows.nth(1)).to_contain_text("Muy amables")
    expect(rows.nth(2).get_by_test_id("recipient-score")).to_have_text("—")

    page.get_by_test_id("recipients-next").click()
    page.wait_for_url("**recipients_page=2**")
    expect(page.get_by_test_id("recipient-row")).to_have_count(2)
    expect(page.get_by_test_id("recipient-row").last).to_contain_text("Respuesta 24")
