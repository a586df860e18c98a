"""Who changed what, and when: one row per change to a client or one of its records, bulk
paths included (reassignment, import), never edited. Shown on the client page to gerentes and
administradores."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.context import VIA_MAX, current_via


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        REASSIGN = "reassign", _("Reassigned")
        IMPORT = "import", _("Imported")
        COMPLETE = "complete", _("Completed")
        TRASH = "trash", _("Moved to the trash")
        RESTORE = "restore", _("Restored from the trash")
        ERASE = "erase", _("Erased (anonymised)")
        EXPORT = "export", _("Personal data exported")
        SHARE = "share", _("Shared")
        UNSHARE = "unshare", _("No longer shared")
        RESCHEDULE = "reschedule", _("Rescheduled")
        HAND_OVER = "hand_over", _("Handed over")
        CANCEL = "cancel", _("Cancelled")
        RENEW = "renew", _("Renewed")
        END = "end", _("Ended")
        MERGE = "merge", _("Merged")

    class Subject(models.TextChoices):
        CLIENT = "client", _("Client")
        PURCHASE = "purchase", _("Purchase")
        FOLLOWUP = "followup", _("Follow-up")
        INTERACTION = "interaction", _("Interaction")
        CONTRACT = "contract", _("Contract")

    at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("who"),
    )
    client = models.ForeignKey(  # indexed by audit_client_at_idx
        "clients.Client", on_delete=models.CASCADE, related_name="audit_entries", db_index=False,
    )
    subject = models.CharField(max_length=16, choices=Subject.choices)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=16, choices=Action.choices)
    changes = models.JSONField(default=dict)  # {field: [before, after]} as text
    version = models.PositiveIntegerField(null=True, blank=True)  # the client's version after a client change
    # The channel when not the pages: "api:<token name>" for a write through the REST API (audit.context).
    # The default is read when the entry is built (audit_record, the services' bulk entries); rows a
    # bulk path inserts as plain values without the column get the database's "".
    via = models.CharField(_("through"), max_length=VIA_MAX, blank=True, default=current_via, db_default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["client", "-at"], name="audit_client_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.subject} {self.object_id} {self.action}"

    @property
    def api_token_name(self) -> str:
        """The name of the API token the change was made with ("" when not through the API)."""
        return self.via.removeprefix("api:") if self.via.startswith("api:") else ""
