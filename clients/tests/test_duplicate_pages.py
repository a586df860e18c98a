"""The duplicate warning of the client form, the page of likely duplicates, the merge page and
the address of a merged client (clients/duplicate_views.py, clients/middleware.py)."""

import re

import pytest
from django.urls import reverse

from clients.models import Client, NotDuplicate, Purchase
from clients.tests.factories import ClientFactory, FollowUpFactory, InteractionFactory, PurchaseFactory
from segmentation import merge

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CREATE = reverse("clients:client_create")
DUPLICATES = reverse("clients:client_duplicates")


def merge_url(survivor, absorbed) -> str:
    return reverse("clients:client_merge", args=[survivor.pk, absorbed.pk])


# The warning before saving

def test_a_new_client_with_an_existing_email_is_not_saved_until_confirmed(client, owner):
    existing = ClientFactory(owner=owner, first_name="Lucía", last_name="Gómez", email="lucia@example.com")
    client.force_login(owner)
    data = {"first_name": "Lucia", "last_name": "Gomes", "country": "ES", "email": "LUCIA@example.com"}

    response = client.post(CREATE, data, **EN)

    assert response.status_code == 200
    assert Client.objects.count() == 1
    html = response.content.decode()
    assert "This client may already exist" in html and "same e-mail" in html
    assert existing.get_absolute_url() in html and "Lucía Gómez" in html
    assert 'name="save_anyway"' in html
    assert "merge-duplicate" not in html  # nothing to merge before the new client exists

    response = client.post(CREATE, {**data, "save_anyway": "1"}, **EN)
    assert response.status_code == 302
    assert Client.objects.filter(email="lucia@example.com").count() == 2


def test_a_match_in_another_portfolio_reveals_neither_its_name_nor_its_id(client, owner, outsider):
    hidden = ClientFactory(owner=outsider, first_name="Secreto", last_name="Ajeno", tax_id="12345678Z", email="x@y.es")
    client.force_login(owner)

    response = client.post(CREATE, {"first_name": "Nuevo", "country": "ES", "tax_id": "12345678-z"}, **EN)

    html = response.content.decode()
    assert "A client with this tax id already exists in another salesperson&#x27;s portfolio: ask your gerente." in html
    assert "Secreto" not in html and "Ajeno" not in html and "x@y.es" not in html and "gerente2" not in html
    assert not re.search(rf"/clients/{hidden.pk}/", html)
    assert Client.objects.count() == 1


def test_an_edit_that_leaves_the_matched_fields_alone_saves_without_a_warning(client, owner):
    ClientFactory(owner=owner, email="same@b.es")
    record = ClientFactory(owner=owner, first_name="Rosa", email="same@b.es", country="ES")
    client.force_login(owner)
    url = reverse("clients:client_edit", args=[record.pk])
    response = client.post(url, {"first_name": "Rosa", "email": "same@b.es", "country": "ES", "notes": "VIP",
                                 "phone": record.phone, "last_name": record.last_name, "city": record.city}, **EN)
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.notes == "VIP"


def test_an_edit_to_an_existing_email_warns_and_opens_the_existing_one(client, owner):
    existing = ClientFactory(owner=owner, email="taken@b.es")
    record = ClientFactory(owner=owner, first_name="Rosa", email="", country="ES")
    client.force_login(owner)
    url = reverse("clients:client_edit", args=[record.pk])
    response = client.post(url, {"first_name": "Rosa", "email": "taken@b.es", "country": "ES"}, **EN)
    assert response.status_code == 200
    assert existing.get_absolute_url() in response.content.decode()
    assert merge_url(existing, record) in response.content.decode()  # both are the comercial's own
    record.refresh_from_db()
    assert record.email == ""
    NotDuplicate.objects.create(first=existing, second=record)  # checked: different people
    response = client.post(url, {"first_name": "Rosa", "email": "taken@b.es", "country": "ES"}, **EN)
    assert response.status_code == 302


def test_two_matches_checked_as_different_from_each_other_both_still_warn(client, owner):
    first = ClientFactory(owner=owner, email="taken@b.es")
    second = ClientFactory(owner=owner, tax_id="B58378431", country="ES")
    low, high = sorted([first, second], key=lambda c: c.pk)
    NotDuplicate.objects.create(first=low, second=high)  # about each other, not about the edited one
    record = ClientFactory(owner=owner, first_name="Rosa", email="", country="ES")
    client.force_login(owner)
    response = client.post(
        reverse("clients:client_edit", args=[record.pk]),
        {"first_name": "Rosa", "email": "taken@b.es", "tax_id": "B58378431", "country": "ES"}, **EN,
    )
    page = response.content.decode()
    assert first.get_absolute_url() in page and second.get_absolute_url() in page


