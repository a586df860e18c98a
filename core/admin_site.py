from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class CarteraAdminSite(admin.AdminSite):
    site_header = _("Cartera administration")
    site_title = _("Cartera")
    index_title = _("Administration")

    def has_permission(self, request: HttpRequest) -> bool:
        """Only administradores enter the admin, whatever their is_staff flag says."""
        user = request.user
        return user.is_active and getattr(user, "is_administrador", False)


class CarteraAdminConfig(AdminConfig):
    default_site = "core.admin_site.CarteraAdminSite"
