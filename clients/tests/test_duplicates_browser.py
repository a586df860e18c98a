"""Duplicates as users meet them: a gerente merges a pair from the page of likely duplicates; a
comercial typing an e-mail that already exists is warned and opens the existing client. Driven
by the pages' test ids so that it holds before and after the catalogues are compiled."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.services import lifecycle_refresh_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_gerente_merges_a_pair_choosing_fields_and_lands_on_the_survivor(live_server, login, owner, teammate, manager):
    survivor = ClientFactory(owner=owner, first_name="Carmen", last_name="Vidal", email="carmen@vidal.es",
                             phone="", city="Burgos")
    absorbed = ClientFactory(owner=teammate, first_name="Carmen", last_name="Vidal Sanz", email="carmen@vidal.es",
                             phone="644123456", city="Burgos")
    PurchaseFactory(client=survivor, amount=Decimal("80.00"))
    PurchaseFactory.create_batch(2, client=absorbed, amount=Decimal("60.00"))
    for record in (survivor, absorbed):
        lifecycle_refresh_client(record.pk)
    page = login(manager)

    page.goto(f"{live_server.url}/clients/")
    page.get_by_test_id("duplicates-link").click()
    pair = page.get_by_test_id("duplicate-pair")
    expect(pair).to_have_count(1)
    pair.get_by_test_id("merge-pair").click()

    # The survivor's empty phone takes the other's by default; the surname is chosen by hand.
    expect(page.locator("input[name=phone][value=absorbed]")).to_be_checked()
    page.locator("input[name=last_name][value=absorbed]").check()
    page.get_by_test_id("confirm-merge").click()

    page.wait_for_url(f"{live_server.url}{survivor.get_absolute_url()}")
    expect(page.get_by_test_id("client-name")).to_contain_text("Carmen Vidal Sanz")
    expect(page.get_by_test_id("purchase-amount")).to_have_count(3)
    survivor.refresh_from_db()
    assert (survivor.phone, survivor.purchase_count, survivor.total_spent) == ("644123456", 3, Decimal("200.00"))
    assert Client.objects.get(pk=absorbed.pk).merged_into_id == survivor.pk

    page.goto(f"{live_server.url}{absorbed.get_absolute_url()}")  # the old address leads to the survivor
    page.wait_for_url(f"{live_server.url}{survivor.get_absolute_url()}")


def test_a_comercial_typing_an_existing_email_is_warned_and_opens_the_existing_client(live_server, login, owner):
    existing = ClientFactory(owner=owner, first_name="Tomás", last_name="Ibáñez", email="tomas@ibanez.es")
    page = login(owner)

    page.goto(f"{live_server.url}/clients/new/")
    page.locator("input[name=first_name]").fill("Tomas")
    page.locator("input[name=last_name]").fill("Ibañez")
    page.locator("input[name=email]").fill("Tomas@Ibanez.es")
    page.locator("form button[type=submit].btn-primary").click()

    warning = page.get_by_test_id("duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning.get_by_test_id("duplicate-match")).to_contain_text("Tomás Ibáñez")
    expect(page.get_by_test_id("save-anyway")).to_be_visible()
    assert Client.objects.count() == 1

    warning.get_by_test_id("open-duplicate").click()
    page.wait_for_url(f"{live_server.url}{existing.get_absolute_url()}")
    expect(page.get_by_test_id("client-name")).to_contain_text("Tomás Ibáñez")
    assert Client.objects.count() == 1
