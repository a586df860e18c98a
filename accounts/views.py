from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import check_for_language, ngettext

from accounts.forms import LoginForm
from accounts.models import User


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
