"""Login protection (django-axes), password strength and the idle session timeout."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SESSION_REFRESHED_KEY
from accounts.models import Role
from conftest import PASSWORD, make_user
from demo.people import DEMO_PASSWORD

LOGIN = "/accounts/login/"
SPANISH_WAIT = "Demasiados intentos fallidos de acceso. Espera 15 minutos y vuelve a intentarlo."


def attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username: str, times: int, address: str = "127.0.0.1"):
    for _ in range(times):
        response = attempt(client, username, "wrong-password", address)
    return response


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_lockout_is_never_permanent():
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


@pytest.mark.django_db
def test_four_failures_do_not_lock(client, owner):
    response = fail(client, owner.username, 4)
    assert response.status_code == 200
    assert "Espera" not in response.content.decode()

    assert attempt(client, owner.username, PASSWORD).status_code == 302
    assert is_logged_in(client)


@pytest.mark.django_db
def test_five_failures_lock_even_the_right_password_with_a_spanish_message(client, owner):
    fail(client, owner.username, 5)

    response = attempt(client, owner.username, PASSWORD)

    assert response.status_code == 429
    assert SPANISH_WAIT in response.content.decode()
    assert 'name="password"' in response.content.decode()  # the login page, not a bare error
    assert not is_logged_in(client)


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "text"), [
    ("pt-br", "Muitas tentativas de acesso sem sucesso. Aguarde 15 minutos e tente novamente."),
    ("en", "Too many failed attempts to log in. Wait 15 minutes and try again."),
])
def test_lockout_message_speaks_the_chosen_language(client, owner, language, text):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    fail(client, owner.username, 5)

    response = attempt(client, owner.username, PASSWORD)

    assert text in response.content.decode()


@pytest.mark.django_db
def test_lock_holds_only_for_that_username_from_that_address(client, owner, teammate):
    fail(client, owner.username, 5, address="10.0.0.1")

    assert attempt(client, teammate.username, PASSWORD, address="10.0.0.1").status_code == 302
    client.logout()
    assert attempt(client, owner.username, PASSWORD, address="10.0.0.2").status_code == 302
    assert is_logged_in(client)


@pytest.mark.django_db
def test_behind_a_proxy_the_lock_follows_the_client_not_the_proxy_nor_a_forged_header(client, owner, settings):
    settings.PROXY_COUNT = 1
    proxy = "10.9.9.9"

    def via_proxy(password: str, forwarded: str):
        return client.post(
            LOGIN, {"username": owner.username, "password": password},
            REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded,
        )

    # The attacker writes a new address at the left of every request; the proxy appends theirs.
    for number in range(5):
        via_proxy("wrong-password", f"203.0.113.{number}, 198.51.100.7")
    assert via_proxy(PASSWORD, "203.0.113.99, 198.51.100.7").status_code == 429
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"

    # The real user, behind the same proxy from another address, is not locked out.
    assert via_proxy(PASSWORD, "192.0.2.10").status_code == 302


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "203.0.113.5", "192.0.2.1"),  # no proxy: the header is the client's, ignored
        (1, "10.0.0.1", "203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "10.0.0.1", "203.0.113.5", "10.0.0.1"),  # shorter than the proxies: not believed
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_what_the_proxies_wrote(rf, settings, count, remote, forwarded, expected):
    from core.http import client_ip

    settings.PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_the_right_password_works_again_after_the_cool_off(client, owner):
    fail(client, owner.username, 5)
    assert attempt(client, owner.username, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert attempt(client, owner.username, PASSWORD).status_code == 302
    assert is_logged_in(client)


@pytest.mark.django_db
def test_tries_during_the_lock_do_not_extend_it(client, owner):
    fail(client, owner.username, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    fail(client, owner.username, 3)  # still locked: refused, not counted

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert attempt(client, owner.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_count(client, owner):
    fail(client, owner.username, 4)
    assert attempt(client, owner.username, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()

    fail(client, owner.username, 4)

    assert attempt(client, owner.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_force_login_and_public_pages_are_untouched(client, owner):
    assert client.get("/health/").status_code in (200, 503)
    assert client.get(LOGIN).status_code == 200
    client.force_login(owner)
    assert client.get(reverse("clients:agenda")).status_code == 200


# --- Passwords ---------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("password", ["short-1", "qwertyuiop", "48230917562341", "comercial1"])
def test_weak_passwords_are_refused(owner, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=owner)


@pytest.mark.django_db
def test_demo_and_test_passwords_are_strong_enough():
    demo_user = make_user("comercial4", Role.COMERCIAL)
    validate_password(DEMO_PASSWORD, user=demo_user)
    validate_password(PASSWORD, user=demo_user)


def test_minimum_length_is_ten():
    lengths = [v.get("OPTIONS", {}).get("min_length") for v in settings.AUTH_PASSWORD_VALIDATORS
               if v["NAME"].endswith("MinimumLengthValidator")]
    assert lengths == [10]


# --- Idle session timeout ------------------------------------------------------------------

def test_session_lasts_the_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60
    assert settings.SESSION_REFRESH_SECONDS < settings.SESSION_COOKIE_AGE


def push_session(client, *, refreshed_seconds_ago: int, expires_in: timedelta) -> None:
    session = client.session
    session[SESSION_REFRESHED_KEY] = int(time.time()) - refreshed_seconds_ago
    session.save()
    Session.objects.update(expire_date=timezone.now() + expires_in)


@pytest.mark.django_db
def test_a_request_after_the_refresh_interval_pushes_the_expiry_forward(client, owner):
    client.force_login(owner)
    push_session(client, refreshed_seconds_ago=settings.SESSION_REFRESH_SECONDS, expires_in=timedelta(minutes=5))

    assert client.get(reverse("clients:agenda")).status_code == 200

    expiry = Session.objects.get().expire_date
    assert expiry > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


@pytest.mark.django_db
def test_requests_within_the_refresh_interval_do_not_write_the_session(client, owner):
    client.force_login(owner)
    push_session(client, refreshed_seconds_ago=10, expires_in=timedelta(minutes=5))
    before = Session.objects.get().expire_date

    assert client.get(reverse("clients:agenda")).status_code == 200

    assert Session.objects.get().expire_date == before


@pytest.mark.django_db
def test_an_idle_session_is_sent_to_the_login_page(client, owner):
    client.force_login(owner)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.get(reverse("clients:agenda"))

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not Session.objects.filter(expire_date__gt=timezone.now()).exists()  # none re-created


@pytest.mark.django_db
def test_pages_without_a_session_cookie_create_no_session(client):
    assert client.get("/health/").status_code in (200, 503)
    assert client.get(LOGIN).status_code == 200
    assert not Session.objects.exists()
