"""Issue 18 in a browser: a comercial records a referral by typing, and the referrer's page lists
it; a gerente reads where the team's new clients come from."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.tests.factories import ClientFactory, PurchaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _problems(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_a_comercial_records_a_referral_by_typing_and_the_referrer_lists_it(live_server, login, owner, outsider):
    referrer = ClientFactory(owner=owner, first_name="Ana", last_name="Referente")
    ClientFactory(owner=outsider, first_name="Ana", last_name="Ajena")  # another portfolio's: never offered
    page = login(owner)
    problems = _problems(page)
    page.goto(f"{live_server.url}/clients/new/")
    page.fill("input[name=first_name]", "Luis")
    page.fill("input[name=last_name]", "Nuevo")
    page.locator("input[name=referred_by]").press_sequentially("Ana", delay=50)
    options = page.locator("#client-options option")
    expect(options).to_have_count(1)  # the owner's Ana only
    value = options.first.get_attribute("value")
    assert value == f"Ana Referente (#{referrer.pk})"
    page.fill("input[name=referred_by]", value)  # what choosing the offered option writes
    page.locator("form.card button.btn-primary[type=submit]").click()
    page.wait_for_url(lambda url: "/clients/new/" not in url)
    expect(page.get_by_test_id("client-source")).to_contain_text(re.compile("Referral|Recomendación|Indicação|Referido"))
    expect(page.get_by_test_id("client-referrer")).to_have_text("Ana Referente")

    page.get_by_test_id("client-referrer").get_by_role("link").click()
    expect(page.get_by_test_id("referral")).to_have_count(1)
    expect(page.get_by_test_id("referral")).to_contain_text("Luis Nuevo")
    assert not problems, problems


def test_a_gerente_reads_where_the_new_clients_come_from(live_server, login, manager, owner):
    today = timezone.localdate()
    first = today - dt.timedelta(days=400)
    for source, name in (("referral", "Rita"), ("referral", "Raúl"), ("web", "Wendy")):
        client = ClientFactory(owner=owner, first_name=name, source=source, first_purchase_date=first)
        PurchaseFactory(client=client, date=first, amount=Decimal("300"))
    page = login(manager)
    problems = _problems(page)
    page.goto(f"{live_server.url}/dashboard/sources/")
    expect(page.get_by_test_id("cohort-referral").get_by_test_id("cohort-altas")).to_have_text("2")
    expect(page.get_by_test_id("cohort-referral").get_by_test_id("cohort-active-12")).to_contain_text(re.compile(r"0[.,]0 %"))
    expect(page.get_by_test_id("cohort-web").get_by_test_id("cohort-revenue")).to_contain_text("300")
    expect(page.get_by_test_id(f"month-{first:%Y-%m}")).to_contain_text("3")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-sources'))")
    page.get_by_test_id("referrers-link").click()
    expect(page.get_by_test_id("no-referrers")).to_be_visible()
    assert not problems, problems
