"""The REST API's endpoints (/api/…): the edge, like views, calling the same access rule, forms and
write services as the pages. Another portfolio's client, or anything hanging from it, is a 404.

Every list is a page of at most `limit` rows in id order with an opaque `cursor` (api.pagination);
every write needs a read and write token (403 otherwise) and is in the audit history with the token's
name (api.auth.in_token_context)."""

import datetime as dt
import hashlib
import json

from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Status
from ninja.openapi.docs import Swagger

from api import problems, purchases
from api.auth import TokenAuth, in_token_context, writer
from api.models import ApiToken, IdempotencyRecord
from api.pagination import page
from api.problems import Problem, invalid, not_found
from api.schemas import (
    BulkIn,
    BulkOut,
    ClientIn,
    ClientOut,
    ClientPage,
    ClientPatch,
    ContractIn,
    ContractOut,
    ContractPage,
    ContractPatch,
    FollowUpCancel,
    FollowUpIn,
    FollowUpOut,
    FollowUpPage,
    FollowUpPatch,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    ProductIn,
    ProductOut,
    ProductPage,
    PurchaseIn,
    PurchaseOut,
    PurchasePage,
    PurchasePatch,
    SegmentOut,
    SegmentPage,
    StatusChangePage,
    TokenOut,
)
from clients.catalogue import product_create as catalogue_product_create
from clients.currency import is_business
from clients.filters import ClientFilter
from clients.forms import ClientForm, FollowUpForm, InteractionForm
from clients.models import Category, Client, Contract, FollowUp, Interaction, Product, Purchase
from clients.purchase_forms import PurchaseEditForm
from clients.purchase_views import may_add_products
from segmentation import records
from segmentation.models import Segment, StatusChange
from segmentation.segments import segment_clients

MAX_KEY = 255
IDEMPOTENCY_KEEP = dt.timedelta(days=7)
PURGE_EVERY = dt.timedelta(hours=1)
_purged: dict[int, dt.datetime] = {}  # token id → when this process last purged its old answers

