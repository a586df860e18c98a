"""Forms of the contract pages and the renewal portfolio."""

import datetime as dt

from django import forms
from django.core.validators import MinValueValidator
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from accounts.selectors import salespeople_visible_to
from clients.forms import DATE_INPUT, BootstrapFormMixin
from clients.models import Client, Contract
from clients.renewals import WINDOWS


class ContractForm(BootstrapFormMixin, forms.ModelForm):
    """A new contract, a change to one, or the renewal's new term (prefilled from the old one)."""

    class Meta:
        model = Contract
        fields = ("title", "start_date", "end_date", "value", "notes")
        widgets = {"start_date": DATE_INPUT, "end_date": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].validators.append(MinValueValidator(0))
        self.fields["value"].widget.attrs["min"] = "0"

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end cannot be before the start."))
        return data


class ContractEndForm(BootstrapFormMixin, forms.Form):
    ended_on = forms.DateField(label=_("ended on"), widget=DATE_INPUT, initial=timezone.localdate)
    reason = forms.ChoiceField(label=_("reason for ending"), choices=[("", "---------"), *Client.CloseReason.choices])
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract

    def clean_ended_on(self) -> dt.date:
        ended_on = self.cleaned_data["ended_on"]
        if ended_on < self.contract.start_date:
            raise forms.ValidationError(
                _("A contract cannot end before it starts (%(start)s)."),
                params={"start": formats.date_format(self.contract.start_date, "SHORT_DATE_FORMAT")},
            )
        return ended_on


class RenewalFilterForm(BootstrapFormMixin, forms.Form):
    """The renewal page's window and, for a gerente or an administrador, whose contracts."""

    days = forms.TypedChoiceField(label=_("Ending within"), coerce=int, required=False)
    owner = forms.ModelChoiceField(label=_("salesperson"), queryset=User.objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.none(), required=False)

    def __init__(self, *args, user: User, default_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_days = default_days
        self.fields["days"].choices = [(days, gettext("%(days)s days") % {"days": days}) for days in WINDOWS]
        self.fields["days"].initial = default_days
        if user.can_manage_portfolios:
            self.fields["owner"].queryset = salespeople_visible_to(user).order_by("first_name", "last_name", "username")
        else:
            del self.fields["owner"]
        if user.is_administrador:
            self.fields["team"].queryset = Team.objects.all()
        else:
            del self.fields["team"]

    def choices(self) -> dict:
        """The valid choices (the default window when none or a bad one was picked)."""
        data = self.cleaned_data if self.is_valid() else {}
        team = data.get("team")
        return {"days": data.get("days") or self.default_days, "owner": data.get("owner"), "team_id": team.pk if team else None}
