"""core.renderers.FormRenderer writes the same markup as Django's widget templates."""

import datetime as dt

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test import RequestFactory
from django.utils import translation
from django_filters.widgets import DateRangeWidget, RangeWidget

from core.renderers import FormRenderer

DJANGO, OURS = DjangoTemplates(), FormRenderer()
CHOICES = [("", "—"), ("a", "A & <b>"), (1, 'One "1"'), ("Group", [("g1", "Inside"), ("g2", "Also <i>")])]

WIDGETS = [
    (forms.TextInput(), "x"),
    (forms.TextInput(attrs={"placeholder": 'Name, "phone" & <more>', "type": "search", "class": "form-control"}), "<q>"),
    (forms.TextInput(), None),
    (forms.TextInput(), ""),
    (forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}), 12),
    (forms.DateInput(attrs={"type": "date"}), dt.date(2026, 12, 3)),
    (forms.EmailInput(attrs={"required": True, "disabled": False}), "a@b.es"),
    (forms.HiddenInput(), "next/?a=1&b=2"),
    (forms.PasswordInput(render_value=True), "secret"),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (forms.Select(choices=CHOICES, attrs={"class": "form-select"}), "a"),
    (forms.Select(choices=CHOICES), 1),
    (forms.Select(choices=CHOICES), "g2"),
    (forms.Select(choices=CHOICES), None),
    (forms.Select(choices=[]), None),
    (forms.SelectMultiple(choices=CHOICES, attrs={"size": 4}), ["a", "g1"]),
    (forms.NullBooleanSelect(), True),
    (RangeWidget(attrs={"type": "number", "min": "0"}), [1, None]),
    (DateRangeWidget(attrs={"type": "date"}), ["2026-01-01", ""]),
    (forms.SplitDateTimeWidget(), dt.datetime(2026, 12, 3, 8, 30)),
    (forms.MultiWidget([forms.TextInput(), forms.NumberInput(attrs={"min": 1})]), ["a & b", 3]),
    (forms.MultiWidget([forms.TextInput(), forms.Select(choices=CHOICES)]), ["x", "a"]),
    # Labels that are not text: the template writes them in the reader's language.
    (forms.Select(choices=[(1, 1.5), (2, dt.date(2026, 12, 3)), (dt.date(2026, 1, 2), [(3, 2500)])]), 2),
]


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize(("widget", "value"), WIDGETS, ids=[type(w).__name__ + str(i) for i, (w, _v) in enumerate(WIDGETS)])
def test_each_widget_is_written_as_djangos_templates_write_it(widget, value, language):
    attrs = {"id": "id_field"}
    with translation.override(language):
        assert widget.render("field", value, attrs, renderer=OURS) == widget.render("field", value, attrs, renderer=DJANGO)


def test_a_widget_with_its_own_option_template_is_left_to_the_templates():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    widget = Custom(choices=[("a", "A")])
    assert widget.render("f", "a", renderer=OURS) == widget.render("f", "a", renderer=DJANGO)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["es", "pt-br", "en"])
@pytest.mark.parametrize(
    "query", ["", "status=active&owner=1&city=Madrid&last_purchase_after=2026-01-01&icp_fit_min=10&country=ES&nps=promoter"],
)
def test_the_client_filter_form_is_the_same_in_every_language(language, query, admin_user):
    from clients.filters import ClientFilter, CountrySelect
    from clients.models import Client

    request = RequestFactory().get(f"/clients/?{query}")
    request.user = admin_user
    with translation.override(language):
        form = ClientFilter(request.GET, queryset=Client.objects.all(), request=request, user=admin_user).form
        assert isinstance(form.renderer, FormRenderer)
        ours = {field.name: str(field) for field in form}
        CountrySelect.rendered.clear()  # its own cache of the country list: rendered again by Django's
        form.renderer = DJANGO
        assert ours == {field.name: str(field) for field in form}
