"""A gerente launches a call campaign with talking points (in English); the comercial's agenda
(in Brazilian Portuguese) shows the calls spread over working days, each with the talking points."""

import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import dateformat, timezone, translation
from playwright.sync_api import expect

from campaigns.models import Campaign
from campaigns.pacing import first_working_day
from clients.models import FollowUp
from clients.tests.factories import ClientFactory
from conftest import PASSWORD
from segmentation.models import LifecycleSettings
from segmentation.segments import segment_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_gerente_launches_calls_with_talking_points_and_the_comercial_sees_them_spread(
    live_server, login, manager, owner, browser,
):
    settings = LifecycleSettings.current()
    settings.campaign_calls_per_day = 2
    settings.save()
    for name in ("Ana", "Bruno", "Carla"):
        ClientFactory(owner=owner, first_name=name, last_name="Souza", country="BR")
    segment_create(owner=manager, name="Whole team", shared=False, query=QueryDict(""))
    manager.language, owner.language = "en", "pt-br"
    manager.save()
    owner.save()
    today = timezone.localdate()
    first = first_working_day(today + dt.timedelta(days=1), today)
    second = first_working_day(first + dt.timedelta(days=1), today)
    page = login(manager)

    page.goto(f"{live_server.url}/campaigns/new/")
    page.fill("input[name=name]", "Spring renewals")
    page.select_option("select[name=goal]", "renewal")
    expect(page.locator("label[for=id_body]")).to_have_text("Message")
    page.select_option("select[name=channel]", "phone")
    expect(page.locator("label[for=id_body]")).to_have_text("Talking points")  # the field follows the channel
    expect(page.get_by_test_id("help-body")).to_contain_text("copied into each call")
    page.select_option("select[name=segment]", label="Whole team")
    page.fill("input[name=followup_due]", first.isoformat())
    page.fill("textarea[name=body]", "Offer the two-year plan with 10% off.")
    page.get_by_role("button", name="Save draft").click()

    spread = page.get_by_test_id("spread")
    with translation.override("en"):
        days = f"from {dateformat.format(first, 'D j M')} to {dateformat.format(second, 'D j M')}."
    expect(spread).to_contain_text("How the calls will be spread")
    expect(spread).to_contain_text(f"1 salesperson, up to 2 calls a day, {days}")
    page.get_by_test_id("launch").click()
    expect(page.get_by_test_id("result-scheduled")).to_have_text("3")
    expect(page.get_by_test_id("spread")).to_contain_text(f"1 salesperson, up to 2 calls a day, {days}")
    assert Campaign.objects.get().state == Campaign.State.DONE

    context = browser.new_context(locale="pt-BR")
    agenda = context.new_page()
    agenda.goto(f"{live_server.url}/accounts/login/")
    agenda.fill("input[name=username]", owner.username)
    agenda.fill("input[name=password]", PASSWORD)
    agenda.click("button[type=submit]")
    agenda.wait_for_url(lambda url: "/accounts/login/" not in url)
    agenda.goto(f"{live_server.url}/agenda/")
    upcoming = agenda.get_by_test_id("agenda-upcoming")
    items = upcoming.get_by_test_id("agenda-item")
    expect(items).to_have_count(3)
    for index in range(3):
        expect(items.nth(index)).to_contain_text("Spring renewals")
        expect(items.nth(index)).to_contain_text("Offer the two-year plan with 10% off.")
    calls = list(FollowUp.objects.filter(origin=FollowUp.Origin.CAMPAIGN).order_by("due_at"))
    with translation.override("pt-br"):
        for call in calls:  # two on the first day, one on the next, each at its own time
            expect(upcoming).to_contain_text(dateformat.format(timezone.localtime(call.due_at), "d/m/Y H:i"))
    assert [timezone.localdate(call.due_at) for call in calls] == [first, first, second]
    context.close()
