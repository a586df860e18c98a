"""Each page runs a constant number of queries, whatever the size of the portfolio."""

import pytest
from django.urls import reverse

from clients.tests.factories import (
    ClientFactory,
    ContractFactory,
    FollowUpFactory,
    InteractionFactory,
    ProductFactory,
    PurchaseFactory,
)


def fill(owner, size: int):
    clients = ClientFactory.create_batch(size, owner=owner)
    for record in clients:
        for purchase in PurchaseFactory.create_batch(2, client=record):
            purchase.lines.create(product=ProductFactory(), quantity=1, unit_price=purchase.amount)
        InteractionFactory(client=record, user=owner)
        FollowUpFactory(client=record)
        ContractFactory(client=record)
    return clients


# session, user, the user's groups (roles); client pages add the clients shared with the user
# (the access rule), then their own queries.
SESSION = 3
BASE = SESSION + 1


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_client_list_queries_do_not_grow(client, django_assert_num_queries, manager, owner, size):
    fill(owner, size)
    client.force_login(manager)
    # + the manager's team members (access rule), the page of clients, salespeople for the owner
    # filter, categories for the interests filter, salespeople for the reassign form.
    # No COUNT(*): the paginator is lazy.
    with django_assert_num_queries(BASE + 5):
        response = client.get(reverse("clients:client_list"), {"status": "prospect", "sort": "-spend_12m"})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 10])
def test_client_page_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    record = fill(owner, 1)[0]
    PurchaseFactory.create_batch(size, client=record)
    InteractionFactory.create_batch(size, client=record, user=owner)
    client.force_login(owner)
    # client, purchases, their lines, the lines' products, interactions, follow-ups, status changes,
    # contracts, interests, recommendations (with their products, one join), consents, the
    # colleagues it is shared with and those it could be shared with (the owner may share), the
    # access rule's terms again and the clients it referred (issue 18), the ideal profile (its
    # threshold: the fit card and the probable suggestion).
    with django_assert_num_queries(BASE + 16):
        response = client.get(record.get_absolute_url())
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_agenda_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    fill(owner, size)
    client.force_login(owner)
    # the counts per section; the follow-ups with their clients of each section that has any
    # (fill() books them all for tomorrow: one section).
    with django_assert_num_queries(SESSION + 2):
        response = client.get(reverse("clients:agenda"))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 10])
def test_follow_up_completion_form_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    from clients.tests.factories import FollowUpFactory

    record = fill(owner, 1)[0]
    InteractionFactory.create_batch(size, client=record, user=owner)
    followup = FollowUpFactory(client=record)
    client.force_login(owner)
    # + the follow-up with its client (through the access rule).
    with django_assert_num_queries(BASE + 1):
        response = client.get(reverse("clients:followup_complete", args=[followup.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
