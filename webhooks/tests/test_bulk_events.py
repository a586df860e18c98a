"""Purchases written in bulk (the API's bulk endpoint, a file import) are announced as each one
recorded by the form is: one "purchase recorded" delivery per purchase, with its client's reference."""

import datetime as dt

import pytest

from api.tests.conftest import Api
from api.tokens import token_create
from clients.models import Purchase
from clients.tests.factories import ClientFactory
from imports.tests.conftest import purchases_base  # noqa: F401 - the fixture the import file meets
from imports.tests.test_import_commands import PURCHASES_FILE, run
from webhooks import services
from webhooks.models import Delivery, Event

pytestmark = pytest.mark.django_db


def purchase_deliveries() -> dict[int, dict]:
    return {
        delivery.payload["purchase"]["id"]: delivery.payload
        for delivery in Delivery.objects.filter(event=Event.PURCHASE_RECORDED)
    }


def test_the_apis_bulk_purchases_are_announced_one_by_one(client, admin_user, owner):
    services.endpoint_create(by=admin_user, url="http://127.0.0.1:9/hook", events=[Event.PURCHASE_RECORDED])
    ana, bea = ClientFactory(owner=owner, client_ref="A-1"), ClientFactory(owner=owner, client_ref="B-2")
    _token, secret = token_create(user=owner, name="ERP", scope="write")
    today = dt.date.today().isoformat()
    rows = [{"client": ana.pk, "date": today, "amount": "10.00"}, {"client": bea.pk, "date": today, "amount": "20.00"}]
    response = Api(client, secret, _token).post("/purchases/bulk", {"purchases": rows})
    assert response.status_code == 201, response.content
    announced = purchase_deliveries()
    assert set(announced) == set(Purchase.objects.values_list("pk", flat=True))
    assert {data["client"]["ref"] for data in announced.values()} == {"A-1", "B-2"}


def test_an_imports_purchases_are_announced_one_by_one(admin_user, purchases_base):  # noqa: F811
    services.endpoint_create(by=admin_user, url="http://127.0.0.1:9/hook", events=[Event.PURCHASE_RECORDED])
    run("import_purchases", PURCHASES_FILE, "--only-valid")
    announced = purchase_deliveries()
    assert announced and set(announced) == set(Purchase.objects.values_list("pk", flat=True))
    p1 = purchases_base["p1"]
    assert {data["client"]["ref"] for data in announced.values() if data["client"]["id"] == p1.pk} == {"P-1"}
    assert all(data["purchase"]["amount"] for data in announced.values())
