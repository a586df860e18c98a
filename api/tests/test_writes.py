"""Idempotent purchases, the bulk endpoint's rules, problem details in the user's language."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from api import endpoints
from api.models import IdempotencyRecord
from audit.models import AuditEntry
from clients.models import Client, Purchase, PurchaseLine
from clients.tests.factories import ClientFactory, ProductFactory
from segmentation.models import StatusChange

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate().isoformat()


def _purchase(client, amount="10.00", **more):
    return {"client": client.pk, "date": TODAY, "amount": amount, **more}


# Idempotency-Key

def test_the_same_key_and_body_answers_the_first_purchase_again(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    first = api.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="till-42")
    again = api.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="till-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Purchase.objects.count() == 1
    client.refresh_from_db()
    assert client.purchase_count == 1


def test_the_same_key_with_another_body_is_a_422_and_records_nothing(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    api.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="k1")
    response = api.post("/purchases", _purchase(client, "99.00"), HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 422
    assert response.json()["type"].endswith("idempotency-key-reused")
    assert Purchase.objects.count() == 1


def test_a_key_belongs_to_its_token(api_for, owner):
    """Two tills of one user using the same key are two purchases."""
    client = ClientFactory(owner=owner)
    one, two = api_for(owner, name="Till 1"), api_for(owner, name="Till 2")
    assert one.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="1").status_code == 201
    assert two.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="1").status_code == 201
    assert Purchase.objects.count() == 2


def test_a_refused_purchase_keeps_no_key(api_for, owner):
    """An error is not remembered: the corrected request with the same key is recorded."""
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert api.post("/purchases", {**_purchase(client), "date": future}, HTTP_IDEMPOTENCY_KEY="k").status_code == 422
    assert not IdempotencyRecord.objects.exists()


def test_without_a_key_two_posts_are_two_purchases(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    api.post("/purchases", _purchase(client))
    api.post("/purchases", _purchase(client))
    assert Purchase.objects.count() == 2


# Problem details

def test_bad_input_names_the_field_in_the_users_language(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = api.post("/purchases", {**_purchase(client), "date": future})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert {"field": "date", "message": "A purchase cannot be dated in the future."} in response.json()["errors"]
    # A missing field, in Spanish: Django's own message, translated already.
    response = api.post("/purchases", {"client": client.pk}, HTTP_ACCEPT_LANGUAGE="es")
    assert {"field": "date", "message": "Este campo es obligatorio."} in response.json()["errors"]


def test_without_accept_language_the_users_language_speaks(client, owner):
    from api.tokens import token_create

    owner.language = "pt-br"
    owner.save(update_fields=["language"])
    _token, secret = token_create(user=owner, name="x")
    response = client.post("/api/purchases", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert {"field": "client", "message": "Este campo é obrigatório."} in response.json()["errors"]


def test_a_client_created_through_the_api_goes_through_the_forms_rules(api_for, owner):
    api = api_for(owner)
    response = api.post("/clients", {"email": "x@example.com"})
    assert response.status_code == 422
    assert {"field": "", "message": "Give the client a name or a company name."} in response.json()["errors"]
    response = api.post("/clients", {"company_name": "Acme", "city": "Vigo"})
    assert response.status_code == 201, response.content
    created = Client.objects.get(pk=response.json()["id"])
    assert created.owner == owner and created.status == "prospect"
    assert AuditEntry.objects.get(client=created, action="create").via == "api:Till"


def test_a_client_patch_changes_only_what_is_sent_and_refuses_a_stale_version(api_for, owner):
    client = ClientFactory(owner=owner, city="Vigo", company_name="Acme")
    api = api_for(owner)
    response = api.patch(f"/clients/{client.pk}", {"sector": "Retail"})
    assert response.status_code == 200, response.content
    assert response.json()["city"] == "Vigo" and response.json()["sector"] == "Retail"
    response = api.patch(f"/clients/{client.pk}", {"sector": "Food", "version": 0})
    assert response.status_code == 409
    assert Client.objects.get(pk=client.pk).sector == "Retail"


def test_a_cursor_walks_every_page_once(api_for, owner):
    made = {ClientFactory(owner=owner).pk for _ in range(5)}
    api = api_for(owner)
    seen, cursor = [], None
    while True:
        data = api.get("/clients", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["id"] for row in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made)
    assert api.get("/clients", {"cursor": "garbage!"}).status_code == 422


def test_the_client_list_takes_the_list_filters(api_for, owner):
    vigo = ClientFactory(owner=owner, city="Vigo")
    ClientFactory(owner=owner, city="Lugo")
    api = api_for(owner)
    assert [row["id"] for row in api.get("/clients", {"city": "vigo"}).json()["items"]] == [vigo.pk]
    response = api.get("/clients", {"status": "nonsense"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"


# Bulk

def test_bulk_is_all_or_nothing_with_each_rows_errors(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    rows = [_purchase(client), _purchase(client, "-1"), {"client": client.pk, "date": "yesterday", "amount": "1"}]
    response = api.post("/purchases/bulk", {"purchases": rows})
    assert response.status_code == 422
    body = response.json()
    assert body["created"] == 0 and body["rejected"] == 2
    assert {(error["row"], error["field"]) for error in body["errors"]} == {(1, "amount"), (2, "date")}
    assert not Purchase.objects.exists()


def test_bulk_partial_records_the_valid_rows_and_refreshes_their_clients_once(api_for, owner):
    ana, bea = ClientFactory(owner=owner), ClientFactory(owner=owner)
    product = ProductFactory(price=Decimal("4.00"))
    api = api_for(owner, name="ERP")
    rows = [
        _purchase(ana, "10.00"),
        {"client": bea.pk, "date": TODAY, "lines": [{"product": product.pk, "quantity": "2"}]},
        _purchase(ana, "-5"),
        {"client": ana.pk, "date": TODAY, "lines": [{"product": 999999}]},
    ]
    response = api.post("/purchases/bulk?partial=true", {"purchases": rows})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 2 and body["rejected"] == 2 and body["clients_refreshed"] == 2
    assert body["ids"][2] is None and body["ids"][3] is None
    assert {error["field"] for error in body["errors"]} == {"amount", "lines.0.product"}
    ana.refresh_from_db()
    bea.refresh_from_db()
    assert (ana.purchase_count, ana.total_spent, ana.status) == (1, Decimal("10.00"), "new")
    assert (bea.purchase_count, bea.total_spent) == (1, Decimal("8.00"))
    assert PurchaseLine.objects.get().purchase_id == body["ids"][1]
    assert set(AuditEntry.objects.filter(subject="purchase").values_list("via", flat=True)) == {"api:ERP"}
    assert StatusChange.objects.filter(client__in=[ana, bea], to_status="new").count() == 2


def test_bulk_takes_at_most_a_thousand(api_for, owner):
    client = ClientFactory(owner=owner)
    response = api_for(owner).post("/purchases/bulk", {"purchases": [_purchase(client)] * 1001})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "purchases"


def test_bulk_honours_the_idempotency_key(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    body = {"purchases": [_purchase(client), _purchase(client, "2.00")]}
    first = api.post("/purchases/bulk", body, HTTP_IDEMPOTENCY_KEY="batch-7")
    again = api.post("/purchases/bulk", body, HTTP_IDEMPOTENCY_KEY="batch-7")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Purchase.objects.count() == 2


def test_bulk_checks_the_clients_total_across_its_own_rows(api_for, owner):
    client = ClientFactory(owner=owner)
    big = "9999999999.00"  # a purchase's most; a client's figures hold a hundred of them
    response = api_for(owner).post("/purchases/bulk", {"purchases": [_purchase(client, big)] * 101})
    assert response.status_code == 422
    assert [error["row"] for error in response.json()["errors"]] == [100]


def test_the_clients_history_names_the_token(api_for, client, owner, manager):
    customer = ClientFactory(owner=owner)
    api_for(owner, name="Caja 2").post("/purchases", _purchase(customer))
    client.force_login(manager)  # the history is shown to gerentes and administradores
    page = client.get(f"/clients/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "through the API token “Caja 2”" in page


def test_a_key_older_than_its_answer_still_records_nothing(api_for, owner):
    """The answers are kept a week; the purchase keeps its key for good, so a late retry finds it."""
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    first = api.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(days=8))
    api.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="other")  # within the hour: kept
    assert IdempotencyRecord.objects.filter(key="old").exists()
    endpoints._purged.clear()  # an hour later
    api.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="another")  # clears the old answers
    assert not IdempotencyRecord.objects.filter(key="old").exists()
    again = api.post("/purchases", _purchase(client), HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Purchase.objects.count() == 3


def test_a_purchase_corrected_and_deleted_through_the_api_refreshes_its_client(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner)
    created = api.post("/purchases", _purchase(client, "10.00")).json()
    response = api.patch(f"/purchases/{created['id']}", {"amount": "25.00", "notes": "Ticket 7"})
    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "25.00" and response.json()["notes"] == "Ticket 7"
    client.refresh_from_db()
    assert client.total_spent == Decimal("25.00")
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = api.patch(f"/purchases/{created['id']}", {"date": future})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "date"
    assert api.delete(f"/purchases/{created['id']}").status_code == 204
    client.refresh_from_db()
    assert client.purchase_count == 0
    assert set(AuditEntry.objects.filter(subject="purchase").values_list("action", "via")) == {
        ("create", "api:Till"), ("update", "api:Till"), ("delete", "api:Till"),
    }


def test_a_follow_up_rescheduled_then_cancelled(api_for, owner):
    from clients.models import FollowUp

    client = ClientFactory(owner=owner)
    api = api_for(owner)
    soon = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    created = api.post("/follow-ups", {"client": client.pk, "due_at": soon.isoformat(), "kind": "visit"})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    later = soon + dt.timedelta(days=3)
    response = api.patch(f"/follow-ups/{pk}", {"due_at": later.isoformat(), "reason": "Vacaciones"})
    assert response.status_code == 200, response.content
    assert FollowUp.objects.get(pk=pk).due_at == later
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert api.patch(f"/follow-ups/{pk}", {"due_at": past}).status_code == 422
    assert api.post(f"/follow-ups/{pk}/cancel", {"reason": "Ya compró"}).json()["status"] == "cancelled"
    again = api.post(f"/follow-ups/{pk}/cancel", {"reason": "Otra vez"})
    assert again.status_code == 422
    assert again.json()["errors"] == [{"field": "", "message": "This follow-up is no longer pending."}]
