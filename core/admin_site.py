from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import DEVICE_ID_SESSION_KEY


class CarteraAdminSite(admin.AdminSite):
    site_header = _("Cartera administration")
    site_title = _("Cartera")
    index_title = _("Administration")

    def has_permission(self, request: HttpRequest) -> bool:
        """Only administradores enter the admin, whatever their is_staff flag says, and (when
        settings.OTP_REQUIRED_FOR_ADMINS) only in a session verified by two-factor login, as
        django-otp's OTPAdminSite asks (read from the session: accounts/two_factor.py)."""
        user = request.user
        if not (user.is_active and getattr(user, "is_administrador", False)):
            return False
        return not settings.OTP_REQUIRED_FOR_ADMINS or DEVICE_ID_SESSION_KEY in request.session

    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """The site's own login (password, then code, with the lockout), never the admin's form,
        which would take a password alone. An administrador whose session lacks the code logs in again;
        anyone else logged in is refused."""
        from django.contrib.auth.views import redirect_to_login  # loads the auth models: not at app loading

        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(next_url)
        if not getattr(request.user, "is_administrador", False):
            raise PermissionDenied  # logged in, but not an administrador
        if not self.has_permission(request):
            logout(request)
            return redirect_to_login(next_url)
        return redirect(next_url)


class CarteraAdminConfig(AdminConfig):
    default_site = "core.admin_site.CarteraAdminSite"
