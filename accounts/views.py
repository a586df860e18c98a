from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import check_for_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import (
    AccountForm,
    DeactivateForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PersonForm,
    SetPasswordForm,
    TeamForm,
)
from accounts.models import Role, Team, User
from accounts.selectors import people_list
from accounts.services import account_update, team_save, user_create, user_reactivate, user_update
from segmentation.records import salesperson_deactivate


class LoginView(auth_views.LoginView):
    """Logs in and speaks the user's language: the last explicit choice, on this device or stored."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen and check_for_language(chosen) and chosen != user.language:
            User.objects.filter(pk=user.pk).update(language=chosen)
        elif not chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, user.language, max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE, secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


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
    return render(request, "accounts/account.html", {"form": form})


# People and teams: the administrador's pages.

def _administrador_only(request: HttpRequest) -> None:
    if not request.user.is_administrador:
        raise PermissionDenied


def people(request: HttpRequest) -> HttpResponse:
    _administrador_only(request)
    persons = list(people_list())
    labels = dict(Role.choices)
    for person in persons:
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
