"""The administrador's flow in a browser: add an endpoint from the menu, send a test event that a
real receiver gets, pause, resume and delete it."""

import json

import pytest
from playwright.sync_api import expect

from webhooks.models import Endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrador_adds_an_endpoint_sends_a_test_event_and_deletes_it(live_server, page, admin_user, login, receiver):
    login(admin_user)
    page.get_by_role("button", name="Administración").click()
    page.get_by_test_id("nav-webhooks").click()
    expect(page.get_by_test_id("no-endpoints")).to_be_visible()

    form = page.get_by_test_id("endpoint-form")
    form.locator("input[name=url]").fill(receiver.url)
    form.locator("input[name=events][value='purchase.recorded']").check()
    form.get_by_role("button").click()

    endpoint = Endpoint.objects.get()
    expect(page.get_by_test_id("secret")).to_have_text(endpoint.secret)
    page.get_by_test_id("send-test").click()
    expect(page.get_by_test_id("delivery-code")).to_have_text("HTTP 200")
    assert json.loads(receiver.requests[0].body)["event"] == "webhook.test"

    page.get_by_test_id("pause").click()
    expect(page.get_by_test_id("paused")).to_be_visible()
    page.get_by_test_id("resume").click()
    expect(page.get_by_test_id("paused")).to_have_count(0)

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete").click()
    expect(page.get_by_test_id("no-endpoints")).to_be_visible()
    assert not Endpoint.objects.exists()
