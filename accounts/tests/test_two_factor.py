"""Two-factor login: set-up, the login's code step, recovery codes, turning it off, the lockout,
the administradores' obligation and the Django admin."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.models import Role
from accounts.services import (
    RECOVERY_CODES,
    recovery_codes_regenerate,
    two_factor_disable,
    two_factor_enable,
    two_factor_verify,
)
from accounts.two_factor import GATE_KEY, SETUP_KEY
from conftest import PASSWORD, make_user, totp_code

LOGIN = "/accounts/login/"
CODE = "/accounts/login/code/"


def code_for(key: str, offset: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key))
    totp.time = time.time() + offset * 30
    return f"{totp.token():06d}"


def enabled(user) -> tuple[TOTPDevice, list[str]]:
    key = random_hex(20)
    return two_factor_enable(user=user, key=key, code=code_for(key))


def throttle_reset(user) -> None:
    """Each failure makes a device refuse every code for a while (1 s, 2 s, 4 s…): wait no longer."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def password_step(client, user, address: str = "127.0.0.1", **extra):
    return client.post(LOGIN, {"username": user.username, "password": PASSWORD, **extra}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Services ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_enable_keeps_a_confirmed_app_and_ten_recovery_codes(owner):
    device, codes = enabled(owner)

    assert device.confirmed and device.user == owner
    assert len(codes) == RECOVERY_CODES == len(set(codes))
    assert sorted(StaticToken.objects.filter(device__user=owner).values_list("token", flat=True)) == sorted(codes)


@pytest.mark.django_db
def test_enable_refuses_a_wrong_code_and_stores_nothing(owner):
    key = random_hex(20)
    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"

    with translation.override("en"), pytest.raises(ValidationError, match="not the one your app shows"):
        two_factor_enable(user=owner, key=key, code=wrong)

    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()


@pytest.mark.django_db
def test_the_code_that_enabled_the_app_cannot_log_in_again(owner):
    key = random_hex(20)
    code = code_for(key)
    two_factor_enable(user=owner, key=key, code=code)

    assert two_factor_verify(user=owner, code=code) is None
    throttle_reset(owner)
    assert two_factor_verify(user=owner, code=code_for(key, offset=1)) is not None


@pytest.mark.django_db
def test_a_recovery_code_works_once_with_spaces_dashes_or_capitals(owner):
    _device, codes = enabled(owner)
    typed = f" {codes[0][:4].upper()}-{codes[0][4:]} "

    assert isinstance(two_factor_verify(user=owner, code=typed), StaticDevice)
    assert two_factor_verify(user=owner, code=codes[0]) is None
    assert StaticToken.objects.filter(device__user=owner).count() == RECOVERY_CODES - 1


@pytest.mark.django_db
def test_regenerated_recovery_codes_replace_the_old_ones(owner):
    _device, old = enabled(owner)

    new = recovery_codes_regenerate(user=owner)

    assert two_factor_verify(user=owner, code=old[0]) is None
    throttle_reset(owner)
    assert two_factor_verify(user=owner, code=new[0]) is not None


@pytest.mark.django_db
def test_someone_elses_code_never_verifies(owner, teammate):
    _device, codes = enabled(teammate)
    enabled(owner)

    assert two_factor_verify(user=owner, code=codes[0]) is None


@pytest.mark.django_db
def test_disable_needs_a_current_code_and_removes_everything(owner):
    device, codes = enabled(owner)

    with translation.override("en"), pytest.raises(ValidationError, match="not right"):
        two_factor_disable(user=owner, code="000000" if code_for(device.key) != "000000" else "111111")
    assert TOTPDevice.objects.filter(user=owner).exists()

    two_factor_disable(user=owner, code=codes[0])
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not StaticDevice.objects.filter(user=owner).exists()


@pytest.mark.django_db
def test_an_administrador_cannot_disable_it_when_required(db):
    admin = make_user("jefa", Role.ADMINISTRADOR)
    _device, codes = enabled(admin)

    with translation.override("en"), pytest.raises(ValidationError, match="must log in with two-factor"):
        two_factor_disable(user=admin, code=codes[0])
    assert TOTPDevice.objects.filter(user=admin).exists()


# --- Login ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_without_two_factor_the_password_logs_in(client, owner):
    assert password_step(client, owner)["Location"] == "/"
    assert logged_in(client)


@pytest.mark.django_db
def test_with_two_factor_the_password_alone_does_not_log_in(client, owner):
    enabled(owner)

    response = password_step(client, owner, next="/clients/")

    assert response["Location"] == reverse("login_code")
    assert not logged_in(client)
    assert client.get("/clients/")["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_the_apps_code_completes_the_login_and_verifies_the_session(client, owner):
    device, _codes = enabled(owner)
    password_step(client, owner, next="/clients/")

    response = client.post(CODE, {"code": code_for(device.key, offset=1)})

    assert response["Location"] == "/clients/"
    assert logged_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/clients/").status_code == 200


@pytest.mark.django_db
def test_a_recovery_code_logs_in_once_and_says_how_many_are_left(client, owner):
    _device, codes = enabled(owner)
    client.cookies["django_language"] = "en"
    password_step(client, owner)

    response = client.post(CODE, {"code": codes[3]}, follow=True)

    assert logged_in(client)
    assert "You used a recovery code: 9 are left." in response.content.decode()
    client.post("/accounts/logout/")
    password_step(client, owner)
    client.post(CODE, {"code": codes[3]})
    assert not logged_in(client)


@pytest.mark.django_db
def test_a_wrong_code_is_refused_with_a_translated_message(client, owner):
    enabled(owner)
    client.cookies["django_language"] = "en"
    password_step(client, owner)

    response = client.post(CODE, {"code": "12345x"})

    assert response.status_code == 200
    assert "That code is not right. Use a code from your app or a recovery code." in response.content.decode()
    assert not logged_in(client)


@pytest.mark.django_db
def test_the_code_step_without_a_password_just_given_asks_to_log_in_again(client, owner):
    response = client.get(CODE)
    assert response.status_code == 200
    assert 'data-testid="login-code-expired"' in response.content.decode()

    enabled(owner)
    password_step(client, owner)
    session = client.session
    session["_cartera_2fa_pending"]["at"] -= 6 * 60  # older than OTP_LOGIN_MINUTES
    session.save()
    assert 'data-testid="login-code-expired"' in client.get(CODE).content.decode()


@pytest.mark.django_db
def test_wrong_codes_count_for_the_lockout(client, owner):
    """Four wrong passwords and one wrong code are the five failures that lock the pair."""
    device, _codes = enabled(owner)
    for _ in range(4):
        client.post(LOGIN, {"username": owner.username, "password": "wrong"})
    password_step(client, owner)

    response = client.post(CODE, {"code": "000000" if code_for(device.key) != "000000" else "111111"})

    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()
    # Locked: even the right password and code log nobody in.
    assert password_step(client, owner).status_code == 429
    assert client.post(CODE, {"code": code_for(device.key)}).status_code == 200
    assert not logged_in(client)


@pytest.mark.django_db
def test_five_wrong_codes_lock_out_the_user(client, owner):
    device, codes = enabled(owner)
    password_step(client, owner)
    for n in range(5):
        response = client.post(CODE, {"code": f"wrong{n}"})

    assert response.status_code == 429
    assert password_step(client, owner).status_code == 429
    assert not logged_in(client)


@pytest.mark.django_db
def test_a_successful_code_resets_the_failures(client, owner):
    device, _codes = enabled(owner)
    password_step(client, owner)
    for n in range(4):
        client.post(CODE, {"code": f"wrong{n}"})
    throttle_reset(owner)

    client.post(CODE, {"code": code_for(device.key, offset=1)})

    assert logged_in(client)
    client.post("/accounts/logout/")
    client.post(LOGIN, {"username": owner.username, "password": "wrong"})
    assert password_step(client, owner)["Location"] == reverse("login_code")


@pytest.mark.django_db
def test_a_login_that_skipped_the_code_is_ended(client, owner):
    """A user with an authenticator logged in another way (here the test client) gives the code first."""
    enabled(owner)
    client.force_login(owner)

    response = client.get("/clients/")

    assert response["Location"].startswith(LOGIN)
    assert not logged_in(client)


# --- Administradores and the Django admin ------------------------------------------------

@pytest.mark.django_db
def test_an_administrador_without_an_app_reaches_only_its_set_up(client):
    admin = make_user("jefa", Role.ADMINISTRADOR)
    password_step(client, admin)

    assert client.session[GATE_KEY] == "setup"
    for path in ("/", "/clients/", "/account/", "/settings/people/", "/admin/"):
        assert client.get(path)["Location"] == reverse("two_factor_setup"), path
    assert client.get(reverse("two_factor_setup")).status_code == 200
    assert client.get("/health/").status_code in (200, 503)  # public pages stay public
    assert client.post("/accounts/logout/").status_code == 200


@pytest.mark.django_db
def test_an_administrador_who_sets_it_up_goes_on_verified(client):
    admin = make_user("jefa", Role.ADMINISTRADOR)
    password_step(client, admin)
    client.get(reverse("two_factor_setup"))
    key = client.session[SETUP_KEY]

    response = client.post(reverse("two_factor_setup"), {"code": code_for(key)})

    assert response["Location"] == reverse("two_factor_codes")
    assert GATE_KEY not in client.session and DEVICE_ID_SESSION_KEY in client.session
    assert client.get("/settings/people/").status_code == 200
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@override_settings(OTP_REQUIRED_FOR_ADMINS=False)
def test_the_demo_setting_lets_an_administrador_in_with_the_password(client):
    admin = make_user("jefa", Role.ADMINISTRADOR)
    password_step(client, admin)

    assert client.get("/settings/people/").status_code == 200
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_admin_needs_a_verified_session(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200

    session = client.session
    del session[DEVICE_ID_SESSION_KEY]
    session.save()
    response = client.get("/admin/")
    assert response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response["Location"].startswith(LOGIN)
    assert not logged_in(client)


@pytest.mark.django_db
def test_the_admins_own_login_form_is_never_used(client, admin_user):
    response = client.post("/admin/login/", {"username": admin_user.username, "password": PASSWORD})

    assert response["Location"].startswith(LOGIN)
    assert not logged_in(client)


@pytest.mark.django_db
def test_the_admin_user_persona_logs_in_with_its_code(client, admin_user):
    password_step(client, admin_user)
    client.post(CODE, {"code": totp_code(admin_user)})

    assert client.get("/admin/").status_code == 200


# --- Pages ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_set_up_page_shows_an_inline_svg_qr_code_and_the_key(client, owner):
    client.force_login(owner)

    response = client.get(reverse("two_factor_setup"))

    page = response.content.decode()
    assert '<svg width="' in page and "data:" not in page.split('data-testid="totp-qr"')[1][:2000]
    key = client.session[SETUP_KEY]
    from base64 import b32encode
    assert " ".join(b32encode(bytes.fromhex(key)).decode()[i:i + 4] for i in range(0, 32, 4)) in page
    assert not TOTPDevice.objects.exists()  # nothing is stored before the first code
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_recovery_codes_are_shown_once(client, owner):
    client.force_login(owner)
    client.get(reverse("two_factor_setup"))
    client.post(reverse("two_factor_setup"), {"code": code_for(client.session[SETUP_KEY])})

    first = client.get(reverse("two_factor_codes"))
    codes = list(StaticToken.objects.filter(device__user=owner).values_list("token", flat=True))
    assert all(code in first.content.decode() for code in codes)
    assert client.get(reverse("two_factor_codes"))["Location"] == reverse("account")

    client.post(reverse("two_factor_codes"))
    new = client.get(reverse("two_factor_codes")).content.decode()
    assert not any(code in new for code in codes)


@pytest.mark.django_db
def test_a_salesperson_turns_it_off_with_a_code(client, owner):
    client.force_login(owner)
    client.get(reverse("two_factor_setup"))
    client.post(reverse("two_factor_setup"), {"code": code_for(client.session[SETUP_KEY])})
    code = StaticToken.objects.filter(device__user=owner).first().token

    assert client.post(reverse("two_factor_off"), {"code": "nope"}).status_code == 200
    throttle_reset(owner)
    response = client.post(reverse("two_factor_off"), {"code": code})

    assert response["Location"] == reverse("account")
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert password_step(client.__class__(), owner)["Location"] == "/"


@pytest.mark.django_db
def test_an_administrador_is_not_offered_to_turn_it_off(client, admin_user):
    client.force_login(admin_user)
    StaticDevice.objects.create(user=admin_user, name="recovery", confirmed=True).token_set.create(token="abcdefgh")

    assert "two-factor-off" not in client.get(reverse("account")).content.decode()
    response = client.post(reverse("two_factor_off"), {"code": "abcdefgh"})
    assert 'data-testid="two-factor-required"' in response.content.decode()
    assert TOTPDevice.objects.filter(user=admin_user).exists()


# --- Query counts -----------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("codes", [1, RECOVERY_CODES])
def test_account_page_queries_do_not_grow_with_recovery_codes(client, django_assert_num_queries, owner, codes):
    enabled(owner)
    StaticToken.objects.filter(pk__in=StaticToken.objects.values("pk")[codes:]).delete()
    client.force_login(owner)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get().persistent_id
    session.pop(GATE_KEY, None)
    session.save()
    # session, user, the navbar's roles, the two-factor status (one query whatever the codes).
    with django_assert_num_queries(4):
        assert client.get(reverse("account")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("codes", [1, RECOVERY_CODES])
def test_set_up_page_queries_are_constant(client, django_assert_num_queries, owner, codes):
    for n in range(codes):
        make_user(f"person{n}", Role.COMERCIAL)
    client.force_login(owner)
    client.get(reverse("two_factor_setup"))
    # session, user, the app's existence, the navbar's roles (the key waits in the session: no write).
    with django_assert_num_queries(4):
        assert client.get(reverse("two_factor_setup")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("codes", [1, RECOVERY_CODES])
def test_code_step_queries_do_not_grow_with_recovery_codes(client, django_assert_num_queries, owner, codes):
    enabled(owner)
    StaticToken.objects.filter(pk__in=StaticToken.objects.values("pk")[codes:]).delete()
    password_step(client, owner)
    client.get(CODE)  # the idle timeout's first refresh of the session (accounts.middleware)
    # session, the pending user, the lockout's count of failures (django-axes).
    with django_assert_num_queries(3):
        assert client.get(CODE).status_code == 200


@pytest.mark.django_db
def test_an_administrador_removes_a_lost_authenticator_in_the_django_admin(client, admin_user, owner):
    """The way back for someone who lost their phone and their recovery codes (README)."""
    device, _codes = enabled(owner)
    client.force_login(admin_user)

    assert client.get("/admin/otp_totp/totpdevice/").status_code == 200
    client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})

    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert password_step(client.__class__(), owner)["Location"] == "/"


@pytest.mark.django_db
def test_the_admins_login_page_refuses_other_logged_in_people(client, owner, admin_user):
    client.force_login(owner)

    response = client.post("/admin/login/", {"username": admin_user.username, "password": PASSWORD})

    assert response.status_code == 403
    assert client.session["_auth_user_id"] == str(owner.pk)
