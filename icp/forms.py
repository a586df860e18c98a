from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.forms import BootstrapFormMixin
from icp.values import Vocabulary, unknown_value_message
from segmentation.ideal_models import MAX_WEIGHT, Attribute

MAX_CRITERIA = 60


class ProfileForm(BootstrapFormMixin, forms.Form):
    threshold = forms.IntegerField(
        label=gettext_lazy("Fit threshold"), min_value=1, max_value=100,
        help_text=gettext_lazy("A client with at least this fit (0–100) fits the profile; a prospect with no interest shown is then suggested as probable."),
    )


class CriterionForm(BootstrapFormMixin, forms.Form):
    attribute = forms.ChoiceField(label=gettext_lazy("Attribute"), choices=[("", "—"), *Attribute.choices])
    value = forms.CharField(label=gettext_lazy("Value"), max_length=200)
    weight = forms.IntegerField(
        label=gettext_lazy("Weight"), validators=[MinValueValidator(1), MaxValueValidator(MAX_WEIGHT)],
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_WEIGHT}),
        help_text=gettext_lazy("1 to 10: how much this criterion counts."),
    )

    def __init__(self, *args, vocabulary: Vocabulary, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.vocabulary = vocabulary
        self.fields["value"].widget.attrs["data-icp-value"] = "true"
        self.fields["attribute"].widget.attrs["data-icp-attribute"] = "true"
        for field in self.fields.values():  # a row of a table: its column header is the label
            field.widget.attrs["aria-label"] = field.label

    def clean(self):
        data = super().clean()
        attribute, typed = data.get("attribute"), data.get("value")
        if attribute and typed:
            stored = self.vocabulary.parse(attribute, typed)
            if stored is None:
                self.add_error("value", unknown_value_message(attribute, typed))
            else:
                data["stored"] = stored
        return data


class BaseCriterionFormSet(forms.BaseFormSet):
    def __init__(self, *args, vocabulary: Vocabulary, **kwargs) -> None:
        self.vocabulary = vocabulary
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs.update({"class": "form-check-input", "aria-label": _("Remove")})

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "vocabulary": self.vocabulary}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), empty_permitted=True, use_required_attribute=False,
            vocabulary=self.vocabulary, renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            if not self._kept(form):
                continue
            key = (form.cleaned_data["attribute"], form.cleaned_data["stored"])
            if key in seen:
                form.add_error("value", _("This criterion is listed twice: keep one line with the weight you want."))
            seen.add(key)

    def criteria(self) -> list[tuple[str, str, int]]:
        """The valid rows as (attribute, stored value, weight), the deleted and empty ones left out."""
        return [
            (form.cleaned_data["attribute"], form.cleaned_data["stored"], form.cleaned_data["weight"])
            for form in self.forms if self._kept(form)
        ]

    def _kept(self, form) -> bool:
        """A filled row not marked for deletion (an extra row left empty has no cleaned data)."""
        return bool(form.cleaned_data.get("attribute")) and not self._should_delete_form(form)


CriterionFormSet = forms.formset_factory(
    CriterionForm, formset=BaseCriterionFormSet, extra=3, can_delete=True, max_num=MAX_CRITERIA, validate_max=True,
)
