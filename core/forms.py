"""Form fields shared by the apps."""

from django import forms
from django.core.exceptions import ValidationError


class PkRangeMixin:
    """For a ModelMultipleChoiceField: a key the column cannot hold (e.g. 9223372036854775808 for a
    64-bit id) is an invalid choice, as Django already treats it for one choice, instead of the
    database driver's OverflowError (a 500) on the field's `id IN (…)` query."""

    def _check_values(self, value):
        model_field = (
            self.queryset.model._meta.get_field(self.to_field_name) if self.to_field_name else self.queryset.model._meta.pk
        )
        for key in value if isinstance(value, (list, tuple)) else ():
            try:
                model_field.run_validators(model_field.to_python(key))
            except (ValidationError, TypeError, ValueError):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": key},
                ) from None
        return super()._check_values(value)


class ModelMultipleChoiceField(PkRangeMixin, forms.ModelMultipleChoiceField):
    pass
