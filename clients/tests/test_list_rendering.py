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
