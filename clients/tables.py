import django_tables2 as tables
from django.core.paginator import EmptyPage
from django.db import models
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from clients import phones
from clients.models import Alert, Client, FrequencyClass, RfmSegment, Status, VolumeTier
from core.templatetags.money import money

MAX_PER_PAGE = 100
MAX_PAGE = 10**9  # beyond, the SQL OFFSET would overflow a 64-bit integer


class ClientPaginator(tables.LazyPaginator):
    """LazyPaginator (never counts the whole filtered table) that bears any `page` and `per_page`
    from the query string: the page size is kept within 1..MAX_PER_PAGE (a negative or zero one
    crashed the slicing) and a page beyond MAX_PAGE is empty (RequestConfig then shows page 1)."""

    def __init__(self, object_list, per_page, **kwargs) -> None:
        super().__init__(object_list, min(max(int(per_page), 1), MAX_PER_PAGE), **kwargs)

    def validate_number(self, number):
        number = super().validate_number(number)
        if number > MAX_PAGE:
            raise EmptyPage("That page number is too large")
        return number


def label(choices: type[models.TextChoices], value: str) -> str:
    """A choice's label, as get_FOO_display() gives it: Django's rebuilds a dict of every choice
    (hashing each lazy label) on each call, a third of the list's rendering time at 25 rows."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


EMPTY = "—"  # an empty cell, as django-tables2 shows one


PAGINATION = {"paginator_class": ClientPaginator, "per_page": 25}
WIDE = "d-none d-md-table-cell"


def _wide(td: str = "", th: str = "") -> dict:
    """Attributes of a column hidden on a phone (below Bootstrap's md breakpoint)."""
    return {"th": {"class": f"{WIDE} {th}".strip()}, "td": {"class": f"{WIDE} {td}".strip()}}


class ClientTable(tables.Table):
    """The client list's columns. Every column reads the row only: no query per row."""

    select = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "true", "aria-label": _("Select all")}, "td__input": {"name": "clients", "form": "reassign-form"}})
    # The colour's cell has an id: logging a call swaps the new colour into it (quick_call_done.html).
    alert = tables.Column(
        verbose_name="", accessor="pk", order_by=("alert", "id"), empty_values=(),
        attrs={"th": {"aria-label": _("Alert")}, "td": {"id": lambda record: f"client-alert-{record.pk}"}},
    )
    name = tables.Column(verbose_name=_("Client"), accessor="pk", order_by=("sort_name", "id"))
    # On a phone the list shows the colour, the name (with its quick contact) and the status; the
    # other columns from 768 px on.
    city = tables.Column(verbose_name=_("City"), order_by=("city", "id"), attrs=_wide())
    country = tables.Column(verbose_name=_("Country"), accessor="pk", order_by=("country", "id"), attrs=_wide())
    owner = tables.Column(
        verbose_name=_("Salesperson"), order_by=("owner__last_name", "owner__first_name", "id"), attrs=_wide("text-nowrap"),
    )
    # Sorts that an index serves (see Client.Meta.indexes); the others sort in memory.
    status = tables.Column(verbose_name=_("Status"), accessor="pk", order_by=("status", "last_purchase_date", "id"))
    last_purchase_date = tables.DateColumn(
        verbose_name=_("Last purchase"), short=True, order_by=("last_purchase_date", "id"), attrs=_wide("text-nowrap"),
    )
    spend_12m = tables.Column(
        verbose_name=_("12-month spend"), attrs=_wide("text-end text-nowrap", th="text-end"), order_by=("spend_12m", "id"),
    )
    # The choice columns read the record (accessor pk): with the field as accessor, django-tables2
    # called get_FOO_display() on every cell, which rebuilds a dict of every choice each time
    # (the 250 countries on every row: a third of the list's rendering).
    volume_tier = tables.Column(verbose_name=_("Volume"), accessor="pk", order_by=("volume_tier", "id"), attrs=_wide())
    frequency_class = tables.Column(verbose_name=_("Frequency"), accessor="pk", order_by=("frequency_class", "id"), attrs=_wide())
    rfm_segment = tables.Column(verbose_name=_("RFM segment"), accessor="pk", order_by=("rfm_segment", "id"), attrs=_wide())
    # Fit with the ideal client profile (icp), 0-100; empty while no profile is defined.
    icp_fit = tables.Column(verbose_name=_("ICP fit"), order_by=("icp_fit", "id"), attrs=_wide("text-end", th="text-end"))

    class Meta:
        model = Client
        fields = ()
        sequence = ("select", "alert", "name", "city", "country", "owner", "status", "last_purchase_date", "spend_12m", "volume_tier", "frequency_class", "rfm_segment", "icp_fit")
        attrs = {"class": "table table-sm table-hover align-middle mb-0", "data-testid": "client-table"}
        row_attrs = {"data-client": lambda record: record.pk}
        empty_text = _("No clients match these filters.")
        order_by = ("name",)
        # django-tables2's own template with the rows written by body_html (below).
        template_name = "clients/partials/client_table_tables2.html"

    def __init__(self, *args, can_select: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_select:
            self.columns.hide("select")

    def body_html(self) -> str:
        """The page's rows in one pass. django-tables2 renders each cell through generic machinery
        (accessors, signature inspection, a template node per cell): 325 cells took more than half
        of the list's time, more than its SQL. The header, the sorting and the pagination stay
        django-tables2's; the cells are the same as its render_* and columns would give."""
        columns = list(self.columns)  # the visible ones, in order
        attrs = {column.name: mark_safe(column.attrs["td"].as_html()) for column in columns if column.name != "alert"}  # noqa: S308
        html = []
        for index, row in enumerate(self.paginated_rows):
            record = row.record
            cells = "".join(
                format_html('<td id="client-alert-{}">{}</td>', record.pk, self.render_alert(record)) if column.name == "alert"
                else format_html("<td {}>{}</td>", attrs[column.name], self._cell(column.name, record))
                for column in columns
            )
            html.append(format_html(
                '<tr data-client="{}" class="{}">{}</tr>', record.pk, "odd" if index % 2 else "even", mark_safe(cells),  # noqa: S308
            ))
        return mark_safe("".join(html))  # noqa: S308 - every piece above is escaped by format_html

    def _cell(self, name: str, record: Client):
        if name == "select":
            return format_html('<input type="checkbox" name="clients" value="{}" form="reassign-form" />', record.pk)
        if name in self._RENDERERS:
            return getattr(self, self._RENDERERS[name])(record)
        if name == "owner":
            return str(record.owner)
        if name == "last_purchase_date":
            return formats.date_format(record.last_purchase_date, "SHORT_DATE_FORMAT") if record.last_purchase_date else EMPTY
        if name == "spend_12m":
            return money(record.spend_12m)
        value = getattr(record, name)
        return EMPTY if value in (None, "") else value

    _RENDERERS = {
        "name": "render_name", "country": "render_country", "status": "render_status",
        "volume_tier": "render_volume_tier", "frequency_class": "render_frequency_class", "rfm_segment": "render_rfm_segment",
    }

    def render_alert(self, record: Client) -> str:
        if not record.alert:
            return ""
        return format_html(
            '<span class="alert-dot {}" data-testid="alert-dot" data-alert="{}" title="{}" aria-label="{}"></span>',
            record.alert, record.alert, record.alert_text() or label(Alert, record.alert), label(Alert, record.alert),
        )

    def render_name(self, record: Client) -> str:
        """The name as a link; the alert's reason in words under it (visible, not only on hover);
        then the quick contact: the phone to dial, WhatsApp and "log a call"."""
        reason = record.alert_text() if record.alert else ""
        return format_html(
            '<a href="{}">{}</a><div class="small text-body-secondary" data-testid="alert-reason" id="client-reason-{}">{}</div>'
            '<div class="quick-contact small" data-testid="quick-contact">{}</div>',
            record.get_absolute_url(), record.display_name, record.pk, reason, self._quick_contact(record),
        )

    def render_country(self, record: Client) -> str:
        return record.country.name or EMPTY  # in the active language (django-countries)

    def _quick_contact(self, record: Client) -> str:
        links = []
        if record.phone:
            links.append(format_html(
                '<a href="{}" data-testid="tel-link" title="{}">{}</a>', phones.tel_href(record.phone, record.country),
                _("Call this number"), phones.display(record.phone, record.country),
            ))
            if whatsapp := phones.whatsapp_url(record.phone, record.country):
                links.append(format_html(
                    '<a href="{}" target="_blank" rel="noopener" data-testid="whatsapp-link" title="{}">WhatsApp</a>',
                    whatsapp, _("Open a WhatsApp chat (new tab)"),
                ))
        links.append(format_html(
            '<a href="{}?on=list" data-quick-call data-testid="quick-call">{}</a>',
            reverse("clients:quick_call", args=[record.pk]), _("Log a call"),
        ))
        return format_html_join(" · ", "{}", ((link,) for link in links))

    def render_status(self, record: Client) -> str:
        return label(Status, record.status) or EMPTY

    def render_spend_12m(self, value) -> str:
        return money(value)

    def render_volume_tier(self, record: Client) -> str:
        return label(VolumeTier, record.volume_tier) or EMPTY

    def render_frequency_class(self, record: Client) -> str:
        return label(FrequencyClass, record.frequency_class) or EMPTY

    def render_rfm_segment(self, record: Client) -> str:
        return label(RfmSegment, record.rfm_segment) or EMPTY
