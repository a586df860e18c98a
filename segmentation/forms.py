from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from clients.currency import currency_choices, is_business
from clients.forms import DATE_INPUT, BootstrapFormMixin
from segmentation.models import LifecycleSettings


class LifecycleSettingsForm(forms.ModelForm):
    class Meta:
        model = LifecycleSettings
        fields = [
            "alta_window_days", "dormido_after_days", "baja_after_days", "tier_very_high", "tier_high", "tier_medium",
            "frequent_max_days", "habitual_max_days", "valuable_dormant_days",
            "renewal_notice_days", "due_soon_days", "awaiting_limit_days", "contact_cadence_days",
            "valuable_dormant_enabled", "auto_reactivation_enabled", "reactivation_due_days", "auto_renewal_enabled",
            "renewal_call_days", "auto_welcome_enabled", "welcome_after_days", "morning_summary_enabled", "nightly_hour",
            "renewal_window_days", "comercial_adds_products", "campaign_calls_per_day", "workday_start", "workday_end",
            "leave_alert_share", "leave_alert_minimum",
        ]
        widgets = {
            "workday_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "workday_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            field.widget.attrs.setdefault("class", css)


class ExchangeRateForm(BootstrapFormMixin, forms.Form):
    """A rate an administrador adds: what one unit of `currency` is worth in the business currency
    from `valid_from` on."""

    currency = forms.ChoiceField(label=_("currency"))
    valid_from = forms.DateField(label=_("valid from"), widget=DATE_INPUT)
    rate = forms.DecimalField(
        label=_("rate"), min_value=Decimal("0.00000001"), max_digits=18, decimal_places=8,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code, _label in currency_choices() if not is_business(code)]
        self.fields["rate"].help_text = _("%(business)s for 1 unit of the currency.") % {"business": settings.CURRENCY}
