"""The forms that move a follow-up: reschedule, hand over, cancel, edit its note."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.forms import DATE_INPUT, TIME_INPUT, BootstrapFormMixin
from clients.models import FollowUp

REASON_LENGTH = FollowUp._meta.get_field("cancel_reason").max_length


class RescheduleForm(BootstrapFormMixin, forms.Form):
    due_date = forms.DateField(label=_("new date"), widget=DATE_INPUT)
    due_time = forms.TimeField(label=_("new time"), widget=TIME_INPUT)
    reason = forms.CharField(label=_("reason (optional)"), max_length=REASON_LENGTH, required=False)

    def __init__(self, *args, followup: FollowUp, **kwargs) -> None:
        due = timezone.localtime(followup.due_at)
        kwargs.setdefault("initial", {"due_date": due.date(), "due_time": due.time().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("due_date") and data.get("due_time"):
            self.due_at = timezone.make_aware(dt.datetime.combine(data["due_date"], data["due_time"]))
            # A minute's grace: "now", typed as the current minute, is not the past.
            if self.due_at < timezone.now() - dt.timedelta(minutes=1):
                raise forms.ValidationError(_("A follow-up cannot be scheduled in the past."))
        return data


class HandOverForm(BootstrapFormMixin, forms.Form):
    to = forms.ModelChoiceField(label=_("hand over to"), queryset=None, empty_label=None)

    def __init__(self, *args, candidates, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to"]
        field.queryset = candidates
        field.widget.choices = list(iter(field.choices))  # once; iter(): no COUNT first


class CancelForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("reason for cancelling"), max_length=REASON_LENGTH, strip=True)


class NoteForm(BootstrapFormMixin, forms.Form):
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
