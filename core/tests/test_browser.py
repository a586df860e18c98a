import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_salesperson_logs_in_and_sees_the_navigation(live_server, page, owner):
    page.goto(f"{live_server.url}/clients/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/clients/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/clients/")
    nav = page.get_by_test_id("main-nav")
    for label in ("Agenda", "Clientes", "Segmentos", "Panel", "Campañas"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    expect(nav.get_by_role("button", name="Administración")).to_have_count(0)

    page.select_option("#language-select", "pt-br")
    expect(page.get_by_test_id("main-nav").get_by_role("link", name="Painel")).to_be_visible()


def test_navigation_collapses_on_a_phone(live_server, page, admin_user, login):
    page.set_viewport_size({"width": 375, "height": 740})
    login(admin_user)
    nav = page.get_by_test_id("main-nav")
    expect(nav).to_be_hidden()
    page.get_by_role("button", name="Mostrar u ocultar la navegación").click()
    expect(nav.get_by_role("button", name="Administración")).to_be_visible()
