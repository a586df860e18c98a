from django.conf import settings
from django.contrib.auth import views as auth_views
from django.utils.translation import check_for_language

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
