"""Campaigns to a segment, the clients' consent to be written to, and the NPS answers.

Consent is kept per client and purpose: `Consent` holds the current state (what the sending
reads), `ConsentChange` every change with its date, source and evidence (what an inspector asks
for). A campaign's recipients are fixed when it is launched, one row each, so that the sending
can resume after a crash without writing to anyone twice.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Interaction, Status


class Purpose(models.TextChoices):
    NEWSLETTER = "newsletter", _("Newsletter")
    PROMOTIONS = "promotions", _("Promotions and offers")
    SURVEYS = "surveys", _("Surveys")


class ConsentSource(models.TextChoices):
    FORM = "form", _("Signed form")
    WEB = "web", _("Web form")
    EMAIL = "email", _("By e-mail")
    PHONE = "phone", _("By phone")
    IN_PERSON = "in_person", _("In person")
    IMPORT = "import", _("Imported")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")


class ConsentAnswer(models.Model):
    """What a client said about one purpose, when, how and with what proof."""

    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    granted = models.BooleanField(_("granted"))
    changed_at = models.DateTimeField(_("date"), default=timezone.now)
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)
    evidence = models.CharField(_("evidence"), max_length=255, blank=True)

    class Meta:
        abstract = True


class ConsentQuerySet(models.QuerySet):
    def before_client_merge(self, *, survivor_id: int, absorbed_id: int) -> None:
        """One consent per purpose stays when two clients merge (segmentation/merge.py): a "no"
        of either beats a "yes" of the other (a withdrawal is never lost); alike, the survivor's.
        The changes behind both move with them as they are."""
        both = self.filter(client_id__in=[survivor_id, absorbed_id])
        survivor_says = dict(both.filter(client_id=survivor_id).values_list("purpose", "granted"))
        absorbed_no = both.filter(client_id=absorbed_id, granted=False).values_list("purpose", flat=True)
        overruled = [purpose for purpose in absorbed_no if survivor_says.get(purpose) is True]
        self.filter(client_id=survivor_id, purpose__in=overruled).delete()
        self.filter(client_id=absorbed_id, purpose__in=set(survivor_says) - set(overruled)).delete()


class Consent(ConsentAnswer):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents", verbose_name=_("client"))

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [models.UniqueConstraint(fields=["client", "purpose"], name="consent_one_per_purpose")]
        # The sending asks "which clients consented to this purpose": (purpose, granted) → clients.
        indexes = [models.Index(fields=["purpose", "granted", "client"], name="consent_purpose_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.purpose} {'yes' if self.granted else 'no'}"


class ConsentChange(ConsentAnswer):
    """Every grant and withdrawal, never edited: the record of who said yes or no, when and how."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consent_changes")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    campaign = models.ForeignKey("Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="consent_changes")

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        indexes = [models.Index(fields=["client", "-changed_at"], name="consent_change_client_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.purpose} {'yes' if self.granted else 'no'} {self.changed_at:%Y-%m-%d}"


class Campaign(models.Model):
    class Goal(models.TextChoices):
        NEWSLETTER = "newsletter", _("Newsletter")
        PROMOTION = "promotion", _("Promotion")
        REACTIVATION = "reactivation", _("Reactivation")
        RENEWAL = "renewal", _("Renewal")
        SURVEY = "survey", _("NPS survey")
        # Calls to the clients who would recommend us (by default the NPS promoters): who else could we help?
        REFERRALS = "referrals", _("Ask for referrals")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone calls")
        VISIT = "visit", _("Visits")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Launched")

    name = models.CharField(_("name"), max_length=150)
    goal = models.CharField(_("goal"), max_length=16, choices=Goal.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    segment = models.ForeignKey(
        "segmentation.Segment", on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("segment")
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"), blank=True)
    followup_due = models.DateField(_("call or visit by"), null=True, blank=True)
    results_days = models.PositiveSmallIntegerField(_("days to count purchases after sending"), default=30)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    # The recipients fixed at launch, written with them: the list of campaigns shows it without
    # counting every recipient of every campaign (hundreds of thousands at a million clients).
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:campaign_detail", args=[self.pk])

    @property
    def purpose(self) -> str:
        """The consent an e-mail of this goal needs."""
        return {
            self.Goal.NEWSLETTER: Purpose.NEWSLETTER,
            self.Goal.SURVEY: Purpose.SURVEYS,
        }.get(self.goal, Purpose.PROMOTIONS)

    @property
    def is_email(self) -> bool:
        return self.channel == self.Channel.EMAIL


class RecipientQuerySet(models.QuerySet):
    def before_client_merge(self, *, survivor_id: int, absorbed_id: int) -> None:
        """One recipient per campaign stays when two clients merge (segmentation/merge.py): the
        absorbed client's only when it holds a survey answer and the survivor's does not, so that
        the answer moves too; the other row goes. At most one pair per campaign both received."""
        rows: dict[int, dict[int, tuple[int, bool]]] = {}
        both = self.filter(client_id__in=[survivor_id, absorbed_id])
        for pk, campaign_id, client_id, answer in both.values_list("pk", "campaign_id", "client_id", "answer__id"):
            rows.setdefault(campaign_id, {})[client_id] = (pk, answer is not None)
        dropped = []
        for pair in rows.values():
            if len(pair) == 2:
                (survivor_row, survivor_answered), (absorbed_row, absorbed_answered) = pair[survivor_id], pair[absorbed_id]
                dropped.append(survivor_row if absorbed_answered and not survivor_answered else absorbed_row)
        self.filter(pk__in=dropped).delete()


class Recipient(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SCHEDULED = "scheduled", _("Follow-up scheduled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="campaign_receipts")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    status_at_launch = models.CharField(max_length=16, choices=Status.choices)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when a sender took it (SENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "client"], name="recipient_once_per_campaign")]
        indexes = [models.Index(fields=["campaign", "state", "id"], name="recipient_campaign_state_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.client_id} ({self.state})"


class SurveyAnswer(models.Model):
    """One NPS answer per recipient: 0–10, a comment and, for a client who left, why."""

    recipient = models.OneToOneField(Recipient, on_delete=models.CASCADE, related_name="answer")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="survey_answers")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    leave_reason = models.CharField(_("why they left"), max_length=16, choices=Client.CloseReason.choices, blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    interaction = models.OneToOneField(Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [models.CheckConstraint(condition=models.Q(score__lte=10), name="survey_score_0_10")]
        indexes = [models.Index(fields=["answered_at"], name="survey_answered_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.score}/10"

    @property
    def category(self) -> str:
        return "promoter" if self.score >= 9 else "passive" if self.score >= 7 else "detractor"


class NpsSnapshot(models.Model):
    """The survey answers of the 12 months ending on `date`, counted per salesperson and survey
    campaign (segment empty) or per salesperson and saved segment (campaign empty): taken nightly
    with the other snapshots, read by the dashboard (campaigns/nps.py) instead of every answer."""

    date = models.DateField()
    taken_at = models.DateTimeField()  # a segment saved after it is counted live on the dashboard
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, null=True, related_name="+")
    segment = models.ForeignKey("segmentation.Segment", on_delete=models.CASCADE, null=True, related_name="+")
    answers = models.PositiveIntegerField()
    promoters = models.PositiveIntegerField()
    passives = models.PositiveIntegerField()
    detractors = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["date", "owner"], name="nps_snapshot_day_owner_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.owner_id} {self.campaign_id or ''}{self.segment_id or ''}"
