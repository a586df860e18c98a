"""Choice labels without rebuilding every choice on each call.

Django's get_FOO_display() builds a dict of all the field's choices, hashing each lazy label, on
every call: an agenda of 150 follow-ups asked it 270 times, a fifth of the page's Python time.
A model that inherits ChoiceDisplay looks each label up in one dict per field, built once (the
labels stay lazy: each call gives the active language's).
"""

import functools

from django.utils.encoding import force_str


@functools.cache
def _labels(field) -> dict:
    return dict(field.flatchoices)


class ChoiceDisplay:
    """get_FOO_display() from a dict per field, built once; the same answer as Django's. Choices
    that are computed (a CountryField's, per language) keep Django's way."""

    def _get_FIELD_display(self, field):
        if not isinstance(field.choices, list | tuple):  # built on each call (a country's name in the active language)
            return super()._get_FIELD_display(field)
        value = getattr(self, field.attname)
        try:
            label = _labels(field).get(value, value)
        except TypeError:  # an unhashable value (a list in a JSON field): no choice has it
            label = value
        return force_str(label, strings_only=True)
