"""Likely duplicates (clients/duplicates.py): each reason, what a user may learn of a match in a
portfolio they cannot see, and the pairs of the duplicates page."""

import pytest

from clients.duplicates import Reason, duplicate_pairs, likely_duplicates_of, name_variants, split_by_visibility
from clients.models import NotDuplicate
from clients.tests.factories import ClientFactory
from segmentation.records import client_trash

pytestmark = pytest.mark.django_db


def data(**values) -> dict:
    base = {"first_name": "Nadie", "last_name": "Distinto", "company_name": "", "tax_id": "", "email": "", "phone": "",
            "city": "Ninguna"}
    return {**base, **values}


def found(matches) -> dict:
    return {m.client.pk: m.reasons for m in matches}


def test_same_tax_id_written_differently_is_a_match(owner):
    existing = ClientFactory(owner=owner, tax_id="B-1234567 8")
    assert found(likely_duplicates_of(data(tax_id="b12345678"))) == {existing.pk: [Reason.TAX_ID]}


def test_same_email_in_another_case_is_a_match(owner):
    existing = ClientFactory(owner=owner, email="ana.perez@example.com")
    assert found(likely_duplicates_of(data(email=" Ana.Perez@Example.COM "))) == {existing.pk: [Reason.EMAIL]}


def test_same_phone_with_a_prefix_and_spaces_is_a_match(owner):
    existing = ClientFactory(owner=owner, phone="612345678")
    assert found(likely_duplicates_of(data(phone="+34 612 34 56 78"))) == {existing.pk: [Reason.PHONE]}


def test_same_words_of_a_name_in_the_same_city_is_a_match(owner):
    existing = ClientFactory(owner=owner, first_name="José", last_name="Pérez García", city="Sevilla", email="", phone="")
    assert found(likely_duplicates_of(data(first_name="Perez Garcia", last_name="Jose", city="SEVILLA"))) == {
        existing.pk: [Reason.NAME]
    }
    assert likely_duplicates_of(data(first_name="José", last_name="Pérez García", city="Cádiz")) == []
    assert likely_duplicates_of(data(first_name="José", last_name="Pérez", city="Sevilla")) == []


def test_a_company_is_matched_by_its_name_with_or_without_a_contact_person(owner):
    existing = ClientFactory(owner=owner, first_name="Ana", last_name="Ruiz", company_name="Talleres Ruiz", city="Vigo")
    assert found(likely_duplicates_of(data(first_name="", last_name="", company_name="TALLERES RUIZ", city="Vigo"))) == {
        existing.pk: [Reason.NAME]
    }
    assert "talleres ruiz (ana ruiz)" in name_variants("Ana", "Ruiz", "Talleres Ruiz")


def test_several_reasons_are_listed_together_and_the_client_being_edited_is_not_its_own_duplicate(owner):
    existing = ClientFactory(owner=owner, email="a@b.es", phone="600000001", tax_id="12345678Z")
    matches = likely_duplicates_of(data(email="a@b.es", phone="600000001", tax_id="12345678z"))
    assert found(matches) == {existing.pk: [Reason.TAX_ID, Reason.EMAIL, Reason.PHONE]}
    assert likely_duplicates_of(data(email="a@b.es"), exclude_pk=existing.pk) == []


def test_clients_in_the_trash_or_merged_are_not_matches(owner):
    trashed = ClientFactory(owner=owner, email="gone@b.es")
    client_trash(by=owner, client=trashed)
    survivor = ClientFactory(owner=owner, email="kept@b.es")
    ClientFactory(owner=owner, email="merged@b.es", merged_into=survivor)
    assert likely_duplicates_of(data(email="gone@b.es")) == []
    assert likely_duplicates_of(data(email="merged@b.es")) == []


def test_empty_keys_match_nothing(owner):
    ClientFactory(owner=owner, email="", phone="", tax_id="")
    assert likely_duplicates_of(data(city="")) == []


def test_a_match_in_another_portfolio_is_reduced_to_its_reason(owner, outsider):
    mine = ClientFactory(owner=owner, email="shared@b.es")
    theirs = ClientFactory(owner=outsider, email="shared@b.es", tax_id="X1234567L")
    shown, hidden = split_by_visibility(owner, likely_duplicates_of(data(email="shared@b.es", tax_id="x-1234567-l")))
    assert [m.client for m in shown] == [mine]
    assert hidden == [Reason.TAX_ID, Reason.EMAIL]
    assert theirs not in [m.client for m in shown]


def test_the_pairs_page_groups_by_each_key_and_respects_checked_pairs(owner, teammate, manager, outsider):
    a = ClientFactory(owner=owner, email="dup@b.es", phone="611111111")
    b = ClientFactory(owner=teammate, email="DUP@b.es", phone="+34 611 111 111")
    c = ClientFactory(owner=owner, first_name="Eva", last_name="Sanz", city="Lugo", email="", phone="")
    d = ClientFactory(owner=owner, first_name="Sanz", last_name="Eva", city="lugo", email="", phone="")
    ClientFactory(owner=outsider, email="dup@b.es")  # another team's: not the manager's pair

    pairs = {(p.first.pk, p.second.pk): p.reasons for p in duplicate_pairs(manager)}
    assert pairs == {(a.pk, b.pk): [Reason.EMAIL, Reason.PHONE]}  # "eva sanz" and "sanz eva": not the same sort_name
    NotDuplicate.objects.create(first=a, second=b, by=manager)
    assert duplicate_pairs(manager) == []
    d.first_name, d.last_name = "Eva", "Sanz"
    d.save()
    assert [(p.first, p.second, p.reasons) for p in duplicate_pairs(manager)] == [(c, d, [Reason.NAME])]


def test_the_pairs_of_an_administrador_cover_every_team(owner, outsider, admin_user, manager):
    a = ClientFactory(owner=owner, tax_id="B11111111")
    b = ClientFactory(owner=outsider, tax_id="b-11111111")
    assert [(p.first, p.second) for p in duplicate_pairs(admin_user)] == [(a, b)]
    assert duplicate_pairs(manager) == []


@pytest.mark.parametrize("size", [6, 30])
def test_the_pairs_take_a_constant_number_of_queries(admin_user, owner, size, django_assert_num_queries):
    for n in range(size):
        ClientFactory(owner=owner, email=f"same{n % 3}@b.es")
    # The user's roles, 4 keys grouped, the checked pairs, the clients shown with their owners.
    with django_assert_num_queries(7):
        pairs = duplicate_pairs(admin_user)
    assert len(pairs) == size - 3
