"""The ideal profile in the browser: an administrador asks Cartera for suggestions from the best
clients, accepts them, saves, and a client's page shows its fit."""

import pytest
from playwright.sync_api import expect

from clients.models import Client
from clients.tests.factories import ClientFactory
from segmentation.ideal_models import Criterion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrador_accepts_the_suggested_criteria_and_a_client_shows_its_fit(live_server, login, owner, admin_user):
    for rank in range(1, 26):  # 25 loyal buyers: the top 5 by spend are all in Hostelería
        record = ClientFactory(owner=owner, first_name=f"Cliente {rank}", sector="Hostelería" if rank > 20 else "Otros")
        Client.objects.filter(pk=record.pk).update(
            status="active", purchase_count=3, frequency_class="frequent", spend_12m=rank * 100,
        )
    best = Client.objects.get(first_name="Cliente 25")

    page = login(admin_user)
    page.goto(f"{live_server.url}/settings/ideal-profile/")
    page.get_by_test_id("icp-suggest").click()
    expect(page.get_by_test_id("icp-suggestions")).to_be_visible()
    row = page.get_by_test_id("icp-row").first
    expect(row.locator("input[data-icp-value]")).to_have_value("Hostelería")
    expect(row.get_by_test_id("icp-evidence")).to_contain_text("5.0×")
    page.get_by_test_id("icp-save").click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert list(Criterion.objects.values_list("attribute", "value", "weight")) == [("sector", "Hostelería", 10)]

    page.goto(f"{live_server.url}{best.get_absolute_url()}")
    expect(page.get_by_test_id("icp-fit-value")).to_have_text("100")


def test_a_salesperson_qualifies_a_suggested_prospect_as_probable_in_one_click(live_server, login, owner):
    from segmentation.ideal import fit_refresh_all
    from segmentation.ideal_models import IdealProfile

    IdealProfile.objects.create(pk=1, threshold=70)
    Criterion.objects.create(attribute="city", value="Vigo", weight=1)
    prospect = ClientFactory(owner=owner, first_name="Marta", city="Vigo")
    fit_refresh_all()

    page = login(owner)
    page.goto(f"{live_server.url}{prospect.get_absolute_url()}")
    page.get_by_test_id("icp-probable").get_by_role("button").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("icp-probable")).to_have_count(0)
    prospect.refresh_from_db()
    assert prospect.prospect_qualification == Client.Qualification.PROBABLE
