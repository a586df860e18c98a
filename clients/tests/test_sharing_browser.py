import pytest
from playwright.sync_api import expect

from clients.models import ClientShare
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_shares_a_client_with_a_colleague_and_takes_it_back(live_server, login, owner, outsider):
    record = ClientFactory(owner=owner, first_name="Inés", last_name="Carvalho")
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}")
    shares = page.get_by_test_id("client-shares")
    expect(shares.get_by_test_id("share")).to_have_count(0)

    shares.locator("select[name=user]").select_option(label=str(outsider))
    shares.get_by_test_id("share-form").get_by_role("button").click()

    expect(page.get_by_test_id("share")).to_contain_text(str(outsider))
    assert ClientShare.objects.filter(client=record, user=outsider).exists()
    # The colleague is no longer offered: it already shares the client.
    expect(page.get_by_test_id("share-form").locator(f"option[value='{outsider.pk}']")).to_have_count(0)

    page.get_by_test_id("share").get_by_test_id("unshare").click()

    expect(page.get_by_test_id("share")).to_have_count(0)
    assert not ClientShare.objects.filter(client=record).exists()
    page.reload()  # in place, then for real
    expect(page.get_by_test_id("share")).to_have_count(0)
    expect(page.get_by_test_id("share-form")).to_be_visible()