api = NinjaAPI(
    title="Cartera API",
    version="1",
    description=(
        "Clients, purchases, interactions, follow-ups, contracts, products, segments and status changes of the "
        "portfolio the token's user sees. Create a token on the page API tokens (My account), then send "
        "`Authorization: Bearer <token>`. Errors are problem details (RFC 9457)."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs/",
    openapi_url="/openapi.json",
)
problems.install(api)
root = Router()
root.add_decorator(in_token_context)


# Helpers

def _user(request: HttpRequest):
    return request.auth.user


def _one(rows, pk: int):
    """The row `pk` of `rows` (already narrowed by the access rule), else a 404 problem: another
    portfolio's object is not found, never forbidden."""
    found = rows.filter(pk=pk).first()
    if found is None:
        raise not_found()
    return found


def _visible_client(request: HttpRequest, pk: int) -> Client:
    return _one(Client.objects.visible_to(_user(request)).select_related("owner"), pk)


def _form_errors(form) -> list[dict]:
    return [
        {"field": "" if field == "__all__" else field, "message": error["message"]}
        for field, errors in form.errors.get_json_data().items()
        for error in errors
    ]


def _int(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    if value == "":
        return None
    if not value.isdecimal() or len(value) > 18:
        raise invalid([{"field": name, "message": _("Enter a whole number.")}])
    return int(value)


def _of_client(request: HttpRequest, queryset):
    """A list of records narrowed to ?client=<id> when given (a client the user cannot see: no rows)."""
    if (client_id := _int(request, "client")) is not None:
        queryset = queryset.filter(client_id=client_id)
    return queryset


def _filter_parameters() -> list[dict]:
    """The client list's filters as documented query parameters (ClientFilter is their one definition)."""
    params = []
    for name, declared in ClientFilter.base_filters.items():
        widget = getattr(declared.field_class, "widget", None)
        suffixes = getattr(widget, "suffixes", ()) if widget is not None else ()
        for full in [f"{name}_{suffix}" for suffix in suffixes] or [name]:
            params.append({
                "in": "query", "name": full, "required": False, "schema": {"type": "string"},
                "description": f"As the client list's filter “{name}” (repeat the parameter for several values).",
            })
    return params


def _json(status: int, body, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Me

@root.get("/me", response=TokenOut, tags=["tokens"], summary="The token in use")
def me(request: HttpRequest):
    return request.auth


# Clients

clients = Router(tags=["clients"])


@clients.get("", response=ClientPage, summary="Clients, filtered as the client list",
             openapi_extra={"parameters": _filter_parameters()})
def client_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    user = _user(request)
    filterset = ClientFilter(request.GET, queryset=Client.objects.visible_to(user), user=user)
    if not filterset.is_valid():
        raise invalid(_form_errors(filterset.form))
    return page(filterset.qs.select_related("owner").prefetch_related("interests"), cursor=cursor, limit=limit)


@clients.get("/{int:client_id}", response=ClientOut, summary="One client with its figures")
def client_detail(request: HttpRequest, client_id: int):
    return _visible_client(request, client_id)


def _client_form(request: HttpRequest, values: dict, instance: Client | None = None) -> ClientForm:
    data = {name: value for name, value in values.items() if name != "version"}
    if data.get("referred_by") is not None:
        data["referred_by"] = f"#{data['referred_by']}"
    form = ClientForm(data=data, instance=instance, user=_user(request))
    if not form.is_valid():
        raise invalid(_form_errors(form))
    return form


def _client_data(form: ClientForm) -> dict:
    return {name: form.cleaned_data[name] for name in Client.DATA_FIELDS if name != "interests" and name in form.cleaned_data}


@clients.post("", response={201: ClientOut}, summary="Create a client (owned by the token's user)")
def client_create(request: HttpRequest, payload: ClientIn):
    writer(request)
    form = _client_form(request, payload.model_dump())
    client = records.client_create(by=_user(request), data=_client_data(form), interests=form.cleaned_data["interests"])
    return Status(201, Client.objects.select_related("owner").get(pk=client.pk))


@clients.patch("/{int:client_id}", response=ClientOut, summary="Change some of a client's own data")
def client_update(request: HttpRequest, client_id: int, payload: ClientPatch):
    writer(request)
    client = _visible_client(request, client_id)
    current = model_to_dict(client, fields=[name for name in Client.DATA_FIELDS])
    current["interests"] = [category.pk for category in current.get("interests", [])]
    current["country"] = client.country.code
    changes = payload.model_dump(exclude_unset=True)
    form = _client_form(request, {**current, **changes}, instance=client)
    try:
        records.client_update(
            by=_user(request), client=client, data=_client_data(form), interests=form.cleaned_data["interests"],
            seen_version=changes.get("version"),
        )
    except records.EditConflict as conflict:
        raise Problem(
            409, _("Edit conflict"),
            _("Someone saved this client since version %(seen)d (it is now %(now)d): nothing was changed.")
            % {"seen": changes["version"], "now": conflict.current_version}, kind="edit-conflict",
        ) from None
    return Client.objects.select_related("owner").get(pk=client.pk)


# Purchases

purchase_router = Router(tags=["purchases"])


def _purchases(request: HttpRequest):
    return Purchase.objects.visible_to(_user(request)).prefetch_related("lines")


@purchase_router.get("", response=PurchasePage, summary="Purchases with their lines (?client=<id> for one client's)")
def purchase_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    return page(_of_client(request, _purchases(request)), cursor=cursor, limit=limit)


@purchase_router.get("/{int:purchase_id}", response=PurchaseOut, summary="One purchase with its lines")
def purchase_detail(request: HttpRequest, purchase_id: int):
    return _one(_purchases(request), purchase_id)


def _request_hash(request: HttpRequest) -> str:
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), request.body])).hexdigest()