# The page of pairs

def test_a_gerente_sees_the_pairs_of_the_team_with_reasons_and_marks_one_as_different(client, owner, teammate, manager):
    a = ClientFactory(owner=owner, first_name="Marta", email="m@b.es")
    b = ClientFactory(owner=teammate, first_name="Marta R.", email="m@b.es")
    client.force_login(manager)

    response = client.get(DUPLICATES, **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "same e-mail" in html and merge_url(a, b) in html

    response = client.post(reverse("clients:client_not_duplicates"), {"first": b.pk, "second": a.pk}, **EN)
    assert response.status_code == 302
    assert NotDuplicate.objects.filter(first=a, second=b, by=manager).exists()
    assert "duplicate-pair" not in client.get(DUPLICATES, **EN).content.decode()


@pytest.mark.parametrize(("persona", "status"), [("owner", 403), ("teammate", 403), ("manager", 200),
                                                 ("other_manager", 200), ("admin_user", 200)])
def test_the_page_is_for_gerentes_and_administradores(client, request, persona, status, owner, outsider):
    ClientFactory(owner=owner, phone="699999999")
    ClientFactory(owner=owner, phone="699 999 999")
    client.force_login(request.getfixturevalue(persona))
    response = client.get(DUPLICATES, **EN)
    assert response.status_code == status
    if persona == "other_manager":  # another team's pair
        assert "duplicate-pair" not in response.content.decode()


def test_not_duplicates_refuses_bad_input_and_hidden_clients(client, manager, outsider, owner):
    mine, theirs = ClientFactory(owner=owner), ClientFactory(owner=outsider)
    client.force_login(manager)
    url = reverse("clients:client_not_duplicates")
    assert client.post(url, {"first": "x", "second": "99999999999999999999999"}).status_code == 302
    assert client.post(url, {"first": mine.pk, "second": theirs.pk}).status_code == 404
    assert not NotDuplicate.objects.exists()


@pytest.mark.parametrize("pairs", [2, 12])
def test_the_duplicates_page_runs_a_constant_number_of_queries(client, owner, manager, pairs, django_assert_num_queries):
    for n in range(pairs):
        ClientFactory(owner=owner, email=f"twin{n}@b.es")
        ClientFactory(owner=owner, email=f"twin{n}@b.es")
    client.force_login(manager)
    # Session and user, roles, the team's members and shares (the access rule), 4 keys grouped,
    # the checked pairs, the clients with their owners.
    with django_assert_num_queries(11):
        response = client.get(DUPLICATES, **EN)
    assert response.content.decode().count('data-testid="duplicate-pair"') == pairs


# The merge page

def test_a_gerente_merges_choosing_fields_and_lands_on_the_survivor(client, owner, teammate, manager):
    survivor = ClientFactory(owner=owner, first_name="Pablo", last_name="Ruiz", email="", phone="611000222")
    absorbed = ClientFactory(owner=teammate, first_name="Pablo", last_name="Ruíz", email="pablo@b.es", phone="611000333")
    PurchaseFactory(client=survivor)
    PurchaseFactory.create_batch(2, client=absorbed)
    client.force_login(manager)

    page = client.get(merge_url(survivor, absorbed), **EN).content.decode()
    assert re.search(r'name="email" value="absorbed"[^>]*checked', page)  # the empty e-mail takes the other's
    assert re.search(r'name="phone" value="survivor"[^>]*checked', page)
    response = client.post(merge_url(survivor, absorbed), {
        "last_name": "absorbed", "email": "absorbed", "phone": "survivor",
    }, **EN)

    assert response.status_code == 302 and response["Location"] == survivor.get_absolute_url()
    survivor.refresh_from_db()
    assert (survivor.last_name, survivor.email, survivor.phone) == ("Ruíz", "pablo@b.es", "611000222")
    assert survivor.purchase_count == 3 and Purchase.objects.filter(client=survivor).count() == 3


def test_merge_page_refuses_what_the_user_may_not_merge(client, owner, teammate, outsider):
    mine, other_mine = ClientFactory(owner=owner), ClientFactory(owner=owner)
    teammates = ClientFactory(owner=teammate)
    theirs = ClientFactory(owner=outsider)
    client.force_login(owner)
    assert client.get(merge_url(mine, theirs)).status_code == 404
    teammates.shares.create(user=owner)
    assert client.get(merge_url(mine, teammates)).status_code == 403  # seen through a share, not owned
    assert client.get(merge_url(mine, mine)).status_code == 404
    assert client.get(merge_url(mine, other_mine), **EN).status_code == 200  # a comercial's own two clients


@pytest.mark.parametrize("records", [1, 8])
def test_the_merge_page_runs_a_constant_number_of_queries(client, owner, manager, records, django_assert_num_queries):
    survivor, absorbed = ClientFactory(owner=owner), ClientFactory(owner=owner)
    PurchaseFactory.create_batch(records, client=absorbed)
    InteractionFactory.create_batch(records, client=absorbed)
    client.force_login(manager)
    # Session and user, roles, the access rule for each client (team members, shares, the
    # client) twice, may_merge's count of both and its access rule again: 12, whatever they hold.
    with django_assert_num_queries(12):
        assert client.get(merge_url(survivor, absorbed), **EN).status_code == 200



def test_the_merge_page_names_a_referrer_only_for_who_may_see_it(client, owner, manager, outsider):
    hidden = ClientFactory(owner=outsider, first_name="Escondida", last_name="Ajena")
    seen = ClientFactory(owner=owner, first_name="Visible", last_name="Propia")
    survivor = ClientFactory(owner=owner)
    absorbed = ClientFactory(owner=owner)
    Client.objects.filter(pk=survivor.pk).update(referred_by=hidden)
    Client.objects.filter(pk=absorbed.pk).update(referred_by=seen)
    client.force_login(manager)
    page = client.get(merge_url(survivor, absorbed), **EN).content.decode()
    assert "Escondida" not in page and "a client of another portfolio" in page
    assert "Visible Propia" in page


# The address of a merged client

def test_the_absorbed_address_leads_to_the_survivor_for_those_who_see_it(client, owner, teammate, manager, outsider):
    survivor, absorbed = ClientFactory(owner=owner), ClientFactory(owner=owner)
    followup = FollowUpFactory(client=absorbed)
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})

    client.force_login(owner)
    response = client.get(reverse("clients:client_detail", args=[absorbed.pk]))
    assert response.status_code == 302 and response["Location"] == survivor.get_absolute_url()
    response = client.get(reverse("clients:followup_create", args=[absorbed.pk]) + "?x=1")
    assert response["Location"] == reverse("clients:followup_create", args=[survivor.pk]) + "?x=1"
    assert client.post(reverse("clients:followup_create", args=[absorbed.pk])).status_code == 404
    assert client.get(reverse("clients:followup_entry", args=[followup.pk])).status_code != 404  # it moved along

    client.force_login(outsider)
    assert client.get(reverse("clients:client_detail", args=[absorbed.pk])).status_code == 404


