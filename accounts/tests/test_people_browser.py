"""The people flows as users go through them: changing a password, resetting a forgotten one by
the e-mailed link, an administrador creating a user and deactivating a comercial."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from clients.models import Client, FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory
from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "una-clave-nueva-2026"


def speak(page, live_server, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_user_changes_their_password_and_logs_in_with_it(live_server, page, owner):
    speak(page, live_server, "en")
    log_in(page, live_server, owner.username, PASSWORD)

    page.get_by_test_id("current-user").click()
    page.get_by_test_id("change-password").click()
    page.locator("input[name=old_password]").fill(PASSWORD)
    page.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password2]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_test_id("password-changed")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    log_in(page, live_server, owner.username, NEW_PASSWORD)
    expect(page.get_by_test_id("current-user")).to_have_text(str(owner))


def test_a_forgotten_password_is_reset_by_the_link_in_the_email(live_server, page, settings, owner):
    settings.SITE_URL = live_server.url
    owner.email, owner.language = "comercial@example.com", "pt-br"
    owner.save()
    speak(page, live_server, "pt-br")
    page.goto(f"{live_server.url}/accounts/login/")

    page.get_by_test_id("forgot-password").click()
    page.get_by_test_id("password-reset-form").locator("input[name=email]").fill("comercial@example.com")
    page.get_by_test_id("password-reset-form").get_by_role("button").click()
    expect(page.get_by_test_id("password-reset-sent")).to_be_visible()

    [message] = mail.outbox
    link = re.search(r"http\S+/accounts/password/reset/\S+/", message.body).group(0)
    page.goto(link)
    page.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    page.locator("input[name=new_password2]").fill(NEW_PASSWORD)
    page.get_by_test_id("password-set-form").get_by_role("button").click()
    expect(page.get_by_test_id("password-reset-complete")).to_be_visible()

    page.get_by_test_id("password-reset-complete").get_by_role("link").click()
    log_in(page, live_server, owner.username, NEW_PASSWORD)
    expect(page.get_by_test_id("current-user")).to_have_text(str(owner))
    page.goto(link)  # used once: no longer valid
    expect(page.get_by_test_id("invalid-link")).to_be_visible()


def test_an_administrador_creates_a_user_and_deactivates_a_comercial_handing_clients_over(
    live_server, page, admin_user, team, owner, teammate, login,
):
    clients = ClientFactory.create_batch(2, owner=owner)
    visit = FollowUpFactory(client=clients[0], assigned_to=owner)
    speak(page, live_server, "en")
    login(admin_user)  # with the code of the administrador's authenticator

    page.get_by_role("button", name="Administration").click()
    page.get_by_test_id("nav-people").click()
    page.get_by_test_id("person-create").click()
    form = page.get_by_test_id("person-form")
    form.get_by_label("Username").fill("marta")
    form.get_by_label("First name").fill("Marta")
    form.get_by_label("Last name").fill("Gil")
    form.get_by_label("Email address").fill("marta@example.com")
    form.get_by_label("Role").select_option("comercial")
    form.get_by_label("Team").select_option(label="Norte")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("person-marta")).to_contain_text("Norte")
    marta = User.objects.get(username="marta")
    assert marta.team == team and marta.is_comercial
    assert [m.to for m in mail.outbox] == [["marta@example.com"]]

    page.get_by_test_id(f"person-{owner.username}").get_by_test_id("deactivate").click()
    page.get_by_test_id("deactivate-form").get_by_role("button", name="Deactivate").click()
    expect(page.get_by_test_id("deactivate-form").locator(".invalid-feedback")).to_be_visible()  # an heir is required
    page.get_by_test_id("deactivate-form").locator("select[name=heir]").select_option(label=str(teammate))
    page.get_by_test_id("deactivate-form").get_by_role("button", name="Deactivate").click()

    expect(page.get_by_test_id(f"person-{owner.username}")).to_contain_text("Deactivated")
    expect(page.get_by_test_id(f"person-{teammate.username}").get_by_test_id("client-count")).to_have_text("2")
    assert not User.objects.get(pk=owner.pk).is_active
    assert Client.objects.filter(owner=teammate).count() == 2
    assert FollowUp.objects.get(pk=visit.pk).assigned_to == teammate
