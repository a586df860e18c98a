"""The one-step "log a call" form of the client list and the client page (clients/quick_views.py)."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.forms import DATE_INPUT, TIME_INPUT, WAITING_OUTCOMES, BootstrapFormMixin
from clients.models import Client, FollowUp, Interaction

SUMMARY_MAX = 500
CALL_BACK_TIME = dt.time(9, 0)


def followup_due_by_today(client: Client) -> FollowUp | None:
    """The pending follow-up this call may complete: the oldest one due today or before."""
    tomorrow = timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=1), dt.time.min))
    due = client.followups.filter(status=FollowUp.State.PENDING, due_at__lt=tomorrow).select_related("assigned_to")
    return due.order_by("due_at", "id").first()


class QuickCallForm(BootstrapFormMixin, forms.ModelForm):
    """A call made now: its outcome, a few words, and optionally the date to call back.

    `offered` is the follow-up this call may complete (followup_due_by_today, when the form is
    shown); the form posts its id back, so that a second submission names the same follow-up and
    the service refuses it once completed (exactly once), instead of recording a second call.
    """

    summary = forms.CharField(label=_("summary"), max_length=SUMMARY_MAX, required=False)
    call_back_on = forms.DateField(label=_("call back on"), widget=DATE_INPUT, required=False)
    call_back_at = forms.TimeField(label=_("at"), widget=TIME_INPUT, required=False)
    complete_followup = forms.BooleanField(label=_("complete it with this call"), required=False)
    followup = forms.ModelChoiceField(queryset=FollowUp.objects.none(), widget=forms.HiddenInput, required=False)

    class Meta:
        model = Interaction
        fields = ["outcome", "summary"]

    def __init__(self, *args, client: Client, offered: FollowUp | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offered = offered
        self.fields["outcome"].required = True
        self.fields["followup"].queryset = client.followups.all()
        if offered is not None:
            self.initial.update(followup=offered.pk, complete_followup=True)
        self.instance.kind = Interaction.Kind.CALL
        self.instance.direction = Interaction.Direction.OUTBOUND
        self.instance.happened_at = timezone.now()

    def clean_call_back_on(self) -> dt.date | None:
        day = self.cleaned_data["call_back_on"]
        if day and day < timezone.localdate():
            raise forms.ValidationError(_("The call-back cannot be in the past."))
        return day

    def clean(self) -> dict:
        data = super().clean()
        if data.get("outcome") in WAITING_OUTCOMES:
            self.instance.awaiting_reply = True
        if not data.get("summary") and data.get("outcome"):
            data["summary"] = self.instance.summary = str(Interaction.Outcome(data["outcome"]).label)
        if data.get("call_back_at") and not data.get("call_back_on"):
            self.add_error("call_back_on", _("Choose the day to call back."))
        when = self.call_back_due_at
        if when is not None and when <= timezone.now():
            self.add_error("call_back_at", _("Choose a time later than now."))
        return data

    @property
    def call_back_due_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("call_back_on")
        if day is None:
            return None
        time = self.cleaned_data.get("call_back_at")
        if time is None:
            time = CALL_BACK_TIME
            now = timezone.localtime()
            if day == now.date() and now.time() >= CALL_BACK_TIME:
                # Today without a time: in an hour (on the hour), not at 09:00 already past.
                return (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        return timezone.make_aware(dt.datetime.combine(day, time))

    @property
    def closes(self) -> FollowUp | None:
        """The follow-up to complete with this call: the one posted back, if the box was ticked."""
        return self.cleaned_data.get("followup") if self.cleaned_data.get("complete_followup") else None
