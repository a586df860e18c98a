import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken
from clients.forms import DATE_INPUT, BootstrapFormMixin


class TokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(
        label=_("name"), max_length=80, help_text=_("What will use it: “Shop till”, “ERP nightly sync”…"),
    )
    scope = forms.ChoiceField(label=_("access"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    expires_on = forms.DateField(
        label=_("expires on"), required=False, widget=DATE_INPUT,
        help_text=_("Empty: it works until you revoke it. It stops at the end of this day."),
    )

    def clean_expires_on(self) -> dt.date | None:
        day = self.cleaned_data["expires_on"]
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("The expiry must be in the future."))
        return day

    @property
    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
