import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from clients.forms import BootstrapFormMixin
from webhooks.models import Endpoint, Event


class EndpointForm(BootstrapFormMixin, forms.ModelForm):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("Cartera sends each event there as a signed JSON POST."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Choose at least one event.")},
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "events"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        host = (urlsplit(url).hostname or "").lower()
        if not settings.WEBHOOKS_ALLOW_PRIVATE and _is_internal(host):
            raise forms.ValidationError(_("Give a public address: Cartera does not call its own network."))
        return url


def _is_internal(host: str) -> bool:
    """A name or literal address that is clearly not public (a name is checked again when sending)."""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not ip.is_global
