import hashlib

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Team, User
from accounts.selectors import colleagues
from accounts.services import site_parts

# A reset e-mail at most this often per address: the public form cannot be used to flood an inbox.
RESET_EMAILS_PER_HOUR = 3


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        if isinstance(field.widget, forms.CheckboxInput):
            css = "form-check-input"
        field.widget.attrs.setdefault("class", css)


class LoginForm(auth_forms.AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"class": "form-control", "autofocus": True})
        self.fields["password"].widget.attrs.update({"class": "form-control"})


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class SetPasswordForm(auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, answering the same whatever the address; the e-mail goes in the
    user's language with links to settings.SITE_URL (never to the Host the request named)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def get_users(self, email):
        # Django's rule, except that it also answers a new user who never set the password their
        # invitation asked for (an unusable password): that user is locked out otherwise.
        email_field = User.get_email_field_name()
        active = User._default_manager.filter(**{f"{email_field}__iexact": email, "is_active": True})
        return (user for user in active if auth_forms._unicode_ci_compare(email, getattr(user, email_field)))

    def save(self, **kwargs) -> None:
        email = self.cleaned_data["email"].strip().lower()
        key = "password-reset:" + hashlib.sha256(email.encode()).hexdigest()
        cache.add(key, 0, timeout=3600)
        try:
            sent = cache.incr(key)
        except ValueError:  # the key is gone (an unreachable cache forgets): count this one
            sent = 1
        if sent > RESET_EMAILS_PER_HOUR:
            return  # silently: the page answers as for any address
        protocol, domain = site_parts()
        kwargs.update(domain_override=domain, use_https=protocol == "https", request=None)
        super().save(**kwargs)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None) -> None:
        context["protocol"] = site_parts()[0]
        with translation.override(context["user"].language):
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email,
                              html_email_template_name)


class UniqueEmailMixin:
    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email and User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Another user already has this e-mail address."))
        return email


class AccountForm(UniqueEmailMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class PersonForm(UniqueEmailMixin, forms.ModelForm):
    """An administrador's form for a person: who they are, their role and team."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "team", "language"]

    def __init__(self, *args, editor: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.editor = editor
        self.fields["email"].required = True
        self.fields["email"].help_text = _("New people get an e-mail here to choose their password.")
        self.fields["team"].queryset = Team.objects.select_related("manager")
        if self.instance.pk:
            del self.fields["username"]
            self.fields["email"].help_text = ""
            self.initial["role"] = next(
                (code for code in Role.values if code in self.instance.roles), Role.COMERCIAL
            )
        _bootstrap(self)

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if self.instance.pk == self.editor.pk and role != Role.ADMINISTRADOR:
            raise forms.ValidationError(_("You cannot take away your own administrator role."))
        return role


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "manager"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(is_active=True, groups__name=Role.GERENTE).distinct()
        _bootstrap(self)


class DeactivateForm(forms.Form):
    heir = forms.ModelChoiceField(
        label=_("Who receives their clients and pending follow-ups"), queryset=User.objects.none(), required=False,
    )

    def __init__(self, *args, person: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["heir"].queryset = colleagues(exclude={person.pk})
        _bootstrap(self)


class ColleagueForm(forms.Form):
    """One colleague out of `queryset`: to share a client with, or to take the share back from."""

    user = forms.ModelChoiceField(label=_("Colleague"), queryset=User.objects.none())

    def __init__(self, *args, queryset, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = queryset
        _bootstrap(self)



class TwoFactorCodeForm(forms.Form):
    """A code from the authenticator app, or (at login and to turn it off) a recovery code."""

    code = forms.CharField(label=_("Code"), max_length=24, strip=True)

    def __init__(self, *args, recovery: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        attrs = {"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        if recovery:
            self.fields["code"].help_text = _("The 6 digits your app shows, or one of your recovery codes.")
        else:
            attrs["inputmode"] = "numeric"
            self.fields["code"].help_text = _("The 6 digits your app shows now.")
        self.fields["code"].widget.attrs.update(attrs)
        _bootstrap(self)
