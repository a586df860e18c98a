"""What we conclude from the records: lifecycle history, thresholds, saved segments and daily snapshots;
the nightly runs that compute them."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clients.models import Client, Status
from segmentation.rules import Thresholds

ALERT_DAY_FIELDS = ("valuable_dormant_days", "renewal_notice_days", "due_soon_days", "awaiting_limit_days", "contact_cadence_days")
AUTOMATION_DAY_FIELDS = ("reactivation_due_days", "renewal_call_days", "welcome_after_days")
SWITCH_FIELDS = (
    "valuable_dormant_enabled", "auto_reactivation_enabled", "auto_renewal_enabled", "auto_welcome_enabled",
    "morning_summary_enabled",
)
LEAVE_ALERT_FIELDS = ("leave_alert_share", "leave_alert_minimum")


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
            # The dashboard's flows: the changes written since the night's FlowSnapshot.
            models.Index(fields=["created_at"], name="status_change_created_idx"),
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
    valuable_dormant_enabled = models.BooleanField(
        _("red alert when a valuable client turns dormant"), default=True,
    )
    auto_reactivation_enabled = models.BooleanField(
        _("reactivation call when a client turns dormant"), default=True,
    )
    reactivation_due_days = models.PositiveIntegerField(
        _("reactivation call due after (days)"), default=2,
        help_text=_("Days after the client turns dormant for the owner's reactivation call."),
    )
    auto_renewal_enabled = models.BooleanField(_("renewal call before a contract ends"), default=True)
    renewal_call_days = models.PositiveIntegerField(
        _("renewal call when the contract ends within (days)"), default=30,
        help_text=_("A contract without renewal ending within this many days gets a renewal call."),
    )
    auto_welcome_enabled = models.BooleanField(_("welcome call for a new client"), default=True)
    welcome_after_days = models.PositiveIntegerField(
        _("welcome call after (days)"), default=7, help_text=_("Days after the first purchase for the welcome call."),
    )
    morning_summary_enabled = models.BooleanField(
        _("morning summary e-mail"), default=True,
        help_text=_("Each salesperson receives their reds, today's agenda, new dormant clients and contracts to renew."),
    )
    renewal_window_days = models.PositiveSmallIntegerField(
        _("renewal portfolio window (days)"), default=60, choices=[(30, "30"), (60, "60"), (90, "90")],
        help_text=_("The renewal page lists the contracts ending within this many days unless the user picks another."),
    )
    comercial_adds_products = models.BooleanField(
        _("salespeople may add products from the purchase form"), default=False,
        help_text=_("Otherwise only managers and administrators add products to the catalogue."),
    )
    campaign_calls_per_day = models.PositiveSmallIntegerField(
        _("campaign calls or visits per salesperson and day"), default=8,
        help_text=_("A phone or visit campaign spreads each salesperson's calls over working days at this pace."),
    )
    workday_start = models.TimeField(_("working day starts"), default=datetime.time(9, 0))
    workday_end = models.TimeField(_("working day ends"), default=datetime.time(18, 0))
    nightly_hour = models.PositiveSmallIntegerField(
        _("nightly recompute hour"), default=2, help_text=_("Hour of the day (0–23, Europe/Madrid) of the nightly run."),
    )
    leave_alert_share = models.PositiveSmallIntegerField(
        _("alert when one reason for leaving passes (% of the month's lost clients)"), default=40,
        help_text=_("Managers get a red alert in their morning summary when one reason is given by more than "
                    "this share of the month's lost clients. 0 turns the alert off."),
    )
    leave_alert_minimum = models.PositiveSmallIntegerField(
        _("reason alert from (lost clients in the month)"), default=5,
        help_text=_("The alert waits until the month has at least this many lost clients."),
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
                     *ALERT_DAY_FIELDS, *AUTOMATION_DAY_FIELDS):
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
        if self.campaign_calls_per_day is not None and self.campaign_calls_per_day <= 0:
            errors["campaign_calls_per_day"] = _("Must be at least one a day.")
        if self.workday_start and self.workday_end and not self.workday_start < self.workday_end:
            errors["workday_end"] = _("The working day must end after it starts.")
        if self.leave_alert_share is not None and self.leave_alert_share > 100:
            errors["leave_alert_share"] = _("Must be a percentage between 0 and 100.")
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
            **{name: getattr(self, name) for name in (
                *ALERT_DAY_FIELDS, *AUTOMATION_DAY_FIELDS, *SWITCH_FIELDS, *LEAVE_ALERT_FIELDS,
            )},
        )


class SegmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SegmentQuerySet":
        """A user's own segments and those shared with everyone."""
        return self.filter(models.Q(owner=user) | models.Q(shared=True))


class Segment(models.Model):
    """A saved, named filter of the client list; membership follows the data (DOMAIN.md "Segments").

    `params` holds the list's filter parameters as {name: [values]}; whoever opens a shared
    segment sees the clients of their own portfolio that match it (the access rule still decides).
    """

    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments", verbose_name=_("owner"), editable=False,
    )
    shared = models.BooleanField(_("shared with everyone"), default=False)
    params = models.JSONField(_("filters"), default=dict, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="segment_name_per_owner")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("segmentation:segment_detail", args=[self.pk])

    @property
    def querystring(self) -> str:
        from django.utils.http import urlencode

        return urlencode(self.params, doseq=True)


