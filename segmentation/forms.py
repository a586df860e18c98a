from django import forms

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
