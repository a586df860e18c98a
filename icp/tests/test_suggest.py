"""The suggestions against a hand-built population (every share and lift computed by hand)."""

from decimal import Decimal

import pytest
from django.utils import translation

from clients.models import Client
from clients.tests.factories import CategoryFactory, ClientFactory
from icp.suggest import criteria_suggest
from segmentation.ideal_models import Attribute, Kind

pytestmark = pytest.mark.django_db


def _client(owner, *, spend=0, loyal=False, **values) -> Client:
    base = {
        "sector": "Otros", "economic_level": "low", "region": "Galicia", "city": "Vigo", "country": "ES",
        "preferred_channel": "phone", "source": "", "payment_method": "card", "company_name": "",
    }
    client = ClientFactory(owner=owner, **{**base, **values})
    if loyal:
        Client.objects.filter(pk=client.pk).update(
            status="active", purchase_count=4, frequency_class="frequent", spend_12m=spend,
        )
    return client


@pytest.fixture
def population(owner):
    """40 clients: 25 loyal buyers spending 100..2,500 (the top 20 %: the 5 spending 2,100..2,500)
    and 15 prospects. Among the top 5: 5 in Hostelería, 3 of high economic level, 4 interested in
    Tiendas, 5 companies. Among all 40: 8 in Hostelería, 12 high, 4 Tiendas, 15 companies."""
    shops = CategoryFactory(name="Tiendas")
    for rank in range(1, 26):
        top = rank > 20
        values = {"spend": rank * 100, "loyal": True}
        if top:
            values |= {"sector": "Hostelería", "company_name": f"Empresa {rank}"}
            values |= {"economic_level": "high"} if rank <= 23 else {}
        elif rank <= 3:
            values |= {"sector": "Hostelería"}
        elif rank <= 12:
            values |= {"economic_level": "high"}
        elif rank <= 20:
            values |= {"company_name": f"Empresa {rank}"}
        client = _client(owner, **values)
        if top and rank <= 24:
            client.interests.add(shops)
    for n in range(15):
        _client(owner, company_name=f"Prospecto {n}" if n < 2 else "")
    return shops


def test_suggestions_are_the_over_represented_values_with_their_evidence(population):
    with translation.override("en"):
        found = criteria_suggest()
        by_key = {(s.attribute, s.value): s for s in found.items}
        evidence = {key: s.evidence for key, s in by_key.items()}
    assert (found.top_total, found.all_total) == (5, 40)
    # Hostelería: 5/5 = 100 % vs 8/40 = 20 %: lift 5.0, weight round(10.0) = 10.
    hospitality = by_key[(Attribute.SECTOR, "Hostelería")]
    assert (hospitality.top, hospitality.all, hospitality.lift, hospitality.weight) == (5, 8, Decimal(5), 10)
    assert evidence[(Attribute.SECTOR, "Hostelería")] == "100 % of top clients vs 20 % of all: 5.0×"
    # High economic level: 3/5 = 60 % vs 12/40 = 30 %: lift 2.0, weight 4.
    assert by_key[(Attribute.ECONOMIC_LEVEL, "high")].weight == 4
    assert evidence[(Attribute.ECONOMIC_LEVEL, "high")] == "60 % of top clients vs 30 % of all: 2.0×"
    # Tiendas: 4/5 = 80 % vs 4/40 = 10 %: lift 8.0, weight 16 capped at 10.
    assert by_key[(Attribute.INTEREST, str(population.pk))].weight == 10
    # Companies: 5/5 = 100 % vs 15/40 = 37.5 %: lift 2.67 (shown 2.7), weight round(5.33) = 5.
    assert by_key[(Attribute.KIND, Kind.COMPANY)].weight == 5
    assert evidence[(Attribute.KIND, Kind.COMPANY)] == "100 % of top clients vs 38 % of all: 2.7×"
    # The same everywhere (Vigo, ES, phone, card) or rarer among the top (Otros, low, persons): not suggested.
    assert set(by_key) == {
        (Attribute.SECTOR, "Hostelería"), (Attribute.ECONOMIC_LEVEL, "high"),
        (Attribute.INTEREST, str(population.pk)), (Attribute.KIND, Kind.COMPANY),
    }


def test_too_few_loyal_buyers_give_no_suggestion(owner):
    for rank in range(1, 11):  # 10 loyal buyers: a top of 2
        _client(owner, spend=rank * 100, loyal=True, sector="Hostelería")
    found = criteria_suggest()
    assert not found.enough and found.items == []


def test_suggestions_run_a_constant_number_of_queries(population, django_assert_num_queries):
    # The loyal buyers' count and the spend at the cut, the totals, the attributes of the client's
    # row in one grouped scan, the interests: 5 whatever the number of clients.
    with django_assert_num_queries(5):
        criteria_suggest()
