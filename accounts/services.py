import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, Team, User


def _set_role(user: User, role: str) -> None:
    """A person has one role: the auth group named by it (accounts.models.Role)."""
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    user.__dict__.pop("roles", None)


@transaction.atomic
def user_create(
    *, username: str, role: str, password: str | None = None, first_name: str = "", last_name: str = "",
    email: str = "", team: Team | None = None, language: str = "es",
) -> User:
    """A new user. Without a password they get a "set your password" e-mail once the user is
    saved (the password-reset link): the administrador never knows or sends anyone's password."""
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name,
        email=email, team=team, language=language,
        # The admin site lets administradores in (see core.admin_site); is_staff keeps
        # Django's own checks, like the admin's "view site" links, consistent.
        is_staff=role == Role.ADMINISTRADOR,
    )
    _set_role(user, role)
    if password is None and email:
        transaction.on_commit(lambda: password_set_send(user=user))
    return user


@transaction.atomic
def user_update(
    *, user: User, role: str, team: Team | None, first_name: str, last_name: str, email: str, language: str,
) -> User:
    """An administrador's edit of a person: their name, e-mail, language, role and team."""
    if role != Role.GERENTE and user.managed_teams.exists():
        raise ValidationError(_("This person manages a team: give the team another manager first."))
    user.first_name, user.last_name, user.email, user.language, user.team = first_name, last_name, email, language, team
    user.is_staff = role == Role.ADMINISTRADOR
    user.save(update_fields=["first_name", "last_name", "email", "language", "team", "is_staff"])
    _set_role(user, role)
    return user


def account_update(*, user: User, first_name: str, last_name: str, email: str, language: str) -> User:
    """A person's edit of their own details (their role and team are the administrador's)."""
    user.first_name, user.last_name, user.email, user.language = first_name, last_name, email, language
    user.save(update_fields=["first_name", "last_name", "email", "language"])
    return user


def user_reactivate(*, user: User) -> User:
    """Lets a deactivated person log in again; the clients handed over stay with their heir."""
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    return user


def team_save(*, team: Team | None = None, name: str, manager: User) -> Team:
    """Creates a team or renames it and gives it a manager (a gerente)."""
    if Role.GERENTE not in manager.roles or not manager.is_active:
        raise ValidationError(_("The manager of a team must be an active manager."))
    team = team or Team()
    team.name, team.manager = name, manager
    team.full_clean()
    team.save()
    return team


def site_parts() -> tuple[str, str]:
    """The protocol and domain of the links in e-mails (settings.SITE_URL), whatever host asked."""
    parts = urlsplit(settings.SITE_URL)
    return parts.scheme or "https", parts.netloc


def password_set_send(*, user: User) -> None:
    """The new user's invitation: a link to choose their password, in their language."""
    protocol, domain = site_parts()
    context = {
        "user": user, "protocol": protocol, "domain": domain,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
    }
    with translation.override(user.language):
        subject = "".join(render_to_string("registration/password_set_subject.txt", context).splitlines())
        body = render_to_string("registration/password_set_email.txt", context)
    send_mail(subject, body, None, [user.email])


# Two-factor login (accounts/two_factor.py keeps the session's side of it).

RECOVERY_CODES = 10


def _code_clean(code: str) -> str:
    """A typed code as stored: no spaces or dashes (apps show "123 456"), recovery codes lower-case."""
    return "".join(code.split()).replace("-", "").lower()


def _is_app_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


@transaction.atomic
def two_factor_enable(*, user: User, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Turns two-factor login on with the authenticator app set up from `key` (hex), once the app's
    first `code` proves it holds the key. Replaces any earlier app and recovery codes; returns the
    new device and the recovery codes, which are shown once and stored only as tokens to match."""
    code = _code_clean(code)
    totp = TOTP(bytes.fromhex(key))
    totp.time = time.time()
    if not _is_app_code(code) or not totp.verify(int(code), tolerance=1):
        raise ValidationError(_("That code is not the one your app shows. Check the app and try again."),
                              code="invalid")
    TOTPDevice.objects.filter(user=user).delete()
    # The code just used cannot log in again (last_t), as for any verified code.
    device = TOTPDevice.objects.create(
        user=user, name="authenticator", key=key, confirmed=True, last_t=totp.t(), drift=totp.drift,
    )
    return device, recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """RECOVERY_CODES new single-use codes for when the phone is not at hand; the old ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(user=user, defaults={"name": "recovery", "confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def two_factor_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts `code`: the app's six digits, or a recovery code (then used up).
    Each device counts its own failures and refuses codes for a while after them (django-otp's
    throttling); the login view also counts them for the lockout (django-axes)."""
    code = _code_clean(code)
    model = TOTPDevice if _is_app_code(code) else StaticDevice
    if not code:
        return None
    with transaction.atomic():  # the rows locked, so that a code is accepted once however fast it is replayed
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def two_factor_disable(*, user: User, code: str) -> None:
    """Turns two-factor login off, with a current code. Administradores keep it when it is required."""
    if settings.OTP_REQUIRED_FOR_ADMINS and user.is_administrador:
        raise ValidationError(_("Administrators must log in with two-factor authentication."), code="required")
    if two_factor_verify(user=user, code=code) is None:
        raise ValidationError(_("That code is not right. Use a code from your app or a recovery code."),
                              code="invalid")
    with transaction.atomic():  # after the check, whose failure the device's throttling keeps
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
