from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import salespeople_visible_to
from imports.models import ImportJob
from imports.services import Kind, field_label, fields_for
from imports.spreadsheets import MAX_BYTES, FileRefused, file_sniff, read_table


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What does the file hold?"), choices=Kind.choices, widget=forms.RadioSelect, initial=Kind.CLIENTS)
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted per request: formatted here at import, it would stay in the language of the start.
        self.fields["file"].help_text = _("CSV or Excel (.xlsx), with a header row; up to %(size)d MB.") % {
            "size": MAX_BYTES // 2**20
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // 2**20})
        data = upload.read()
        try:
            if len(data) > settings.IMPORT_BACKGROUND_BYTES:
                file_sniff(data)  # read in the background (jobs.job_preview), so the request returns at once
                self.table = None
            else:
                self.table = read_table(data, filename=upload.name)
        except FileRefused as error:
            raise forms.ValidationError(str(error)) from error
        self.data_bytes = data
        return upload


class PreviewForm(forms.Form):
    """Which column is which field, who owns the new clients, and what to do with bad rows."""

    owner = forms.ModelChoiceField(label=_("Owner of the new clients"), queryset=User.objects.none(), required=True)
    create_missing_clients = forms.BooleanField(
        label=_("Create the clients the file names and Cartera does not have"), required=False
    )
    create_missing_products = forms.BooleanField(
        label=_("Create the missing products"), required=False,
        help_text=_("Added to the catalogue without a list price; names that differ only in accents or capitals are one product."),
    )
    only_valid = forms.BooleanField(
        label=_("Import only the valid rows"), required=False,
        help_text=_("By default nothing is imported while any row has an error."),
    )

    def __init__(self, *args, job: ImportJob, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        self.headers = headers
        choices = [("", _("— do not import —"))] + [(name, field_label(name)) for name in fields_for(job.kind)]
        by_index = {int(index): name for name, index in job.mapping.items()}
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("Column %(number)d") % {"number": index + 1}, choices=choices, required=False,
                initial=by_index.get(index, ""),
            )
        user = job.created_by
        # The importer's own portfolio, or one of those they may hand clients to.
        self.fields["owner"].queryset = User.objects.filter(
            Q(pk__in=salespeople_visible_to(user).values("pk")) | Q(pk=user.pk)
        ).order_by("first_name", "last_name", "username")
        self.fields["owner"].initial = job.owner_id
        self.fields["create_missing_clients"].initial = job.create_missing_clients
        self.fields["create_missing_products"].initial = job.create_missing_products
        self.fields["only_valid"].initial = job.only_valid
        if job.kind != Kind.PURCHASES:
            del self.fields["create_missing_clients"]
            del self.fields["create_missing_products"]
        self.fields["owner"].widget.attrs["class"] = "form-select"
        for name in ("create_missing_clients", "create_missing_products", "only_valid"):
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = "form-check-input"

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]

    def clean(self):
        cleaned = super().clean()
        mapping: dict[str, int] = {}
        for index in range(len(self.headers)):
            name = cleaned.get(f"column_{index}")
            if not name:
                continue
            if name in mapping:
                self.add_error(
                    f"column_{index}",
                    _("“%(field)s” is already the column “%(other)s”.") % {"field": field_label(name), "other": self.headers[mapping[name]]},
                )
            mapping[name] = index
        cleaned["mapping"] = mapping
        return cleaned

    def save(self) -> ImportJob:
        job = self.job
        job.mapping = self.cleaned_data["mapping"]
        job.owner = self.cleaned_data["owner"]
        job.create_missing_clients = self.cleaned_data.get("create_missing_clients", False)
        job.create_missing_products = self.cleaned_data.get("create_missing_products", False)
        job.only_valid = self.cleaned_data["only_valid"]
        return job