def _idempotency(request: HttpRequest, token: ApiToken) -> tuple[str | None, str]:
    """The request's Idempotency-Key (checked) and its hash; answers a repeated request at once
    (raises Replay) or refuses the key reused with another body (422)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None, ""
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise invalid([{"field": "Idempotency-Key", "message": _("An Idempotency-Key has 1 to %(max)d characters.") % {"max": MAX_KEY}}])
    digest = _request_hash(request)
    if (done := IdempotencyRecord.objects.filter(token=token, key=key).first()) is not None:
        _replay(done, digest)
    return key, digest


class Replay(Exception):
    def __init__(self, response: HttpResponse):
        super().__init__()
        self.response = response


def _replay(done: IdempotencyRecord, digest: str):
    if done.request_hash != digest:
        raise Problem(
            422, _("Idempotency-Key reused"),
            _("This Idempotency-Key was sent before with another request: use a new key for a new request."),
            kind="idempotency-key-reused",
        )
    raise Replay(_json(done.status, done.response, {"Idempotent-Replayed": "true"}))


@api.exception_handler(Replay)
def _replayed(request, exc: Replay):
    return exc.response


def _remember(token: ApiToken, key: str | None, digest: str, status: int, body) -> None:
    """Keeps the answer for the key, in the transaction that wrote: both or neither. Of two
    requests with one key at once, the second waits on the unique key and then replays the first."""
    if key is None:
        return
    # The token's answers older than a week go, once an hour per token and process (a DELETE on
    # every request cost two queries of a till's POST): a purchase keeps its key for good
    # (Purchase.idempotency_key), so a key replayed later still finds it and records nothing.
    now = timezone.now()
    if now - _purged.get(token.pk, dt.datetime.min.replace(tzinfo=dt.UTC)) > PURGE_EVERY:
        IdempotencyRecord.objects.filter(token=token, created_at__lt=now - IDEMPOTENCY_KEEP).delete()
        _purged[token.pk] = now
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(token=token, key=key, request_hash=digest, status=status, response=body)
    except IntegrityError:
        done = IdempotencyRecord.objects.get(token=token, key=key)
        transaction.set_rollback(True)
        _replay(done, digest)


@purchase_router.post(
    "", response={201: PurchaseOut}, summary="Record a purchase (the client refreshes as after the form)",
    description="Send an `Idempotency-Key` header: the same key with the same body answers the first purchase again "
                "(header Idempotent-Replayed: true) and records nothing; with another body it is a 422.",
    openapi_extra={"parameters": [{"in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": MAX_KEY}}]},
)
def purchase_create(request: HttpRequest, payload: PurchaseIn):
    token = writer(request)
    key, digest = _idempotency(request, token)
    client = _visible_client(request, payload.client)
    checked = purchases.check_one(client=client, data=payload)
    if checked.errors:
        raise invalid(checked.errors)
    with transaction.atomic():
        # The key as the purchase keeps it (unique): a second request racing this one finds it.
        service_key = f"api:{token.pk}:{hashlib.sha256(key.encode()).hexdigest()[:60]}" if key else None
        purchase, recorded_now = purchases.record_one(by=_user(request), checked=checked, idempotency_key=service_key)
        if recorded_now:
            purchase.answer_lines = checked.lines  # its lines are those sent: no need to read them back
        else:  # the same key's purchase, recorded by a request that raced this one
            purchase = Purchase.objects.prefetch_related("lines").get(pk=purchase.pk)
        body = PurchaseOut.from_orm(purchase).model_dump(mode="json", by_alias=False)
        _remember(token, key, digest, 201, body)
    return _json(201, body)


@purchase_router.post(
    "/bulk", response={201: BulkOut, 422: BulkOut}, summary="Record up to 1,000 purchases at once",
    description="All or nothing: one row in error and nothing is recorded (422, with each row's errors). With "
                "`?partial=true` the valid rows are recorded and the others listed. The clients touched are refreshed "
                "once, together. Honours `Idempotency-Key` as a single purchase does.",
    openapi_extra={
        "parameters": [{"in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": MAX_KEY}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BulkIn"}}}},
    },
)
def purchase_bulk(request: HttpRequest, partial: bool = False):
    token = writer(request)
    key, digest = _idempotency(request, token)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        body = None
    rows = body.get("purchases") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows or len(rows) > purchases.MAX_BULK:
        raise invalid([{"field": "purchases", "message": _("Send a list of 1 to %(max)d purchases.") % {"max": purchases.MAX_BULK}}])
    checked, errors = purchases.bulk_check(user=_user(request), rows=rows)
    if errors and not partial:
        result = purchases.BulkResult(0, [None] * len(rows), errors, 0).as_dict()
        return _json(422, {**result, "rejected": len({error["row"] for error in errors})})
    with transaction.atomic():
        result = purchases.bulk_record(by=_user(request), checked=checked)
        result.errors = errors
        status = 201 if result.created else 422
        answer = result.as_dict()
        _remember(token, key, digest, status, answer)
    return _json(status, answer)


@purchase_router.patch("/{int:purchase_id}", response=PurchaseOut, summary="Correct a purchase (its lines stay as recorded)")
def purchase_update(request: HttpRequest, purchase_id: int, payload: PurchasePatch):
    writer(request)
    purchase = _one(_purchases(request), purchase_id)
    current = model_to_dict(purchase, fields=["date", "amount", "currency", "exchange_rate", "payment_method", "channel", "notes"])
    if purchase.original_amount is not None:
        current["amount"] = purchase.original_amount  # as paid, in its currency (the edit page's rule)
    if is_business(purchase.currency):
        current["exchange_rate"] = None
    changes = payload.model_dump(exclude_unset=True)
    form = PurchaseEditForm(data={**current, **{k: "" if v is None else v for k, v in changes.items()}}, instance=purchase)
    if not form.is_valid():
        raise invalid(_form_errors(form))
    records.purchase_correct(purchase=purchase, by=_user(request), **form.cleaned_data)
    return _purchases(request).get(pk=purchase.pk)


@purchase_router.delete("/{int:purchase_id}", response={204: None}, summary="Delete a purchase recorded by mistake")
def purchase_delete(request: HttpRequest, purchase_id: int):
    writer(request)
    purchase = _one(_purchases(request), purchase_id)
    records.purchase_delete(purchase=purchase, by=_user(request))
    return Status(204, None)


# Interactions

interaction_router = Router(tags=["interactions"])


@interaction_router.get("", response=InteractionPage, summary="Interactions (?client=<id> for one client's)")
def interaction_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    return page(_of_client(request, Interaction.objects.visible_to(_user(request))), cursor=cursor, limit=limit)


@interaction_router.get("/{int:interaction_id}", response=InteractionOut, summary="One interaction")
def interaction_detail(request: HttpRequest, interaction_id: int):
    return _one(Interaction.objects.visible_to(_user(request)), interaction_id)


@interaction_router.post("", response={201: InteractionOut}, summary="Record an interaction (it may close a pending follow-up)")
def interaction_create(request: HttpRequest, payload: InteractionIn):
    writer(request)
    client = _visible_client(request, payload.client)
    closes = None
    if payload.closes_followup is not None:
        closes = client.followups.filter(pk=payload.closes_followup).first()
        if closes is None:
            raise invalid([{"field": "closes_followup", "message": _("This client has no such follow-up.")}])
    data = payload.model_dump(exclude={"client", "closes_followup"})
    data["happened_at"] = data["happened_at"] or timezone.now().replace(microsecond=0)
    form = InteractionForm(data=data)
    if not form.is_valid():
        raise invalid(_form_errors(form))
    interaction, _next = records.interaction_record(client=client, by=_user(request), interaction=form.instance, closes=closes)
    return Status(201, interaction)


# Follow-ups

followup_router = Router(tags=["follow-ups"])


@followup_router.get("", response=FollowUpPage, summary="Follow-ups (?client=<id>, ?status=pending|done|cancelled|on_hold)")
def followup_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None, status: str | None = None):
    rows = _of_client(request, FollowUp.objects.visible_to(_user(request)))
    if status:
        if status not in FollowUp.State.values:
            raise invalid([{"field": "status", "message": _("Select a valid choice. That choice is not one of the available choices.")}])
        rows = rows.filter(status=status)
    return page(rows, cursor=cursor, limit=limit)


@followup_router.get("/{int:followup_id}", response=FollowUpOut, summary="One follow-up")
def followup_detail(request: HttpRequest, followup_id: int):
    return _one(FollowUp.objects.visible_to(_user(request)), followup_id)


@followup_router.post("", response={201: FollowUpOut}, summary="Schedule a follow-up")
def followup_create(request: HttpRequest, payload: FollowUpIn):
    writer(request)
    client = _visible_client(request, payload.client)
    due = timezone.localtime(payload.due_at) if timezone.is_aware(payload.due_at) else payload.due_at
    form = FollowUpForm(data={"kind": payload.kind, "due_date": due.date(), "due_time": due.time(), "notes": payload.notes})
    if not form.is_valid():
        errors = [{**error, "field": "due_at" if error["field"] in ("due_date", "due_time") else error["field"]} for error in _form_errors(form)]
        raise invalid(errors)
    followup = records.followup_schedule(
        client=client, by=_user(request), kind=form.cleaned_data["kind"], due_at=form.due_at, notes=form.cleaned_data["notes"],
    )
    return Status(201, followup)


def _visible_followup(request: HttpRequest, pk: int) -> FollowUp:
    return _one(FollowUp.objects.visible_to(_user(request)), pk)


@followup_router.patch("/{int:followup_id}", response=FollowUpOut, summary="Reschedule a pending follow-up or edit its notes")
def followup_update(request: HttpRequest, followup_id: int, payload: FollowUpPatch):
    writer(request)
    followup = _visible_followup(request, followup_id)
    with transaction.atomic():
        if payload.due_at is not None:
            if payload.due_at < timezone.now():
                raise invalid([{"field": "due_at", "message": _("A follow-up cannot be scheduled in the past.")}])
            followup = records.followup_reschedule(followup=followup, by=_user(request), due_at=payload.due_at, reason=payload.reason)
        if payload.notes is not None:
            followup = records.followup_note_update(followup=followup, by=_user(request), notes=payload.notes)
    return FollowUp.objects.get(pk=followup.pk)


@followup_router.post("/{int:followup_id}/cancel", response=FollowUpOut, summary="Cancel a pending follow-up, saying why")
def followup_cancel(request: HttpRequest, followup_id: int, payload: FollowUpCancel):
    writer(request)
    followup = _visible_followup(request, followup_id)
    return records.followup_cancel(followup=followup, by=_user(request), reason=payload.reason)


# Contracts

contract_router = Router(tags=["contracts"])


def _visible_contract(request: HttpRequest, pk: int) -> Contract:
    return _one(Contract.objects.visible_to(_user(request)).select_related("client"), pk)


@contract_router.get("", response=ContractPage, summary="Contracts (?client=<id> for one client's)")
def contract_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    return page(_of_client(request, Contract.objects.visible_to(_user(request))), cursor=cursor, limit=limit)


@contract_router.get("/{int:contract_id}", response=ContractOut, summary="One contract")
def contract_detail(request: HttpRequest, contract_id: int):
    return _visible_contract(request, contract_id)


@contract_router.post("", response={201: ContractOut}, summary="Create a contract (the client's owner, their gerente or an administrador)")
def contract_create(request: HttpRequest, payload: ContractIn):
    writer(request)
    client = _visible_client(request, payload.client)
    contract = records.contract_create(client=client, by=_user(request), **payload.model_dump(exclude={"client"}))
    return Status(201, contract)


@contract_router.patch("/{int:contract_id}", response=ContractOut, summary="Change a contract")
def contract_update(request: HttpRequest, contract_id: int, payload: ContractPatch):
    writer(request)
    contract = _visible_contract(request, contract_id)
    changes = {name: value for name, value in payload.model_dump(exclude_unset=True).items() if value is not None}
    return records.contract_update(contract=contract, by=_user(request), **changes)


# Products

product_router = Router(tags=["products"])


@product_router.get("", response=ProductPage, summary="The catalogue (?active=true for the products on sale)")
def product_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None, active: bool | None = None):
    rows = Product.objects.select_related("category")
    if active is not None:
        rows = rows.filter(is_active=active)
    return page(rows, cursor=cursor, limit=limit)


@product_router.post("", response={201: ProductOut}, summary="Add a product to the catalogue (gerentes and administradores)")
def product_create(request: HttpRequest, payload: ProductIn):
    writer(request)
    if not may_add_products(_user(request)):
        raise Problem(403, _("Not allowed"), _("You may not do this."), kind="forbidden")
    category = None
    if payload.category is not None:
        category = Category.objects.filter(pk=payload.category).first()
        if category is None:
            raise invalid([{"field": "category", "message": _("Select a valid choice. That choice is not one of the available choices.")}])
    product = catalogue_product_create(
        name=payload.name, price=payload.price, category=category, new_category=payload.new_category, is_active=payload.is_active,
    )
    return Status(201, Product.objects.select_related("category").get(pk=product.pk))


@product_router.get("/{int:product_id}", response=ProductOut, summary="One product")
def product_detail(request: HttpRequest, product_id: int):
    return _one(Product.objects.select_related("category"), product_id)


# Segments

segment_router = Router(tags=["segments"])


def _visible_segment(request: HttpRequest, pk: int) -> Segment:
    return _one(Segment.objects.visible_to(_user(request)).select_related("owner"), pk)


@segment_router.get("", response=SegmentPage, summary="The user's segments and the shared ones")
def segment_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    return page(Segment.objects.visible_to(_user(request)).select_related("owner"), cursor=cursor, limit=limit)


@segment_router.get("/{int:segment_id}", response=SegmentOut, summary="One segment")
def segment_detail(request: HttpRequest, segment_id: int):
    return _visible_segment(request, segment_id)


@segment_router.get("/{int:segment_id}/clients", response=ClientPage, summary="The segment's clients the user sees, now")
def segment_members(request: HttpRequest, segment_id: int, cursor: str | None = None, limit: int | None = None):
    segment = _visible_segment(request, segment_id)
    members = segment_clients(user=_user(request), segment=segment).select_related("owner").prefetch_related("interests")
    return page(members, cursor=cursor, limit=limit)


# Status changes

status_router = Router(tags=["status changes"])


@status_router.get(
    "", response=StatusChangePage, summary="Status changes of the user's clients, oldest first",
    description="Follow them: keep the last `next_cursor` (or the last page's) and ask again later with it; "
                "a page with no next_cursor is the end for now, ask with the cursor of its last item's page.",
)
def status_change_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    user = _user(request)
    rows = _of_client(request, StatusChange.objects.filter(client__in=Client.objects.visible_to(user)))
    return page(rows, cursor=cursor, limit=limit)


root.add_router("/clients", clients)
root.add_router("/purchases", purchase_router)
root.add_router("/interactions", interaction_router)
root.add_router("/follow-ups", followup_router)
root.add_router("/contracts", contract_router)
root.add_router("/products", product_router)
root.add_router("/segments", segment_router)
root.add_router("/status-changes", status_router)
api.add_router("", root)


_schema = api.get_openapi_schema


def _with_problem(*, path_prefix: str | None = None, path_params=None):
    """The schema, with the problem details every error answers with (the paths under /api/, which
    has no page of its own)."""
    if path_prefix is None:
        path_prefix = reverse("api:openapi-json").removesuffix("openapi.json")
    schema = _schema(path_prefix=path_prefix, path_params=path_params)
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
        "type": "object", "title": "Problem",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "instance": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "message": {"type": "string"}}}},
        },
        "required": ["title", "status"],
    }
    problem = {"content": {problems.CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    answers = {
        "401": "No valid token", "403": "A read-only token writing, or not allowed", "404": "Not found, or not yours to see",
        "422": "Invalid input: each field's message in errors", "429": "Too many requests: see Retry-After",
    }
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method not in ("get", "post", "patch", "put", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, text in answers.items():
                if status == "403" and method == "get":  # only writes need a read and write token
                    continue
                if status not in responses and int(status) not in responses:  # ninja's own keys are ints
                    responses[status] = {"description": text, **problem}
    bulk = BulkIn.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in bulk.pop("$defs", {}).items():
        schema["components"]["schemas"].setdefault(name, definition)
    schema["components"]["schemas"].setdefault("BulkIn", bulk)
    return schema


api.get_openapi_schema = _with_problem
