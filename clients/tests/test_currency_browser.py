"""One currency rule in the browser: an administrador adds a rate for reais; a comercial records a
purchase paid in reais and the client's figures show it converted into euros."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import ExchangeRate
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NBSP = "\u00a0"


def test_a_purchase_in_reais_counts_in_euros_at_the_rate_an_administrador_added(live_server, login, owner, admin_user):
    record = ClientFactory(owner=owner, first_name="João", last_name="Moreira")
    month_ago = timezone.localdate() - dt.timedelta(days=30)

    page = login(admin_user)
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name=re.compile("^Administra")).click()
    page.get_by_test_id("nav-rates").click()
    form = page.get_by_test_id("rate-form")
    form.locator("select[name=currency]").select_option("BRL")
    form.locator("input[name=valid_from]").fill(month_ago.isoformat())
    form.locator("input[name=rate]").fill("0.1725")
    form.get_by_role("button").click()
    expect(page.get_by_test_id("rates-BRL")).to_contain_text("0,1725")
    assert ExchangeRate.objects.get().rate == Decimal("0.1725")

    page.context.clear_cookies()  # the administrador leaves; the comercial logs in
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}purchases/new/")
    rate = page.locator("input[name=exchange_rate]")
    expect(rate).to_be_hidden()  # in euros no rate is asked
    page.locator("select[name=currency]").select_option("BRL")
    expect(rate).to_be_visible()  # left empty: the table's rate for the purchase's date, shown
    expect(rate).to_have_attribute("placeholder", "0.1725")
    expect(page.locator("[data-rate-hint]")).to_contain_text("0.1725")
    page.fill("input[name=amount]", "1000")
    page.get_by_role("button", name="Guardar").click()
    page.wait_for_url(f"{live_server.url}{record.get_absolute_url()}")

    expect(page.get_by_test_id("purchase-amount")).to_have_text(f"1.000,00{NBSP}BRL → 172,50{NBSP}€")
    expect(page.locator("dd").filter(has_text=f"172,50{NBSP}€").first).to_be_visible()  # total spent, in euros
    record.refresh_from_db()
    assert record.total_spent == Decimal("172.50")
