from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IcpConfig(AppConfig):
    name = "icp"
    verbose_name = _("Ideal client profile")
