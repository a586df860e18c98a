"""Webhooks: the endpoints other systems register for Cartera's events, and each delivery to them."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import events


class Event(models.TextChoices):
    """What an endpoint may subscribe to (the codes are part of the payload: stable)."""

    CLIENT_STATUS_CHANGED = events.CLIENT_STATUS_CHANGED, _("Client status changed")
    CLIENT_TURNED_RED = events.CLIENT_TURNED_RED, _("Client turned red")
    PURCHASE_RECORDED = events.PURCHASE_RECORDED, _("Purchase recorded")
    SURVEY_ANSWERED = events.SURVEY_ANSWERED, _("Survey answered")
    CONTRACT_RENEWAL_DUE = events.CONTRACT_RENEWAL_DUE, _("Contract ending within the notice")


TEST_EVENT = "webhook.test"  # the page's "send a test event": to any endpoint, subscribed or not


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Endpoint(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Kept as is: every delivery is signed with it (a hash could not sign). Shown to administradores.
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret, editable=False)
    events = models.JSONField(_("events"), default=list)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.ACTIVE)
    class PausedReason(models.TextChoices):
        BY_HAND = "by_hand", _("Paused by an administrator")
        FAILING = "failing", _("Paused after failing too many times in a row")

    paused_reason = models.CharField(_("why paused"), max_length=16, choices=PausedReason.choices, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["url", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE

    def event_labels(self) -> list[str]:
        labels = dict(Event.choices)
        return [str(labels[code]) for code in self.events if code in labels]


class Delivery(models.Model):
    """One event for one endpoint: sent after the commit, retried with backoff until it is
    answered with a 2xx or its attempts run out."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint"))
    event = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the next attempt is due (a claim moves it a little ahead: see services.delivery_attempt).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    # Every attempt: {"at": ISO time, "code": HTTP status or null, "error": text, "ms": duration}.
    responses = models.JSONField(_("responses"), default=list)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"

    def event_label(self) -> str:
        return str(dict(Event.choices).get(self.event, self.event))


class ScanMark(models.Model):
    """What the scan of set-based events has already announced: the clients in red, the contracts
    within the renewal notice (kind, object id). A client that leaves red loses its mark, so turning
    red again is announced again. A kind nobody subscribes to keeps no marks."""

    kind = models.CharField(max_length=16)
    object_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="webhook_scan_mark_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class ScanState(models.Model):
    """Where each set-based event's scan stands: for the status changes the last StatusChange id
    announced; for the marked kinds, that their marks have been seeded. No row: not started (nobody
    subscribed), the next scan with a subscriber starts from what is there now without announcing it."""

    kind = models.CharField(max_length=16, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"