class SourceSnapshot(models.Model):
    """The altas (first purchases) of the 12 months ending on `date` per salesperson and source
    (nightly, segmentation/snapshots.py): the dashboard's sources card reads these."""

    date = models.DateField(_("date"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    source = models.CharField(max_length=16, blank=True)
    altas = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["date", "owner"], name="source_snapshot_day_owner_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.owner_id} {self.source}: {self.altas}"


class FlowSnapshot(models.Model):
    """The status changes of `month` (the month of `date` and the one before) per salesperson of
    the client and pair of statuses, counted by the night of `date` (segmentation/snapshots.py):
    the dashboard's flows read these, plus the changes written since `taken_at`."""

    date = models.DateField(_("date"))
    taken_at = models.DateTimeField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()  # its first day
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    changes = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["date", "owner"], name="flow_snapshot_day_owner_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.owner_id} {self.month:%Y-%m} {self.from_status} → {self.to_status}: {self.changes}"


class RenewalSnapshot(models.Model):
    """The decided contracts (renewed or lost) that came to term in the 12 months ending on `date`,
    one row each with its client's salesperson, taken by the night (segmentation/snapshots.py):
    the dashboard's renewal rate sums these, less the contracts saved since `taken_at`, which it
    counts as they are now. A contract deleted since takes its row with it."""

    date = models.DateField(_("date"))
    taken_at = models.DateTimeField()
    contract = models.ForeignKey("clients.Contract", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    renewed = models.BooleanField()  # False: lost
    value = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["date", "owner"], name="renewal_snapshot_day_owner_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.contract_id}: {'renewed' if self.renewed else 'lost'}"


class DailySnapshot(models.Model):
    """Clients and 12-month spend per salesperson, status, tier, frequency and colour on a day (nightly)."""

    date = models.DateField(_("date"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=16, choices=Status.choices)
    volume_tier = models.CharField(max_length=16, blank=True)
    frequency_class = models.CharField(max_length=16, blank=True)
    alert = models.CharField(max_length=8, blank=True)
    clients = models.PositiveIntegerField()
    spend_12m = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("daily snapshot")
        verbose_name_plural = _("daily snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "owner", "status", "volume_tier", "frequency_class", "alert"], name="snapshot_one_row_per_cell",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.owner_id} {self.status}: {self.clients}"


class SegmentSnapshot(models.Model):
    """A saved segment's clients and 12-month spend per salesperson on a day (nightly), so that
    the dashboard shows each segment's share of turnover without evaluating its filter."""

    date = models.DateField(_("date"))
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots", db_index=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    clients = models.PositiveIntegerField()
    spend_12m = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "date", "owner"], name="segment_snapshot_one_row_per_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.segment_id} {self.owner_id}: {self.clients}"


class NightlyRun(models.Model):
    """One nightly run (segmentation.tasks): when it ran, for which day, and how it ended."""

    class State(models.TextChoices):
        RUNNING = "running", pgettext_lazy("nightly run", "Running")
        DONE = "done", pgettext_lazy("nightly run", "Done")
        FAILED = "failed", pgettext_lazy("nightly run", "Failed")

    as_of = models.DateField(_("day"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RUNNING)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("nightly run")
        verbose_name_plural = _("nightly runs")

    def __str__(self) -> str:
        return f"{self.as_of} ({self.state})"

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


class NightlyStep(models.Model):
    """One step of a nightly run, written by the step's task (segmentation.nightly.step_recorded)."""

    class Name(models.TextChoices):  # in the order they run
        LIFECYCLE = "lifecycle", _("Lifecycle recompute")
        FOLLOWUPS_COLOURS = "followups_colours", _("Automatic follow-ups and colours")
        SNAPSHOTS = "snapshots", _("Dashboard snapshots")
        RECOMMENDATIONS = "recommendations", _("Recommendations")
        SUMMARIES = "summaries", _("Morning summaries")

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("nightly run", "Waiting")
        RUNNING = "running", pgettext_lazy("nightly run", "Running")
        RETRYING = "retrying", pgettext_lazy("nightly run", "Retrying")
        DONE = "done", pgettext_lazy("nightly run", "Done")
        FAILED = "failed", pgettext_lazy("nightly run", "Failed")
        SKIPPED = "skipped", pgettext_lazy("nightly run", "Not run")

    run = models.ForeignKey(NightlyRun, on_delete=models.CASCADE, related_name="steps", verbose_name=_("run"))
    name = models.CharField(_("step"), max_length=32, choices=Name.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    duration = models.DurationField(_("duration"), null=True, blank=True)
    rows_changed = models.PositiveIntegerField(_("rows changed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["run", "id"]
        verbose_name = _("nightly step")
        verbose_name_plural = _("nightly steps")
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="nightly_step_once_per_run")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.name} ({self.state})"

    @property
    def seconds(self) -> float | None:
        return self.duration.total_seconds() if self.duration is not None else None


class RunLock(models.Model):
    """The lock of the nightly run when there is no Redis: a row per lock name, taken by the one
    UPDATE that finds it expired (segmentation.nightly)."""

    name = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class LifecycleState(models.Model):
    """Where the stored figures stand (one row, pk=1): the day the last lifecycle run evaluated,
    a key of the thresholds it used and its global cut points, and the same for the colours.

    The next night starts from here: it recomputes only what can have moved since `as_of`
    (segmentation/engine.py, "The incremental night"); new thresholds, a first run or a day
    before `as_of` make it a full run. Written only by the engine's runs."""

    as_of = models.DateField(null=True, blank=True)
    thresholds_key = models.CharField(max_length=64, blank=True)
    cuts = models.JSONField(default=dict, blank=True)
    full_as_of = models.DateField(null=True, blank=True)
    colours_as_of = models.DateField(null=True, blank=True)
    colours_key = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"lifecycle as of {self.as_of}, colours as of {self.colours_as_of}"


# The ideal client profile's criteria and figures (segmentation/ideal.py), in a module of their own.
from segmentation.ideal_models import Attribute, Criterion, FitSummary, IdealProfile, Kind  # noqa: E402, F401
