from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Role codes are the names of the auth groups that grant them."""

    COMERCIAL = "comercial", _("Salesperson")
    GERENTE = "gerente", _("Manager")
    ADMINISTRADOR = "administrador", _("Administrator")


class Team(models.Model):
    """One gerente and the comerciales who report to them."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="managed_teams",
        verbose_name=_("manager"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    # The private calendar feed URL (/calendar/<token>.ics); None when the user has none or revoked it.
    calendar_token = models.CharField(_("calendar feed token"), max_length=64, unique=True, null=True, blank=True, editable=False)
    # The day of the last morning summary e-mail: the nightly job never sends two on one day.
    morning_summary_sent_on = models.DateField(_("last morning summary"), null=True, blank=True, editable=False)

    class Meta(AbstractUser.Meta):
        ordering = ["first_name", "last_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def roles(self) -> frozenset[str]:
        names = set(self.groups.values_list("name", flat=True))
        if self.is_superuser:
            names.add(Role.ADMINISTRADOR)
        return frozenset(names)

    @property
    def is_administrador(self) -> bool:
        return Role.ADMINISTRADOR in self.roles

    @property
    def is_gerente(self) -> bool:
        return Role.GERENTE in self.roles

    @property
    def is_comercial(self) -> bool:
        return Role.COMERCIAL in self.roles

    @property
    def can_manage_portfolios(self) -> bool:
        """Gerentes and administradores reassign clients between salespeople."""
        return self.is_administrador or self.is_gerente

    def has_perm(self, perm: str, obj=None) -> bool:
        # An administrador runs the Django admin: every model permission is theirs.
        if self.is_active and self.is_administrador:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_administrador:
            return True
        return super().has_module_perms(app_label)
