from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from campaigns.consent import consents_of
from campaigns.messages import MERGE_FIELDS
from campaigns.models import Campaign, ConsentSource, Purpose
from campaigns.services import campaign_validate, promoters_segment, referral_talking_points
from clients.models import Client
from segmentation.models import Segment


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "goal", "channel", "segment", "subject", "body", "followup_due", "results_days"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 8}),
            "followup_due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "segment": _("The campaign reaches the clients of this segment that you can see, as they are when it is launched."),
            "followup_due": _(
                "Phone and visit campaigns start on this day (or the next working day): each salesperson's calls "
                "are spread over their working days and hours, a few a day."
            ),
        }
        labels = {"followup_due": _("Calls or visits from")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["segment"].queryset = Segment.objects.visible_to(user).order_by("name")
        # Asking for referrals may leave it empty: the user's NPS promoters (services.promoters_segment).
        self.fields["segment"].required = False
        self.fields["segment"].empty_label = _("— (asking for referrals: my NPS promoters, 9–10)")
        if not self.fields["segment"].queryset.exists():
            self.fields["segment"].help_text = _(
                "You have no segment yet. On Clients, filter the list and open “Save this filter as a segment”; "
                "then it is offered here."
            )
        self._body_texts()
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def _body_texts(self) -> None:
        """The message of an e-mail; for calls and visits, the talking points every follow-up
        carries. The page shows the one of the chosen channel (static/js/cartera.js switches them
        when the channel changes, from the data attributes)."""
        channel = self.data.get(self.add_prefix("channel")) if self.is_bound else self.instance.channel
        email = {
            "label": str(_("Message")),
            "help": str(_("Merge fields: %(fields)s.") % {
                "fields": ", ".join(f"{{{{ {name} }}}} ({label})" for name, label in MERGE_FIELDS.items())}),
        }
        talk = {
            "label": str(_("Talking points")),
            "help": str(_("What the salesperson should say or bring: it is copied into each call or visit on their agenda.")),
        }
        shown = email if channel in (None, "", Campaign.Channel.EMAIL) else talk
        body = self.fields["body"]
        body.label, body.help_text = shown["label"], shown["help"]
        body.widget.attrs.update({
            "data-email-label": email["label"], "data-email-help": email["help"],
            "data-talk-label": talk["label"], "data-talk-help": talk["help"],
        })
        self.fields["channel"].widget.attrs["data-channel"] = ""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("goal") == Campaign.Goal.SURVEY and cleaned.get("channel") != Campaign.Channel.EMAIL:
            self.add_error("channel", _("An NPS survey is sent by e-mail: each client gets a personal link."))
        if not cleaned.get("segment") and cleaned.get("goal") != Campaign.Goal.REFERRALS and "segment" not in self.errors:
            self.add_error("segment", _("Choose the segment the campaign reaches."))
        if not self.errors:
            campaign = self.instance
            for name in self.Meta.fields:
                setattr(campaign, name, cleaned.get(name))
            campaign.subject, campaign.body = campaign.subject or "", campaign.body or ""
            try:
                campaign_validate(campaign)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return cleaned


    def save(self, commit: bool = True) -> Campaign:
        """A campaign asking for referrals reaches the user's NPS promoters unless a segment is
        chosen, with talking points unless some are written."""
        campaign = self.instance
        if campaign.goal == Campaign.Goal.REFERRALS:
            if campaign.segment_id is None:
                campaign.segment = promoters_segment(user=self.user)
            if not campaign.body.strip():
                campaign.body = referral_talking_points()
        return super().save(commit=commit)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    granted = forms.TypedChoiceField(
        label=_("Answer"), choices=[("yes", _("Agrees")), ("no", _("Does not agree"))], coerce=lambda value: value == "yes",
    )
    source = forms.ChoiceField(
        label=_("How"), choices=[(value, label) for value, label in ConsentSource.choices if value != ConsentSource.UNSUBSCRIBE],
    )
    evidence = forms.CharField(
        label=_("Evidence"), max_length=255, required=False,
        help_text=_("Where the proof is: signed form no., e-mail of the date, call recording…"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend or colleague?"),
        choices=[(str(n), str(n)) for n in range(11)], coerce=int, widget=forms.RadioSelect,
        error_messages={"required": _("Choose a number from 0 to 10.")},
    )
    comment = forms.CharField(label=_("Why? (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    leave_reason = forms.ChoiceField(
        label=_("If you stopped buying from us, why?"), required=False,
        choices=[("", "—")] + list(Client.CloseReason.choices),
    )

    def __init__(self, *args, ask_leave_reason: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_leave_reason:
            del self.fields["leave_reason"]


def consent_context(client: Client) -> dict:
    """The client page's consent block: the current answer per purpose and the form."""
    current = consents_of(client)
    return {
        "consents": [(value, label, current.get(value)) for value, label in Purpose.choices],
        "consent_form": ConsentForm(),
    }
