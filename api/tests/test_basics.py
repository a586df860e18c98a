import json
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from clients.models import Purchase
from clients.tests.factories import ClientFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_a_token_sees_its_users_clients_and_a_foreign_one_is_404(api_for, owner, outsider):
    mine, theirs = ClientFactory(owner=owner), ClientFactory(owner=outsider)
    api = api_for(owner)
    response = api.get("/clients")
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["items"]] == [mine.pk]
    assert api.get(f"/clients/{mine.pk}").json()["owner"] == owner.username
    response = api.get(f"/clients/{theirs.pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_purchase_through_the_api_refreshes_the_client_and_is_audited_with_the_token(api_for, owner):
    client = ClientFactory(owner=owner)
    product = ProductFactory(price=Decimal("10.00"))
    api = api_for(owner, name="Shop till")
    today = timezone.localdate().isoformat()
    body = {"client": client.pk, "date": today, "lines": [{"product": product.pk, "quantity": "3"}]}
    response = api.post("/purchases", body)
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "30.00"
    client.refresh_from_db()
    assert client.purchase_count == 1 and client.total_spent == Decimal("30.00")
    entry = AuditEntry.objects.get(subject="purchase")
    assert entry.via == "api:Shop till" and entry.user == owner
    assert Purchase.objects.count() == 1


def test_no_token_is_401_problem(client):
    response = client.get("/api/clients")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_schema_is_valid_openapi(client, owner):
    from openapi_spec_validator import validate

    client.force_login(owner)
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    validate(response.json())
    # No key twice in one object (Swagger UI's parser refuses the document).
    json.loads(response.content, object_pairs_hook=_no_duplicates)


def _no_duplicates(pairs):
    keys = [key for key, _value in pairs]
    assert len(keys) == len(set(keys)), keys
    return dict(pairs)
