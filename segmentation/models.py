"""What we conclude from the records: lifecycle history (and, later, thresholds and segments)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Status


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
