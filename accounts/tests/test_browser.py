import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_locked_out_salesperson_is_told_in_spanish_to_wait(live_server, page, owner):
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(5):
        page.fill("input[name=username]", owner.username)
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")

    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    expect(page.get_by_test_id("lockout")).to_have_text(
        "Demasiados intentos fallidos de acceso. Espera 15 minutos y vuelve a intentarlo."
    )
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
