from django import forms

from exports.models import ExportJob


class ExportStartForm(forms.Form):
    """The hidden fields of the "prepare in the background" button: what the GET export was asked."""

    kind = forms.ChoiceField(choices=ExportJob.Kind.choices)
    format = forms.ChoiceField(choices=ExportJob.Format.choices)
    query = forms.CharField(required=False, max_length=4000)
    segment = forms.IntegerField(required=False, min_value=1)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == ExportJob.Kind.SEGMENT and not cleaned.get("segment"):
            raise forms.ValidationError("segment missing")  # only a tampered form gets here
        return cleaned

    def params(self) -> dict:
        if self.cleaned_data["kind"] == ExportJob.Kind.SEGMENT:
            return {"segment": self.cleaned_data["segment"]}
        return {"query": self.cleaned_data["query"]}
