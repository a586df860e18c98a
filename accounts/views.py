import textwrap
from base64 import b32encode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import check_for_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.forms import (
    AccountForm,
    DeactivateForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PersonForm,
    SetPasswordForm,
    TeamForm,
    TwoFactorCodeForm,
)
from accounts.models import Role, Team, User
from accounts.selectors import people_list, recovery_codes_left, two_factor_enabled, two_factor_status
from accounts.services import (
    account_update,
    recovery_codes_regenerate,
    team_save,
    two_factor_disable,
    two_factor_enable,
    two_factor_verify,
    user_create,
    user_reactivate,
    user_update,
)
from accounts.two_factor import (
    CODES_KEY,
    SETUP_KEY,
    pending_end,
    pending_start,
    pending_user,
    session_unverify,
    session_verified,
    session_verify,
    two_factor_required,
)
from clients.models import client_counts_by_owner
from segmentation.records import salesperson_deactivate


def _language_remember(request: HttpRequest, user: User, response: HttpResponse) -> HttpResponse:
    """A login speaks the user's language: the last explicit choice, on this device or stored."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen and check_for_language(chosen) and chosen != user.language:
        User.objects.filter(pk=user.pk).update(language=chosen)
    elif not chosen:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, user.language, max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
    return response


class LoginView(auth_views.LoginView):
    """Logs in, or, for a user with two-factor login, asks for the code first (login_code): the
    password alone logs nobody in."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor_enabled(user):
            pending_start(self.request, user=user, next_url=self.get_redirect_url())
            return redirect("login_code")
        return _language_remember(self.request, user, super().form_valid(form))


@login_not_required
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The login's second step: the authenticator's code or a recovery code. Wrong codes count for
    the lockout like wrong passwords (django-axes), on top of the device's own throttling."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    found = pending_user(request)
    if found is None:  # never started, or too long ago
        return render(request, "registration/login_code.html", {"expired": True})
    user, pending = found
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        pending_end(request)
        return lockout(request, credentials=credentials)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            user.otp_device = device  # accounts.two_factor.session_start marks the session verified
            auth_login(request, user, backend=pending["backend"])
            if isinstance(device, StaticDevice):
                left = recovery_codes_left(user)
                messages.warning(request, ngettext(
                    "You used a recovery code: %(count)d is left. Make new ones on your account page.",
                    "You used a recovery code: %(count)d are left. Make new ones on your account page.", left,
                ) % {"count": left})
            return _language_remember(request, user, redirect(pending["next"] or settings.LOGIN_REDIRECT_URL))
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            pending_end(request)  # AxesMiddleware answers with the lockout page
        form.add_error("code", _("That code is not right. Use a code from your app or a recovery code."))
    return render(request, "registration/login_code.html", {"form": form})


def lockout(request: HttpRequest, original_response: HttpResponse | None = None,
            credentials: dict | None = None) -> HttpResponse:
    """django-axes' lockout page: the login form again, saying how long to wait (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = ngettext(
        "Too many failed attempts to log in. Wait %(minutes)d minute and try again.",
        "Too many failed attempts to log in. Wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    context = {
        "form": LoginForm(request, initial={"username": request.POST.get("username", "")}),
        "next": request.POST.get("next", ""),
        "lockout_message": message,
    }
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


# Passwords: Django's own views with Cartera's forms and templates. The reset pages are public
# (Django marks them login_not_required); the change pages need a login.

class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    email_template_name = "registration/password_reset_email.txt"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm


def account(request: HttpRequest) -> HttpResponse:
    """Each person's own page: their name, e-mail and language (and the way to their password)."""
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = account_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your details were saved."))
        response = redirect("account")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, user.language, max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
        return response
    two_factor, codes_left = two_factor_status(request.user)
    context = {
        "form": form, "two_factor": two_factor, "recovery_codes_left": codes_left,
        "two_factor_required": two_factor_required(request.user),
    }
    return render(request, "accounts/account.html", context)


# Two-factor login: each person's own pages, from their account page.

@never_cache
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """The QR code (and the secret, to type instead) for an authenticator app; its first code turns
    two-factor login on. The secret waits in the session until then: nothing is stored before."""
    user = request.user
    if two_factor_enabled(user):
        messages.info(request, _("Two-factor authentication is already on."))
        return redirect("account")
    key = request.session.get(SETUP_KEY)
    if key is None:
        key = request.session[SETUP_KEY] = random_hex(20)
    form = TwoFactorCodeForm(request.POST or None, recovery=False)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor_enable(user=user, key=key, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            del request.session[SETUP_KEY]
            session_verify(request, device)
            request.session[CODES_KEY] = codes
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("two_factor_codes")
    device = TOTPDevice(user=user, key=key)  # unsaved: only for the app's link
    context = {
        "form": form, "required": two_factor_required(user),
        # Inline SVG (no image, no data: URL): the Content-Security-Policy needs no exception.
        "qr": mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=5, light="#fff")),  # noqa: S308
        "secret": " ".join(textwrap.wrap(b32encode(bytes.fromhex(key)).decode(), 4)),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@never_cache
