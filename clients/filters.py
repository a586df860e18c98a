import datetime as dt
from typing import ClassVar

import django_filters
import django_filters.fields
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone, translation
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


class IntegerRangeField(django_filters.fields.RangeField):
    """Two whole numbers from 0 (either may be left empty): a "from … to …" filter."""

    def __init__(self, *args, **kwargs):
        super().__init__((forms.IntegerField(min_value=0), forms.IntegerField(min_value=0)), *args, **kwargs)


class IntegerRangeFilter(django_filters.RangeFilter):
    field_class = IntegerRangeField


def _range_widget() -> django_filters.widgets.RangeWidget:
    return django_filters.widgets.RangeWidget(attrs={"type": "number", "min": "0", "inputmode": "numeric"})


# Age bands (whole years, from the birth date): (code, label, youngest, oldest or None).
AGE_BANDS = (
    ("0-24", _("Under 25"), 0, 24), ("25-34", _("25–34"), 25, 34), ("35-44", _("35–44"), 35, 44),
    ("45-54", _("45–54"), 45, 54), ("55-64", _("55–64"), 55, 64), ("65+", _("65 or older"), 65, None),
)
YES_NO = (("yes", _("Yes")), ("no", _("No")))
NOT_RECORDED = "none"


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (29 February becomes the 28th: Client.age's birthday rule)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def consent_purposes() -> list[tuple[str, str]]:
    """The consent purposes (campaigns' Consent.purpose, read through the client's reverse relation:
    this app never imports campaigns)."""
    return list(Client._meta.get_field("consents").related_model._meta.get_field("purpose").choices)


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
    # Where clients come from and why they leave (issue 18).
    source = django_filters.MultipleChoiceFilter(
        label=_("Source"), choices=Client.Source.choices, distinct=False, widget=forms.CheckboxSelectMultiple
    )
    referred = django_filters.ChoiceFilter(label=_("Referred by a client"), choices=YES_NO, method="filter_referred")
    prospect_qualification = django_filters.MultipleChoiceFilter(
        label=_("Qualification"), choices=Client.Qualification.choices, distinct=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent = django_filters.ChoiceFilter(label=_("Consented to"), choices=consent_purposes, method="filter_consent")
    age = django_filters.MultipleChoiceFilter(
        label=_("Age"), choices=[(code, label) for code, label, _low, _high in AGE_BANDS], method="filter_age",
        widget=forms.CheckboxSelectMultiple,
    )
    icp_fit = IntegerRangeFilter(label=_("Ideal profile fit (0–100)"), field_name="icp_fit", widget=_range_widget())
    leave_reason = django_filters.MultipleChoiceFilter(
        label=_("Reason for leaving"), choices=[*Client.CloseReason.choices, (NOT_RECORDED, _("Not recorded"))],
        method="filter_leave_reason", widget=forms.CheckboxSelectMultiple,
    )
    contact_days = IntegerRangeFilter(
        label=_("Days since the last contact"), method="filter_contact_days", widget=_range_widget(),
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
                if isinstance(field, IntegerRangeField):
                    widget.widgets[0].attrs.setdefault("placeholder", _("at least"))
                    widget.widgets[1].attrs.setdefault("placeholder", _("at most"))
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


    def filter_referred(self, queryset, name: str, value: str):
        return queryset.filter(referred_by__isnull=value != "yes")

    def filter_consent(self, queryset, name: str, value: str):
        """The clients who granted consent for the purpose (campaigns' Consent, one row per client
        and purpose, through the client's reverse relation)."""
        consents = Client._meta.get_field("consents").related_model.objects
        return queryset.filter(Exists(consents.filter(client_id=OuterRef("pk"), purpose=value, granted=True)))

    def filter_age(self, queryset, name: str, value: list[str]):
        """Whole years today (Client.age): born after `oldest + 1` years ago, on or before `youngest` years ago."""
        if not value:
            return queryset
        today = timezone.localdate()
        bands = []
        for code, _label, youngest, oldest in AGE_BANDS:
            if code in value:
                band = Q(birth_date__lte=years_before(today, youngest))
                if oldest is not None:
                    band &= Q(birth_date__gt=years_before(today, oldest + 1))
                bands.append(band)
        return queryset.filter(Q.create(bands, connector=Q.OR))

    def filter_leave_reason(self, queryset, name: str, value: list[str]):
        """A baja's reason (segmentation/leaving.py); "not recorded": a baja without one."""
        if not value:
            return queryset
        reasons = [code for code in value if code != NOT_RECORDED]
        rule = Q(leave_reason__in=reasons) if reasons else Q(pk__in=[])
        if NOT_RECORDED in value:
            rule |= Q(status=Status.LOST, leave_reason="")
        return queryset.filter(rule)

    def filter_contact_days(self, queryset, name: str, value: slice | None):
        """Whole days from the last interaction's day to today: at least `start` (never contacted
        included), at most `stop` (contacted in the last `stop` days)."""
        if not value:
            return queryset
        interactions = Client._meta.get_field("interactions").related_model.objects
        today = timezone.localdate()

        def day_start(days_ago: int) -> dt.datetime:
            return timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time.min))

        if value.start is not None:  # nothing since the start of the day `start - 1` days ago
            recent = interactions.filter(client_id=OuterRef("pk"), happened_at__gte=day_start(value.start - 1))
            queryset = queryset.filter(~Exists(recent))
        if value.stop is not None:
            recent = interactions.filter(client_id=OuterRef("pk"), happened_at__gte=day_start(value.stop))
            queryset = queryset.filter(Exists(recent))
        return queryset


NAME_ORDER = ("sort_name", "id")


def list_ordering(sort: str) -> tuple[str, ...]:
    """The list table's order for its `sort` parameter (e.g. "-spend_12m"); by name otherwise."""
    column = ClientTable.base_columns.get(sort.removeprefix("-"))
    fields = tuple(column.order_by) if column is not None and column.order_by else NAME_ORDER
    if sort.startswith("-"):
        return tuple(field.removeprefix("-") if field.startswith("-") else f"-{field}" for field in fields)
    return fields
