from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from imports.services import Kind


class ImportJob(models.Model):
    """One uploaded file on its way in: previewed, confirmed, imported in the background."""

    class State(models.TextChoices):
        ANALYSING = "analysing", _("Checking the file")
        PREVIEW = "preview", _("Waiting for confirmation")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Not imported")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imports", verbose_name=_("imported by")
    )
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    filename = models.CharField(_("file"), max_length=255)
    # The upload itself, until it is imported: any worker can read it, no shared disk needed.
    data = models.BinaryField(editable=False)
    language = models.CharField(max_length=16, editable=False)
    mapping = models.JSONField(default=dict)  # {field: column index}
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("owner of the new clients"),
    )
    create_missing_clients = models.BooleanField(_("create missing clients"), default=False)
    create_missing_products = models.BooleanField(_("create missing products"), default=False)
    only_valid = models.BooleanField(_("import only the valid rows"), default=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PREVIEW)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    summary = models.JSONField(default=dict)
    errors = models.JSONField(default=list)  # [[line, column, value, message], …] of the last analysis
    failure = models.TextField(blank=True)  # why a confirmed import wrote nothing
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Moved on as a background analysis or import progresses (outside the import's transaction):
    # a job running with an old heartbeat lost its worker (jobs.jobs_fail_stale).
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="import_user_created_idx"),
            # The periodic checks read only the few jobs under way or waiting (purge, stale heartbeat).
            models.Index(fields=["state", "created_at"], name="import_state_created_idx"),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def under_way(self) -> bool:
        """A worker holds it (or soon will): it cannot be discarded until it ends or is marked failed."""
        return self.state in (self.State.QUEUED, self.State.RUNNING, self.State.ANALYSING)
