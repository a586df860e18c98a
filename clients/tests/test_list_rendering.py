"""Issue 16: the list renders its choice columns and the country filter without rebuilding every
choice on each cell or page; what it shows stays the same in each language."""

import pytest
from django.urls import reverse

from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_choice_columns_show_their_labels_and_a_dash_when_empty(client, owner):
    ClientFactory(owner=owner, last_name="Clasificada", status="active", volume_tier="high", frequency_class="habitual",
                  rfm_segment="loyal", country="PT")
    ClientFactory(owner=owner, last_name="Nueva", status="prospect", volume_tier="", frequency_class="", rfm_segment="")
    client.force_login(owner)
    table = client.get(reverse("clients:client_list"), HTTP_ACCEPT_LANGUAGE="en").context["table"]
    rows = {row.record.last_name: row for row in table.paginated_rows}
    shown = {name: [rows[name].get_cell(column) for column in ("status", "volume_tier", "frequency_class", "rfm_segment", "country")]
             for name in rows}
    assert shown["Clasificada"] == ["Active", "High", "Habitual", "Loyal", "Portugal"]
    assert shown["Nueva"][1:4] == ["—", "—", "—"]


def test_the_country_filter_keeps_the_chosen_country_and_the_language(client, owner):
    client.force_login(owner)
    spanish = client.get(reverse("clients:client_list"), {"country": "DE"}).content.decode()
    assert '<option value="DE" selected>Alemania</option>' in spanish
    client.cookies["django_language"] = "en"
    english = client.get(reverse("clients:client_list"), {"country": "FR"}).content.decode()
    assert '<option value="FR" selected>France</option>' in english and "Alemania" not in english


def test_the_filter_checkboxes_are_written_as_the_widget_templates_would(client, owner):
    """core.templatetags.widgets.input_tag writes each choice's <input> from Python: the same
    markup as `choice.tag`, chosen values checked."""
    from django.http import QueryDict

    from clients.filters import ClientFilter
    from clients.models import Client
    from core.templatetags.widgets import input_tag

    chosen = QueryDict("status=dormant&status=lost&alert=red&age=<25&source=referral")
    form = ClientFilter(chosen, queryset=Client.objects.all(), user=owner).form
    checkboxes = [
        choice for field in form if getattr(field.field.widget, "input_type", "") == "checkbox" for choice in field
    ]
    assert len(checkboxes) > 30
    assert [str(input_tag(choice)) for choice in checkboxes] == [str(choice.tag()) for choice in checkboxes]
    assert sum(" checked" in str(input_tag(choice)) for choice in checkboxes) >= 4
    client.force_login(owner)
    page = client.get(reverse("clients:client_list"), {"status": "dormant"}).content.decode()
    assert '<input type="checkbox" name="status" value="dormant" class="form-check-input" id="id_status_3" checked>' in page
