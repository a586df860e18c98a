"""Two-factor login in a browser: an administrador sets it up from the QR code page (the app's
key read from the page, the code computed as the app would), keeps the recovery codes, and logs in
with a code; a salesperson turns it on from their account page and off again."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import Role
from conftest import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed from the page."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def speak(page, live_server, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


def password_step(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_an_administrador_sets_up_two_factor_and_logs_in_with_it(live_server, page):
    admin = make_user("jefa", Role.ADMINISTRADOR)
    speak(page, live_server, "en")

    password_step(page, live_server, admin.username)
    # Before anything else: the set-up, whatever page is asked for.
    expect(page).to_have_url(f"{live_server.url}/account/two-factor/")
    expect(page.get_by_test_id("two-factor-required")).to_be_visible()
    page.goto(f"{live_server.url}/clients/")
    expect(page).to_have_url(f"{live_server.url}/account/two-factor/")
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()

    secret = page.get_by_test_id("totp-secret").inner_text()
    page.fill("input[name=code]", "000000" if app_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("That code is not the one your app shows.")).to_be_visible()
    page.fill("input[name=code]", app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text()
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_test_id("two-factor-status")).to_contain_text("10 recovery codes left")
    page.goto(f"{live_server.url}/settings/people/")
    expect(page).to_have_url(f"{live_server.url}/settings/people/")
    page.get_by_role("button", name="Log out").first.click()

    # The password alone asks for the code; a wrong one is refused, the app's logs in.
    password_step(page, live_server, admin.username)
    expect(page).to_have_url(f"{live_server.url}/accounts/login/code/")
    page.fill("input[name=code]", "12345")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    # django-otp refuses every code for a second after a wrong one: no waiting in a test. Five digits
    # are tried as a recovery code, so it is the recovery device that counted the failure.
    for device in (TOTPDevice, StaticDevice):
        device.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    page.fill("input[name=code]", app_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/agenda/")
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    page.get_by_role("button", name="Log out").first.click()

    # Without the phone: a recovery code, once.
    password_step(page, live_server, admin.username)
    page.fill("input[name=code]", recovery)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("You used a recovery code: 9 are left.")).to_be_visible()


def test_a_salesperson_turns_two_factor_on_and_off(live_server, page, owner, login):
    speak(page, live_server, "en")
    login(owner)

    page.get_by_test_id("current-user").click()
    page.get_by_test_id("two-factor-setup").click()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.fill("input[name=code]", app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    recovery = page.get_by_test_id("recovery-codes").locator("li").first.inner_text()
    page.get_by_role("link", name="I have saved them").click()

    page.get_by_test_id("two-factor-off").click()
    page.fill("input[name=code]", recovery)
    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_test_id("two-factor-status")).to_contain_text("Off:")
