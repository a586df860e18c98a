"""What we conclude from the records: lifecycle history and thresholds (and, later, segments)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Status
from segmentation.rules import Thresholds

ALERT_DAY_FIELDS = ("valuable_dormant_days", "renewal_notice_days", "due_soon_days", "awaiting_limit_days", "contact_cadence_days")


class StatusChange(models.Model):
    """One change of a client's lifecycle status, for flows between statuses over time."""

    class Cause(models.TextChoices):
        RECOMPUTE = "recompute", _("Nightly recompute")
        PURCHASE = "purchase", _("Purchase recorded")
        CLOSURE = "closure", _("Closed on purpose")
        IMPORT = "import", _("Import")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("client"))
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    date = models.DateField(_("date"))
    cause = models.CharField(_("cause"), max_length=16, choices=Cause.choices, default=Cause.RECOMPUTE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [
            models.Index(fields=["client", "date"], name="status_change_client_idx"),
            models.Index(fields=["date", "to_status"], name="status_change_flow_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.from_status} → {self.to_status} ({self.date})"


class LifecycleSettings(models.Model):
    """The administrador's thresholds for status and classifications: one row, pk=1."""

    alta_window_days = models.PositiveIntegerField(
        _("new-client window (days)"), default=30,
        help_text=_("A client stays 'new' for this many days after the first purchase."),
    )
    dormido_after_days = models.PositiveIntegerField(
        _("dormant after (days)"), default=90, help_text=_("Days without a purchase before a client is dormant."),
    )
    baja_after_days = models.PositiveIntegerField(
        _("lost after (days)"), default=365, help_text=_("Days without a purchase before a client is lost."),
    )
    tier_very_high = models.DecimalField(
        _("very high volume from"), max_digits=5, decimal_places=2, default=Decimal("2.0"),
        help_text=_("Ratio of the 12-month spend to the mean of the clients who spent."),
    )
    tier_high = models.DecimalField(_("high volume from"), max_digits=5, decimal_places=2, default=Decimal("1.2"))
    tier_medium = models.DecimalField(_("medium volume from"), max_digits=5, decimal_places=2, default=Decimal("0.6"))
    frequent_max_days = models.PositiveIntegerField(
        _("frequent up to (days)"), default=30, help_text=_("Median days between purchases of a frequent client."),
    )
    habitual_max_days = models.PositiveIntegerField(
        _("habitual up to (days)"), default=90, help_text=_("Median days between purchases of a habitual client."),
    )
    valuable_dormant_days = models.PositiveIntegerField(
        _("valuable dormant alert for (days)"), default=7,
        help_text=_("A very high or high volume client who turned dormant is red for this many days."),
    )
    renewal_notice_days = models.PositiveIntegerField(
        _("contract renewal notice (days)"), default=30,
        help_text=_("A pending contract ending within this many days is red unless a follow-up is scheduled."),
    )
    due_soon_days = models.PositiveIntegerField(
        _("follow-up due soon within (days)"), default=2,
        help_text=_("A pending follow-up due within this many days is yellow."),
    )
    awaiting_limit_days = models.PositiveIntegerField(
        _("waiting for an answer up to (days)"), default=7,
        help_text=_("Waiting for the client's answer is green up to this many days, then yellow."),
    )
    contact_cadence_days = models.PositiveIntegerField(
        _("contact cadence (days)"), default=45,
        help_text=_("A client with nothing scheduled and no contact for longer than this is yellow."),
    )
    nightly_hour = models.PositiveSmallIntegerField(
        _("nightly recompute hour"), default=2, help_text=_("Hour of the day (0–23, Europe/Madrid) of the nightly run."),
    )

    class Meta:
        verbose_name = _("lifecycle settings")
        verbose_name_plural = _("lifecycle settings")

    def __str__(self) -> str:
        return str(_("Lifecycle settings"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "LifecycleSettings":
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for name in ("alta_window_days", "dormido_after_days", "baja_after_days", "frequent_max_days", "habitual_max_days",
                     *ALERT_DAY_FIELDS):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                errors[name] = _("Must be a positive number of days.")
        for name in ("tier_very_high", "tier_high", "tier_medium"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                errors[name] = _("Must be a positive ratio.")
        if not errors:
            if not self.alta_window_days < self.dormido_after_days:
                errors["dormido_after_days"] = _("The dormant threshold must be longer than the new-client window.")
            if not self.dormido_after_days < self.baja_after_days:
                errors["baja_after_days"] = _("The lost threshold must be longer than the dormant threshold.")
            if not self.tier_high < self.tier_very_high:
                errors["tier_very_high"] = _("The very high cut point must be above the high one.")
            if not self.tier_medium < self.tier_high:
                errors["tier_high"] = _("The high cut point must be above the medium one.")
            if not self.frequent_max_days < self.habitual_max_days:
                errors["habitual_max_days"] = _("The habitual limit must be longer than the frequent one.")
        if self.nightly_hour is not None and not 0 <= self.nightly_hour <= 23:
            errors["nightly_hour"] = _("Must be an hour between 0 and 23.")
        if errors:
            raise ValidationError(errors)

    def thresholds(self) -> Thresholds:
        return Thresholds(
            alta_window_days=self.alta_window_days, dormido_after_days=self.dormido_after_days,
            baja_after_days=self.baja_after_days, tier_very_high=self.tier_very_high, tier_high=self.tier_high,
            tier_medium=self.tier_medium, frequent_max_days=self.frequent_max_days,
            habitual_max_days=self.habitual_max_days,
            **{name: getattr(self, name) for name in ALERT_DAY_FIELDS},
        )