def two_factor_codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes just made, shown this once; a POST makes new ones (the old stop working)."""
    if request.method == "POST":
        if not two_factor_enabled(request.user) or not session_verified(request):
            messages.error(request, _("Log in with two-factor authentication to make new recovery codes."))
            return redirect("account")
        request.session[CODES_KEY] = recovery_codes_regenerate(user=request.user)
        messages.success(request, _("New recovery codes were made: the old ones no longer work."))
        return redirect("two_factor_codes")
    codes = request.session.pop(CODES_KEY, None)
    if not codes:
        return redirect("account")
    return render(request, "accounts/two_factor_codes.html", {"codes": codes})


def two_factor_off(request: HttpRequest) -> HttpResponse:
    """Turning two-factor login off takes a current code; administradores keep it when required."""
    user = request.user
    if not two_factor_enabled(user):
        return redirect("account")
    required = two_factor_required(user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and not required and form.is_valid():
        try:
            two_factor_disable(user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            session_unverify(request)
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("account")
    return render(request, "accounts/two_factor_off.html", {"form": form, "required": required})


# People and teams: the administrador's pages.

def _administrador_only(request: HttpRequest) -> None:
    if not request.user.is_administrador:
        raise PermissionDenied


def people(request: HttpRequest) -> HttpResponse:
    _administrador_only(request)
    persons = list(people_list())
    counts = client_counts_by_owner()
    labels = dict(Role.choices)
    for person in persons:
        person.client_count = counts.get(person.pk, 0)
        person.role_labels = [labels[group.name] for group in person.groups.all() if group.name in labels]
    teams = Team.objects.select_related("manager").annotate(member_count=Count("members"))
    return render(request, "accounts/people.html", {"people": persons, "teams": teams})


def person_create(request: HttpRequest) -> HttpResponse:
    _administrador_only(request)
    form = PersonForm(request.POST or None, initial={"language": request.user.language}, editor=request.user)
    if request.method == "POST" and form.is_valid():
        person = user_create(**form.cleaned_data)
        messages.success(request, _("%(person)s was created and has been sent an e-mail to choose a password.")
                         % {"person": person})
        return redirect("people")
    return render(request, "accounts/person_form.html", {"form": form})


def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _administrador_only(request)
    person = get_object_or_404(User, pk=pk)
    form = PersonForm(request.POST or None, instance=person, editor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(user=person, **form.cleaned_data)
        except ValidationError as error:
            form.add_error("role", error)
        else:
            messages.success(request, _("%(person)s was saved.") % {"person": person})
            return redirect("people")
    return render(request, "accounts/person_form.html", {"form": form, "person": person})


def person_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivating a salesperson hands their clients and pending follow-ups to an heir first."""
    _administrador_only(request)
    person = get_object_or_404(User.objects.filter(is_active=True), pk=pk)
    form = DeactivateForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        try:
            moved = salesperson_deactivate(by=request.user, user=person, heir=form.cleaned_data["heir"])
        except ValidationError as error:
            form.add_error("heir", error)
        else:
            messages.success(request, ngettext(
                "%(person)s was deactivated; %(count)d client was handed over.",
                "%(person)s was deactivated; %(count)d clients were handed over.", moved,
            ) % {"person": person, "count": moved})
            return redirect("people")
    context = {"form": form, "person": person, "client_count": person.clients.filter(deleted_at__isnull=True).count()}
    return render(request, "accounts/person_deactivate.html", context)


@require_POST
def person_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _administrador_only(request)
    person = user_reactivate(user=get_object_or_404(User, pk=pk))
    messages.success(request, _("%(person)s can log in again.") % {"person": person})
    return redirect("people")


def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _administrador_only(request)
    team = get_object_or_404(Team, pk=pk) if pk else None
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        team = team_save(team=team, name=form.cleaned_data["name"], manager=form.cleaned_data["manager"])
        messages.success(request, _("Team %(team)s was saved.") % {"team": team})
        return redirect("people")
    return render(request, "accounts/team_form.html", {"form": form, "team": team})
