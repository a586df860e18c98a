"""core.choices.ChoiceDisplay gives what Django's get_FOO_display() gives, in every language."""

import pytest
from django.db import models
from django.utils import translation

from clients.models import Client, Contract, FollowUp, Interaction, Purchase


@pytest.mark.parametrize("model", [Client, Contract, FollowUp, Interaction, Purchase])
@pytest.mark.parametrize("language", ["es", "pt-br", "en"])
def test_every_choice_label_is_djangos(model, language):
    fields = [field for field in model._meta.concrete_fields if field.choices]
    assert fields
    with translation.override(language):
        for field in fields:
            for value in [*(value for value, _label in field.flatchoices), "", "not-a-choice"]:
                record = model(**{field.attname: value})
                ours = getattr(record, f"get_{field.name}_display")()
                djangos = models.Model._get_FIELD_display(record, field)
                assert (ours, type(ours)) == (djangos, type(djangos)), (field.name, value)