def test_a_merged_client_is_not_in_the_trash_to_restore(client, owner, manager):
    survivor, absorbed = ClientFactory(owner=owner), ClientFactory(owner=owner)
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={})
    client.force_login(owner)
    assert absorbed.display_name not in client.get(reverse("clients:client_trash")).content.decode()
    assert client.post(reverse("clients:client_restore", args=[absorbed.pk])).status_code == 404


def test_the_merge_reads_in_the_history_of_both_clients(client, owner, manager):
    survivor = ClientFactory(owner=owner, first_name="Irene", phone="")
    absorbed = ClientFactory(owner=owner, first_name="Irene B.", phone="633000444")
    merge.client_merge(by=manager, survivor=survivor, absorbed=absorbed, values={"phone": "absorbed"})
    client.force_login(manager)
    html = client.get(survivor.get_absolute_url(), **EN).content.decode()
    assert "Merged into this client" in html and f"Irene B. {absorbed.last_name} (#{absorbed.pk})" in html
    assert "633000444" in html or "633 00 04 44" in html


def test_an_edit_that_writes_the_same_phone_another_way_is_not_warned_again(client, owner):
    ClientFactory(owner=owner, phone="+34612345678")
    record = ClientFactory(owner=owner, first_name="Rosa", last_name="Gil", phone="+34612345678", email="", city="")
    client.force_login(owner)
    response = client.post(reverse("clients:client_edit", args=[record.pk]), {
        "first_name": "Rosa", "last_name": "Gil", "phone": "612 34 56 78", "country": "ES", "notes": "Tardes",
    }, **EN)
    assert response.status_code == 302
