"""Every list endpoint reads the database a constant number of times, however many rows its page holds."""

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import PurchaseLine
from clients.tests.factories import (
    CategoryFactory,
    ClientFactory,
    ContractFactory,
    FollowUpFactory,
    InteractionFactory,
    ProductFactory,
    PurchaseFactory,
)
from segmentation.models import StatusChange
from segmentation.segments import segment_create

pytestmark = pytest.mark.django_db

LISTS = ["/clients", "/purchases", "/interactions", "/follow-ups", "/contracts", "/products", "/segments", "/status-changes"]


def _add(owner, count):
    category = CategoryFactory()
    for number in range(count):
        client = ClientFactory(owner=owner)
        client.interests.add(category)
        purchase = PurchaseFactory(client=client)
        PurchaseLine.objects.create(purchase=purchase, product=ProductFactory(), quantity=1, unit_price=1)
        InteractionFactory(client=client)
        FollowUpFactory(client=client, assigned_to=owner)
        ContractFactory(client=client)
        StatusChange.objects.create(client=client, to_status="new", date=timezone.localdate())
        segment_create(owner=owner, name=f"S{number}-{client.pk}", shared=False, query=QueryDict(""))


def _count(api, path):
    api.get("/me")  # the token's first use notes it (one UPDATE a minute at most): not the list's
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["items"])


@pytest.mark.parametrize("path", LISTS)
def test_a_list_reads_the_same_queries_for_2_and_6_rows(api_for, manager, owner, path):
    # A gerente (the access rule's team lookup included); segments are their creator's.
    api = api_for(owner if path == "/segments" else manager)
    _add(owner, 2)
    few, rows = _count(api, path)
    _add(owner, 4)
    many, more_rows = _count(api, path)
    assert more_rows > rows
    assert many == few, f"{path}: {few} then {many} queries"


def test_segment_members_read_constant_queries(api_for, owner):
    api = api_for(owner)
    _add(owner, 2)
    segment = segment_create(owner=owner, name="All", shared=False, query=QueryDict(""))
    few, _rows = _count(api, f"/segments/{segment.pk}/clients")
    _add(owner, 3)
    many, _rows = _count(api, f"/segments/{segment.pk}/clients")
    assert many == few
