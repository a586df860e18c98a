"""The API's permission matrix: every endpoint × every persona × the owner's objects ("own") and
another team's ("other"). A token sees what its user sees: another portfolio's object is a 404,
never a 403 or a 200, for reads and writes alike. Each request runs in a savepoint rolled back
afterwards, so a write leaves the next persona the same data."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from api.tokens import token_create
from clients.tests.factories import (
    ClientFactory,
    ContractFactory,
    FollowUpFactory,
    InteractionFactory,
    ProductFactory,
    PurchaseFactory,
)
from core.tests.test_access import API_ENDPOINTS
from segmentation.models import StatusChange
from segmentation.segments import segment_create

PERSONAS = ["owner", "teammate", "manager", "other_manager", "admin_user"]
# Who sees the owner's client ("own": a comercial of the manager's team) and the outsider's ("other").
PORTFOLIO = {"own": {"owner", "manager", "admin_user"}, "other": {"other_manager", "admin_user"}}
EVERYONE = {"own": set(PERSONAS), "other": set(PERSONAS)}
CREATOR = {"own": {"owner"}, "other": set()}  # a private segment: its creator's alone (the outsider is not a persona)
# Contracts change for the owner, their gerente and an administrador (as on the pages).
TODAY = timezone.localdate()


def _objects(person, label):
    client = ClientFactory(owner=person, first_name=f"Cliente {label}")
    product = ProductFactory(name=f"Producto {label}", price=Decimal("5.00"))
    StatusChange.objects.create(client=client, from_status="", to_status="new", date=TODAY, cause="purchase")
    return {
        "client": client, "purchase": PurchaseFactory(client=client), "product": product,
        "interaction": InteractionFactory(client=client), "followup": FollowUpFactory(client=client, assigned_to=person),
        "contract": ContractFactory(client=client),
        "segment": segment_create(owner=person, name=f"Segmento {label}", shared=False, query=QueryDict("")),
    }


def _soon():
    return (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0).isoformat()


# (endpoint name, method, path, body, who may use it); the path and body from the side's objects.
CASES = [
    ("api:client_detail", "get", lambda o: f"/clients/{o['client'].pk}", None, PORTFOLIO),
    ("api:client_update", "patch", lambda o: f"/clients/{o['client'].pk}", lambda o: {"city": "Lugo"}, PORTFOLIO),
    ("api:purchase_detail", "get", lambda o: f"/purchases/{o['purchase'].pk}", None, PORTFOLIO),
    ("api:purchase_create", "post", lambda o: "/purchases",
     lambda o: {"client": o["client"].pk, "date": TODAY.isoformat(), "amount": "12.00"}, PORTFOLIO),
    ("api:purchase_update", "patch", lambda o: f"/purchases/{o['purchase'].pk}", lambda o: {"notes": "Corregida"}, PORTFOLIO),
    ("api:purchase_delete", "delete", lambda o: f"/purchases/{o['purchase'].pk}", None, PORTFOLIO),
    ("api:followup_update", "patch", lambda o: f"/follow-ups/{o['followup'].pk}", lambda o: {"notes": "Llevar muestras"}, PORTFOLIO),
    ("api:followup_cancel", "post", lambda o: f"/follow-ups/{o['followup'].pk}/cancel", lambda o: {"reason": "Ya no"}, PORTFOLIO),
    ("api:interaction_detail", "get", lambda o: f"/interactions/{o['interaction'].pk}", None, PORTFOLIO),
    ("api:interaction_create", "post", lambda o: "/interactions",
     lambda o: {"client": o["client"].pk, "summary": "Llamada"}, PORTFOLIO),
    ("api:followup_detail", "get", lambda o: f"/follow-ups/{o['followup'].pk}", None, PORTFOLIO),
    ("api:followup_create", "post", lambda o: "/follow-ups",
     lambda o: {"client": o["client"].pk, "due_at": _soon()}, PORTFOLIO),
    ("api:contract_detail", "get", lambda o: f"/contracts/{o['contract'].pk}", None, PORTFOLIO),
    ("api:contract_create", "post", lambda o: "/contracts",
     lambda o: {"client": o["client"].pk, "title": "Soporte", "start_date": TODAY.isoformat(),
                "end_date": (TODAY + dt.timedelta(days=365)).isoformat()}, PORTFOLIO),
    ("api:contract_update", "patch", lambda o: f"/contracts/{o['contract'].pk}", lambda o: {"notes": "x"}, PORTFOLIO),
    ("api:product_detail", "get", lambda o: f"/products/{o['product'].pk}", None, EVERYONE),
    ("api:segment_detail", "get", lambda o: f"/segments/{o['segment'].pk}", None, CREATOR),
    ("api:segment_members", "get", lambda o: f"/segments/{o['segment'].pk}/clients", None, CREATOR),
]
# Lists: each persona's page holds the side's object exactly when the persona may see it.
LISTS = [
    ("api:client_list", "/clients", "client", PORTFOLIO),
    ("api:purchase_list", "/purchases", "purchase", PORTFOLIO),
    ("api:interaction_list", "/interactions", "interaction", PORTFOLIO),
    ("api:followup_list", "/follow-ups", "followup", PORTFOLIO),
    ("api:contract_list", "/contracts", "contract", PORTFOLIO),
    ("api:product_list", "/products", "product", EVERYONE),
    ("api:segment_list", "/segments", "segment", CREATOR),
]
OTHERS = {"api:me", "api:status_change_list", "api:purchase_bulk", "api:client_create", "api:product_create"}  # tested below / elsewhere


def test_every_endpoint_is_in_the_matrix():
    covered = {case[0] for case in CASES} | {case[0] for case in LISTS} | OTHERS
    assert covered == API_ENDPOINTS


@pytest.fixture
def world(owner, teammate, manager, other_manager, outsider, admin_user):
    users = {"owner": owner, "teammate": teammate, "manager": manager, "other_manager": other_manager, "admin_user": admin_user}
    secrets = {name: token_create(user=user, name=f"Token {name}")[1] for name, user in users.items()}
    return {"secrets": secrets, "own": _objects(owner, "own"), "other": _objects(outsider, "other")}


def _call(client, secret, method, path, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_ACCEPT_LANGUAGE": "en"}
    if method in ("get", "delete"):
        return getattr(client, method)(f"/api{path}", **headers)
    return getattr(client, method)(f"/api{path}", body, content_type="application/json", **headers)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_each_persona_reaches_exactly_its_portfolio(client, world, case):
    name, method, path, body, who = case
    problems = []
    for side in ("own", "other"):
        objects = world[side]
        for persona in PERSONAS:
            with transaction.atomic():
                response = _call(client, world["secrets"][persona], method, path(objects), body(objects) if body else None)
                transaction.set_rollback(True)
            allowed = persona in who[side]
            ok = response.status_code in (200, 201, 204) if allowed else response.status_code == 404
            if not ok:
                problems.append(f"{method.upper()} {path(objects)} as {persona} ({side}): {response.status_code} {response.content[:200]!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("case", LISTS, ids=[case[0] for case in LISTS])
def test_each_list_holds_exactly_what_the_persona_sees(client, world, case):
    name, path, kind, who = case
    problems = []
    for persona in PERSONAS:
        response = _call(client, world["secrets"][persona], "get", f"{path}?limit=500")
        assert response.status_code == 200, response.content
        ids = {row["id"] for row in response.json()["items"]}
        for side in ("own", "other"):
            if (world[side][kind].pk in ids) != (persona in who[side]):
                problems.append(f"{path} as {persona}: {side} {kind} {'listed' if world[side][kind].pk in ids else 'missing'}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_status_changes_are_those_of_the_clients_the_persona_sees(client, world):
    for persona in PERSONAS:
        response = _call(client, world["secrets"][persona], "get", "/status-changes")
        clients = {row["client"] for row in response.json()["items"]}
        expected = {world[side]["client"].pk for side in ("own", "other") if persona in PORTFOLIO[side]}
        assert clients == expected, persona


@pytest.mark.django_db
def test_bulk_rows_of_another_portfolio_are_row_errors(client, world):
    rows = [{"client": world[side]["client"].pk, "date": TODAY.isoformat(), "amount": "3.00"} for side in ("own", "other")]
    response = _call(client, world["secrets"]["owner"], "post", "/purchases/bulk", {"purchases": rows})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"row": 1, "field": "client", "message": "No client you can see has this id."}]


@pytest.mark.django_db
def test_me_names_the_token(client, world):
    response = _call(client, world["secrets"]["teammate"], "get", "/me")
    assert response.json()["name"] == "Token teammate"


@pytest.mark.django_db
def test_products_are_added_by_gerentes_and_administradores(client, world):
    body = {"name": "Nuevo", "new_category": "Varios", "price": "9.90"}
    for persona in PERSONAS:
        with transaction.atomic():
            response = _call(client, world["secrets"][persona], "post", "/products", body)
            transaction.set_rollback(True)
        expected = 201 if persona in ("manager", "other_manager", "admin_user") else 403
        assert response.status_code == expected, (persona, response.content)
