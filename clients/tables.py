import django_tables2 as tables
from django.core.paginator import EmptyPage
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from clients.models import Client
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


PAGINATION = {"paginator_class": ClientPaginator, "per_page": 25}


class ClientTable(tables.Table):
    """The client list's columns. Every column reads the row only: no query per row."""

    select = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "true", "aria-label": _("Select all")}, "td__input": {"name": "clients", "form": "reassign-form"}})
    alert = tables.Column(verbose_name="", order_by=("alert", "id"), empty_values=(), attrs={"th": {"aria-label": _("Alert")}})
    name = tables.Column(verbose_name=_("Client"), accessor="pk", order_by=("sort_name", "id"))
    city = tables.Column(verbose_name=_("City"), order_by=("city", "id"))
    owner = tables.Column(
        verbose_name=_("Salesperson"), order_by=("owner__last_name", "owner__first_name", "id"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    # Sorts that an index serves (see Client.Meta.indexes); the others sort in memory.
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "last_purchase_date", "id"))
    last_purchase_date = tables.DateColumn(
        verbose_name=_("Last purchase"), short=True, order_by=("last_purchase_date", "id"), attrs={"td": {"class": "text-nowrap"}}
    )
    spend_12m = tables.Column(
        verbose_name=_("12-month spend"), attrs={"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}},
        order_by=("spend_12m", "id"),
    )
    volume_tier = tables.Column(verbose_name=_("Volume"), order_by=("volume_tier", "id"))
    frequency_class = tables.Column(verbose_name=_("Frequency"), order_by=("frequency_class", "id"))
    rfm_segment = tables.Column(verbose_name=_("RFM segment"), order_by=("rfm_segment", "id"))

    class Meta:
        model = Client
        fields = ()
        sequence = ("select", "alert", "name", "city", "owner", "status", "last_purchase_date", "spend_12m", "volume_tier", "frequency_class", "rfm_segment")
        attrs = {"class": "table table-sm table-hover align-middle mb-0", "data-testid": "client-table"}
        empty_text = _("No clients match these filters.")
        order_by = ("name",)

    def __init__(self, *args, can_select: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_select:
            self.columns.hide("select")

    def render_alert(self, record: Client) -> str:
        if not record.alert:
            return ""
        return format_html(
            '<span class="alert-dot {}" title="{}" aria-label="{}"></span>',
            record.alert, record.alert_text() or record.get_alert_display(), record.get_alert_display(),
        )

    def render_name(self, record: Client) -> str:
        """The name as a link, and the alert's reason in words under it (visible, not only on hover)."""
        reason = record.alert_text() if record.alert else ""
        if not reason:
            return format_html('<a href="{}">{}</a>', record.get_absolute_url(), record.display_name)
        return format_html(
            '<a href="{}">{}</a><div class="small text-body-secondary" data-testid="alert-reason">{}</div>',
            record.get_absolute_url(), record.display_name, reason,
        )

    def render_status(self, record: Client) -> str:
        return record.get_status_display()

    def render_spend_12m(self, value) -> str:
        return money(value)

    def render_volume_tier(self, record: Client) -> str:
        return record.get_volume_tier_display()

    def render_frequency_class(self, record: Client) -> str:
        return record.get_frequency_class_display()

    def render_rfm_segment(self, record: Client) -> str:
        return record.get_rfm_segment_display()
