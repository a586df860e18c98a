import datetime as dt
import re

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.identifiers import tax_id_clean
from clients.models import Client, FollowUp, Interaction
from clients.phones import phone_clean
from core.forms import ModelMultipleChoiceField

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class BootstrapFormMixin:
    """Gives every widget Bootstrap's classes so templates only lay fields out."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


def _at(day: dt.date, time: dt.time | None) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, time or dt.time(9, 0)))


def clean_identifiers(form: forms.ModelForm, data: dict) -> None:
    """The tax id and the phone are read by the client's country, so they are checked in clean(),
    once it is known, and stored in their normal form (ClientForm and the admin's form). A value
    already held that does not pass (typed before the checks existed) is kept while it and the
    country are left unchanged: an unrelated edit is not refused for it."""
    country = data.get("country")
    if not country:
        return
    held = form.instance
    for name, clean in (("tax_id", tax_id_clean), ("phone", phone_clean)):
        if not data.get(name):
            continue
        try:
            data[name] = clean(data[name], country)
        except forms.ValidationError as error:
            if not (held.pk and getattr(held, name) == data[name] and held.country == country):
                form.add_error(name, error)


CLIENT_OPTIONS = "client-options"  # the id of the <datalist> the referrer input fills as one types


def referrer_text(client: Client) -> str:
    """How a client is written in the "referred by" input, and offered as one types: the name and
    the number the server reads back."""
    return f"{client.display_name} (#{client.pk})"


class ReferrerField(forms.ModelChoiceField):
    """A client chosen by typing: a text input whose <datalist> offers the matching clients the
    user may see (clients:client_options); what is posted is "Name (#id)" and the id is looked up
    in the field's queryset, so a client outside it is refused whatever the browser sends."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid_choice": _("Choose the client from the list offered as you type their name."),
    }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.pop("limit_choices_to", None)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"list": CLIENT_OPTIONS, "autocomplete": "off", "data-client-options": ""})
        self.help_text = _("Type part of the name of the client who recommended this one.")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        match = re.search(r"#(\d{1,18})\)?\s*$", str(value))
        if not match:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(match.group(1))

    def prepare_value(self, value):
        if isinstance(value, Client):
            return referrer_text(value)
        if isinstance(value, int):
            client = self.queryset.filter(pk=value).first()
            return referrer_text(client) if client else ""
        return value


class ClientForm(BootstrapFormMixin, forms.ModelForm):
    # The form's sections, in order; every field of Meta.fields is in exactly one (a test checks).
    FIELDSETS = (
        (_("Contact"), (
            "first_name", "last_name", "company_name", "tax_id", "client_ref", "email", "phone", "address", "city",
            "region", "postal_code", "country", "preferred_channel", "contact_hours",
        )),
        (_("Segmentation"), ("sector", "economic_level", "marital_status", "birth_date", "interests", "hobbies")),
        (_("How they buy"), ("payment_method", "buys_on_own_initiative", "notes")),
        (_("Origin and exit"), (
            "source", "source_detail", "referred_by", "prospect_qualification", "temperature", "closed_at", "close_reason",
        )),
    )

    class Meta:
        model = Client
        fields = Client.DATA_FIELDS
        widgets = {
            "birth_date": DATE_INPUT,
            "closed_at": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 4}),
            # Ticked at a glance, several at once, with no Ctrl-click.
            "interests": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "buys_on_own_initiative": forms.NullBooleanSelect(),
        }
        field_classes = {"interests": ModelMultipleChoiceField, "referred_by": ReferrerField}

    def fieldsets(self) -> list[tuple[str, list]]:
        """(legend, bound fields) of each section, for the template."""
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The referrer is one of the clients this user may see, never the client itself.
        referrers = Client.objects.visible_to(user) if user is not None else Client.objects.none()
        if self.instance.pk:
            referrers = referrers.exclude(pk=self.instance.pk)
        held = self.instance.referred_by_id
        if held and not referrers.filter(pk=held).exists():
            # Referred by a client this user may not see (another portfolio's): kept as it is,
            # shown without its name; the user may still replace or clear it.
            referrers = referrers | Client.objects.filter(pk=held)
            if not self.is_bound:
                self.initial["referred_by"] = f"{_('a client of another portfolio')} (#{held})"
            held = None
        self.fields["referred_by"].queryset = referrers
        self.fields["referred_by"].widget.attrs["data-options-url"] = reverse("clients:client_options")
        if held and not self.is_bound:  # shown as typed: "Name (#id)"
            self.initial["referred_by"] = referrer_text(self.instance.referred_by)
        if self.is_bound and self.data.get("country"):  # "es" is ES, as a file or a script writes it
            self.data = self.data.copy()
            self.data["country"] = self.data["country"].strip().upper()
        # The version the user started from: saving over a newer one is refused (no lost edits).
        self.fields["version"] = forms.IntegerField(
            widget=forms.HiddenInput, required=False, initial=self.instance.version if self.instance.pk else 0,
        )

    def clean_version(self) -> int:
        return self.cleaned_data.get("version") or 0

    def clean_client_ref(self) -> str:
        return self.cleaned_data["client_ref"].strip()

    def clean_birth_date(self) -> dt.date | None:
        birth_date = self.cleaned_data["birth_date"]
        if birth_date and birth_date > timezone.localdate():
            raise forms.ValidationError(_("The birth date cannot be in the future."))
        return birth_date

    def clean(self) -> dict:
        data = super().clean()
        if not (data.get("first_name") or data.get("last_name") or data.get("company_name")):
            raise forms.ValidationError(_("Give the client a name or a company name."))
        if data.get("closed_at") and not data.get("close_reason"):
            self.add_error("close_reason", _("Say why the client left."))
        if data.get("closed_at") and data["closed_at"] > timezone.localdate():
            self.add_error("closed_at", _("The closing date cannot be in the future."))
        clean_identifiers(self, data)
        return data


class FollowUpForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=FollowUp.Kind.choices)
    due_date = forms.DateField(label=_("date"), widget=DATE_INPUT)
    due_time = forms.TimeField(label=_("time"), widget=TIME_INPUT, required=False)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_due_date(self) -> dt.date:
        day = self.cleaned_data["due_date"]
        if day < timezone.localdate():
            raise forms.ValidationError(_("A follow-up cannot be scheduled in the past."))
        return day

    @property
    def due_at(self) -> dt.datetime:
        return _at(self.cleaned_data["due_date"], self.cleaned_data.get("due_time"))


# Outcomes after which we wait for the client's answer (DOMAIN.md "Colour alerts": verde).
WAITING_OUTCOMES = {Interaction.Outcome.AWAITING_ANSWER, Interaction.Outcome.OFFER_SENT}

FOLLOWUP_TO_INTERACTION_KIND = {
    FollowUp.Kind.CALL: Interaction.Kind.CALL,
    FollowUp.Kind.VISIT: Interaction.Kind.VISIT,
    FollowUp.Kind.EMAIL: Interaction.Kind.EMAIL,
    FollowUp.Kind.MEETING: Interaction.Kind.MEETING,
    FollowUp.Kind.SAMPLES: Interaction.Kind.VISIT,
    FollowUp.Kind.SURVEY: Interaction.Kind.SURVEY,
}


class InteractionForm(BootstrapFormMixin, forms.ModelForm):
    """What was said, and optionally the next step, in one form."""

    next_kind = forms.ChoiceField(label=_("next step"), choices=[("", "—")] + list(FollowUp.Kind.choices), required=False)
    next_date = forms.DateField(label=_("next step date"), widget=DATE_INPUT, required=False)
    next_time = forms.TimeField(label=_("next step time"), widget=TIME_INPUT, required=False)
    next_notes = forms.CharField(label=_("next step notes"), required=False)

    class Meta:
        model = Interaction
        fields = [
            "kind", "direction", "happened_at", "summary", "outcome", "awaiting_reply", "needs", "objections",
            "competitor_notes",
        ]
        widgets = {
            "happened_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "summary": forms.Textarea(attrs={"rows": 3}),
            "needs": forms.Textarea(attrs={"rows": 2}),
            "objections": forms.Textarea(attrs={"rows": 2}),
            "competitor_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "happened_at" in self.fields:
            self.fields["happened_at"].initial = lambda: timezone.localtime().replace(second=0, microsecond=0)
            self.fields["happened_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def clean_happened_at(self) -> dt.datetime:
        when = self.cleaned_data["happened_at"]
        if when > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("An interaction cannot happen in the future; schedule a follow-up instead."))
        return when

    def clean(self) -> dict:
        data = super().clean()
        if data.get("outcome") in WAITING_OUTCOMES:
            # An offer made or a question asked: the ball is in the client's court (green, then yellow).
            data["awaiting_reply"] = True
            self.instance.awaiting_reply = True
        next_date = data.get("next_date")
        if data.get("next_kind") and not next_date:
            self.add_error("next_date", _("Choose the date of the next step."))
        if next_date and next_date < timezone.localdate():
            self.add_error("next_date", _("The next step cannot be in the past."))
        return data

    @property
    def next_due_at(self) -> dt.datetime | None:
        if not self.cleaned_data.get("next_date"):
            return None
        return _at(self.cleaned_data["next_date"], self.cleaned_data.get("next_time"))


class FollowUpCompleteForm(InteractionForm):
    """Completing a follow-up from the agenda: the outcome (an Interaction) and the next step.

    The interaction's kind comes from the follow-up and it happens now; the summary may be left
    empty, the outcome then says it.
    """

    class Meta(InteractionForm.Meta):
        fields = ["outcome", "summary", "awaiting_reply"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, followup: FollowUp, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.followup = followup
        self.fields["outcome"].required = True
        self.fields["summary"].required = False
        self.instance.kind = FOLLOWUP_TO_INTERACTION_KIND.get(followup.kind, Interaction.Kind.NOTE)
        self.instance.happened_at = timezone.now()

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("summary") and data.get("outcome"):
            data["summary"] = self.instance.summary = str(Interaction.Outcome(data["outcome"]).label)
        return data


class ReassignForm(forms.Form):
    clients = ModelMultipleChoiceField(queryset=Client.objects.none(), widget=forms.MultipleHiddenInput)
    new_owner = forms.ModelChoiceField(label=_("new salesperson"), queryset=None)

    def __init__(self, *args, clients, salespeople, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = clients
        self.fields["new_owner"].queryset = salespeople
        self.fields["new_owner"].widget.attrs["class"] = "form-select"

    def clean_clients(self):
        chosen = self.cleaned_data["clients"]
        if len(chosen) > 1000:
            raise forms.ValidationError(_("Reassign at most 1,000 clients at a time."))
        return chosen


