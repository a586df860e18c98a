from typing import ClassVar

import django_filters
import django_filters.fields
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries import countries

from accounts.models import Team
from accounts.selectors import salespeople_visible_to
from clients.models import (
    MAX_SEARCH_WORDS,
    Alert,
    Category,
    Client,
    FrequencyClass,
    RfmSegment,
    Status,
    VolumeTier,
    search_words,
)
from clients.tables import ClientTable
from core.forms import PkRangeMixin


class ModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """An id out of the column's range is an invalid choice, not a 500 (see PkRangeMixin)."""

    class field_class(PkRangeMixin, django_filters.fields.ModelMultipleChoiceField):
        pass


MAX_SEARCH_LENGTH = 200  # characters: a name, an e-mail or a phone, never a pasted text


def search_validate(value: str) -> None:
    """A search of a few words (each is one condition): more is refused with a message, not run."""
    if len(search_words(value)) > MAX_SEARCH_WORDS:
        raise ValidationError(
            ngettext(
                "Search for at most %(max)d word.", "Search for at most %(max)d words.", MAX_SEARCH_WORDS,
            ) % {"max": MAX_SEARCH_WORDS},
            code="too_many_words",
        )


def country_choices() -> list[tuple[str, str]]:
    """Every country by its name in the active language, the business's markets first (COUNTRIES_FIRST)."""
    return [(country.code, country.name) for country in countries if country.code]


class CountrySelect(forms.Select):
    """The country filter's 250 options, rendered once per language, chosen value and attributes:
    through the widget templates they took a tenth of the list's time on every page."""

    rendered: ClassVar[dict[tuple, str]] = {}

    def render(self, name, value, attrs=None, renderer=None):
        key = (translation.get_language(), name, str(value), repr(sorted({**self.attrs, **(attrs or {})}.items())))
        if (html := self.rendered.get(key)) is None:
            if len(self.rendered) >= 1_000:
                self.rendered.clear()
            html = self.rendered[key] = super().render(name, value, attrs, renderer)
        return html


# NPS: promoters 9–10, passives 7–8, detractors 0–6 (campaigns/nps.py).
NPS_CATEGORIES = (("promoter", _("Promoter (9–10)")), ("passive", _("Passive (7–8)")), ("detractor", _("Detractor (0–6)")))
NPS_SCORES = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}


class ClientFilter(django_filters.FilterSet):
    """The client list's filters; saved segments reuse exactly these parameters."""

    q = django_filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=MAX_SEARCH_LENGTH, validators=[search_validate],
        widget=forms.TextInput(attrs={"placeholder": _("Name, phone, e-mail, tax id, reference…"), "type": "search"}),
    )
    # A few choices each: ticked at a glance, several at once, with no Ctrl-click.
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=Status.choices, distinct=False, widget=forms.CheckboxSelectMultiple
    )
    volume_tier = django_filters.MultipleChoiceFilter(
        label=_("Volume"), choices=VolumeTier.choices, distinct=False, widget=forms.CheckboxSelectMultiple
    )
    frequency_class = django_filters.MultipleChoiceFilter(
        label=_("Frequency"), choices=FrequencyClass.choices, distinct=False, widget=forms.CheckboxSelectMultiple
    )
    rfm_segment = django_filters.MultipleChoiceFilter(
        label=_("RFM segment"), choices=RfmSegment.choices, distinct=False, widget=forms.CheckboxSelectMultiple
    )
    alert = django_filters.MultipleChoiceFilter(
        label=_("Alert"), choices=Alert.choices, distinct=False, widget=forms.CheckboxSelectMultiple
    )
    owner = django_filters.ModelChoiceFilter(label=_("Salesperson"), queryset=None)
    team = django_filters.ModelChoiceFilter(label=_("Team"), field_name="owner__team", queryset=Team.objects.none())
    city = django_filters.CharFilter(label=_("City"), lookup_expr="iexact")
    country = django_filters.ChoiceFilter(label=_("Country"), choices=country_choices, widget=CountrySelect)
    region = django_filters.CharFilter(label=_("Region"), lookup_expr="iexact")
    sector = django_filters.CharFilter(label=_("Sector"), lookup_expr="iexact")
    interests = ModelMultipleChoiceFilter(
        label=_("Interests"), queryset=Category.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    last_purchase = django_filters.DateFromToRangeFilter(
        label=_("Last purchase between"), field_name="last_purchase_date",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    temperature = django_filters.ChoiceFilter(label=_("Temperature"), choices=Client.Temperature.choices)
    nps = django_filters.ChoiceFilter(
        label=_("Latest survey answer"), choices=NPS_CATEGORIES, method="filter_nps",
    )

    class Meta:
        model = Client
        fields: list[str] = []

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = salespeople_visible_to(user)
        if user.is_administrador:  # the dashboard's team links; a gerente has one team
            self.filters["team"].queryset = Team.objects.all()
        else:
            del self.filters["team"]
        for field in self.form.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select form-select-sm")
                widget.attrs.setdefault("size", 4)
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif isinstance(widget, forms.MultiWidget):
                for sub in widget.widgets:
                    sub.attrs.setdefault("class", "form-control form-control-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")

    def filter_search(self, queryset, name: str, value: str):
        return queryset.search(value)

    def filter_nps(self, queryset, name: str, value: str):
        """By the score of the client's latest NPS answer (campaigns' SurveyAnswer, read through
        the client's reverse relation: this app never imports campaigns)."""
        low, high = NPS_SCORES[value]
        answers = Client._meta.get_field("survey_answers").related_model.objects
        latest = answers.filter(client_id=OuterRef("pk")).order_by("-answered_at", "-id").values("score")[:1]
        return queryset.alias(latest_score=Subquery(latest)).filter(latest_score__gte=low, latest_score__lte=high)


NAME_ORDER = ("sort_name", "id")


def list_ordering(sort: str) -> tuple[str, ...]:
    """The list table's order for its `sort` parameter (e.g. "-spend_12m"); by name otherwise."""
    column = ClientTable.base_columns.get(sort.removeprefix("-"))
    fields = tuple(column.order_by) if column is not None and column.order_by else NAME_ORDER
    if sort.startswith("-"):
        return tuple(field.removeprefix("-") if field.startswith("-") else f"-{field}" for field in fields)
    return fields
