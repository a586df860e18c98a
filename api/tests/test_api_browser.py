import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_salesperson_creates_a_token_sees_it_once_and_revokes_it(login, live_server, owner):
    page = login(owner)
    page.goto(f"{live_server.url}/account/")
    page.get_by_test_id("api-tokens").click()
    page.fill("input[name=name]", "Caja de la tienda")
    page.select_option("select[name=scope]", "write")
    page.get_by_test_id("token-create").click()
    secret = page.get_by_test_id("token-secret").input_value()
    assert secret.startswith("ctr_")
    expect(page.get_by_test_id("token-row")).to_contain_text("Caja de la tienda")
    page.get_by_test_id("token-revoke").click()
    expect(page.get_by_test_id("token-revoked")).to_be_visible()
    expect(page.get_by_test_id("token-secret")).to_have_count(0)


def test_the_api_docs_work_under_the_strict_csp(login, live_server, owner):
    page = login(owner)
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Cartera API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert not refused, refused
