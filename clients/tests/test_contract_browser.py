"""Contracts and renewals as users do it: a comercial on the client page (in English), a gerente on
the renewal page (in Spanish, driven by the page's fields so that it holds before and after the
catalogues are compiled)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Contract
from clients.tests.factories import ClientFactory, ContractFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def test_comercial_adds_renews_and_ends_contracts_on_the_client_page(live_server, login, owner):
    owner.language = "en"
    owner.save(update_fields=["language"])
    record = ClientFactory(owner=owner, first_name="Helena", last_name="Prado")
    other = ContractFactory(client=record, title="Printer rental", start_date=days(-200), end_date=days(100))
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}")

    page.get_by_test_id("contract-new").click()
    page.get_by_label("Title").fill("Annual maintenance")
    page.get_by_label("Start").fill(days(-340).isoformat())
    page.get_by_label("End").fill(days(24).isoformat())
    page.get_by_label("Value").fill("1200.00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Contract added.")).to_be_visible()
    created = Contract.objects.get(client=record, title="Annual maintenance")
    entry = page.locator(f"#contract-{created.pk}")
    expect(entry).to_contain_text("Nothing done yet")

    entry.get_by_role("link", name="Renew").click()
    expect(page.get_by_test_id("renewal-of")).to_contain_text("Annual maintenance")
    expect(page.get_by_label("Title")).to_have_value("Annual maintenance")
    expect(page.get_by_label("Start")).to_have_value(days(25).isoformat())
    expect(page.get_by_label("End")).to_have_value(days(25 + 364).isoformat())
    page.get_by_label("Value").fill("1320.00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Contract renewed.")).to_be_visible()
    renewal = Contract.objects.get(renewed_from=created)
    assert (renewal.value, renewal.start_date, renewal.end_date) == (Decimal("1320.00"), days(25), days(389))
    expect(page.locator(f"#contract-{created.pk}")).to_contain_text("Renewed")
    expect(page.locator(f"#contract-{renewal.pk}").get_by_role("link", name="Renew")).to_be_visible()

    page.locator(f"#contract-{other.pk}").get_by_role("link", name="End contract").click()
    page.get_by_label("Ended on").fill(days(-201).isoformat())  # before it started: refused
    page.get_by_label("Reason for ending").select_option("competitor")
    page.get_by_role("button", name="End contract").click()
    expect(page.get_by_test_id("contract-end-form")).to_contain_text("cannot end before it starts")
    page.get_by_label("Ended on").fill(days(10).isoformat())
    page.get_by_label("Notes").fill("Moved to a cheaper supplier")
    page.get_by_role("button", name="End contract").click()
    expect(page.get_by_text("Contract ended.")).to_be_visible()
    expect(page.locator(f"#contract-{other.pk}")).to_contain_text("Lost")
    other.refresh_from_db()
    assert (other.renewal_status, other.end_reason, other.end_date) == ("not_renewing", "competitor", days(10))


def test_gerente_reviews_renewals_for_90_days_filters_by_salesperson_and_exports(
    live_server, login, manager, owner, teammate,
):
    ContractFactory(client=ClientFactory(owner=owner, company_name="Ferretería Sol"), title="Soporte Sol",
                    start_date=days(-300), end_date=days(20), value=Decimal("100"))
    ContractFactory(client=ClientFactory(owner=teammate, company_name="Óptica Luz"), title="Soporte Luz",
                    start_date=days(-300), end_date=days(50), value=Decimal("200"))
    ContractFactory(client=ClientFactory(owner=teammate, company_name="Panadería Mar"), title="Soporte Mar",
                    start_date=days(-300), end_date=days(80), value=Decimal("400"))
    page = login(manager)

    page.get_by_test_id("main-nav").locator('a[href="/renewals/"]').click()
    table = page.get_by_test_id("renewals")
    expect(table.get_by_test_id("renewal-row")).to_have_count(2)  # the default window: 60 days
    page.select_option("select[name=days]", "90")
    page.get_by_test_id("renewals-filter").locator("button[type=submit]").click()
    expect(table.get_by_test_id("renewal-row")).to_have_count(3)
    expect(table.get_by_test_id("renewal-row").first).to_contain_text("Ferretería Sol")

    page.select_option("select[name=owner]", label=str(teammate))
    page.get_by_test_id("renewals-filter").locator("button[type=submit]").click()
    expect(table.get_by_test_id("renewal-row")).to_have_count(2)
    expect(table).not_to_contain_text("Ferretería Sol")
    expect(page.get_by_test_id("total-value")).to_contain_text("600,00")

    row = table.get_by_test_id("renewal-row").filter(has_text="Óptica Luz")
    row.locator("button[type=submit]").click()  # proposal sent
    expect(table.get_by_test_id("renewal-row").filter(has_text="Óptica Luz").locator("button")).to_have_count(0)
    assert Contract.objects.get(title="Soporte Luz").renewal_status == "negotiating"
    assert "days=90" in page.url  # back where the gerente was

    with page.expect_download() as download:
        page.get_by_test_id("renewals-export").locator("a[href*='export.csv']").click()
    body = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert [(row[0].split(" (")[0], row[1], row[4]) for row in rows[1:]] == [("Óptica Luz", "Soporte Luz", "200,00"),
                                                              ("Panadería Mar", "Soporte Mar", "400,00")]
