import uuid

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def export_path(job: "ExportJob", filename: str) -> str:
    """A name nobody can guess, by month: the file is only ever sent by the download view."""
    return f"exports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{job.format}"


class ExportJob(models.Model):
    """A client list or a segment too large to download at once: written by a worker, then
    downloaded by the user who asked for it (and nobody else) until it is purged."""

    class Kind(models.TextChoices):
        CLIENTS = "clients", _("Client list")
        SEGMENT = "segment", _("Segment")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel"

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports", verbose_name=_("requested by"),
    )
    kind = models.CharField(_("what"), max_length=16, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    # What to export, as the user asked for it: {"query": the list's querystring} or {"segment": id}.
    # The clients are chosen when the job runs, through the user's access rule of that moment.
    params = models.JSONField(default=dict)
    name = models.CharField(_("name"), max_length=100)  # the download's file name, before the date
    language = models.CharField(max_length=16, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, max_length=255, blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="export_user_created_idx"),
            models.Index(fields=["created_at"], name="export_created_idx"),  # the purge
        ]

    def __str__(self) -> str:
        return f"{self.name}.{self.format}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def downloadable(self) -> bool:
        return self.state == self.State.DONE and bool(self.file)


@receiver(post_delete, sender=ExportJob)
def _file_delete(sender, instance: ExportJob, **kwargs) -> None:
    """However the row goes (the purge, the admin, its user deleted), its file of client data goes too."""
    if instance.file:
        instance.file.delete(save=False)
