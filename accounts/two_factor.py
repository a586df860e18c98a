"""Two-factor login's session state: which session is verified, which must still set up or enter a code.

A login is decided once, when it happens (the `user_logged_in` signal), and kept in the session, so
that pages pay no query for it: django-otp's own OTPMiddleware would load the device on every
request. The session key is django-otp's (DEVICE_ID_SESSION_KEY), written only after a verified
code, so django-otp's tools read the same state.

A password alone never logs a user with a device in: the login view keeps the pending login in the
session (`pending_*`) until the code step accepts a code; only then is the user logged in.
"""

import time

from django.conf import settings
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from accounts.models import User
from accounts.selectors import two_factor_enabled

# What a logged-in session must do before any page: set up an authenticator (an administrador
# without one), or log in again with the code (a login that skipped it, e.g. another login form).
GATE_KEY = "_cartera_2fa_gate"
GATE_SETUP = "setup"
GATE_CODE = "code"
# The login waiting for its code: {"user": pk, "backend": path, "next": url, "at": epoch seconds}.
PENDING_KEY = "_cartera_2fa_pending"
# The secret of an authenticator being set up (hex), until its first code confirms it.
SETUP_KEY = "_cartera_2fa_setup_key"
# Recovery codes to show once, on the page after they were made.
CODES_KEY = "_cartera_2fa_codes"


def two_factor_required(user: User) -> bool:
    return settings.OTP_REQUIRED_FOR_ADMINS and user.is_administrador


def session_verified(request: HttpRequest) -> bool:
    return DEVICE_ID_SESSION_KEY in request.session


def session_verify(request: HttpRequest, device: Device) -> None:
    """This session passed the second factor with `device`."""
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.session.pop(GATE_KEY, None)


def session_unverify(request: HttpRequest) -> None:
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    if two_factor_required(request.user):
        request.session[GATE_KEY] = GATE_SETUP


def session_start(sender, request: HttpRequest, user: User, **kwargs) -> None:
    """On every login: verified if the login passed a code (user.otp_device, as django-otp's
    OTP-aware forms set it), otherwise gated when the user needs a code or an authenticator."""
    session = request.session
    session.pop(PENDING_KEY, None)
    session.pop(GATE_KEY, None)
    session.pop(DEVICE_ID_SESSION_KEY, None)
    device = getattr(user, "otp_device", None)
    if device is not None and device.user_id == user.pk and device.confirmed:
        session_verify(request, device)
    elif two_factor_enabled(user):
        session[GATE_KEY] = GATE_CODE
    elif two_factor_required(user):
        session[GATE_KEY] = GATE_SETUP


def pending_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "user": user.pk, "backend": user.backend, "next": next_url, "at": int(time.time()),
    }


def pending_user(request: HttpRequest) -> tuple[User, dict] | None:
    """The user whose password was right and whose code is awaited, if not too long ago."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > settings.OTP_LOGIN_MINUTES * 60:
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user else None


def pending_end(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)
