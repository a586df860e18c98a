"""What the API reads and writes, as documented in /api/openapi.json.

Input is checked in two steps: its shape here (types, lengths), then the same rules as the pages
(the pages' forms and the write services), so the API accepts exactly what a person could type.
Money is a decimal string ("12.50"), dates are ISO 8601.
"""

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from clients.models import Client, Contract, FollowUp, Interaction, Purchase

Scope = Literal["read", "write"]


class Strict(Schema):
    """Input: an unknown field is an error, not silently ignored (a typo would lose data)."""

    model_config = ConfigDict(extra="forbid")


# Clients

class ClientOut(Schema):
    id: int
    name: str = Field(..., description="As shown everywhere: 'Company (First Last)'.")
    first_name: str
    last_name: str
    company_name: str
    client_ref: str
    tax_id: str
    email: str
    phone: str
    address: str
    city: str
    region: str
    postal_code: str
    country: str
    preferred_channel: str
    contact_hours: str
    sector: str
    marital_status: str
    birth_date: dt.date | None
    economic_level: str
    interests: list[int]
    hobbies: str
    notes: str
    source: str
    buys_on_own_initiative: bool | None
    payment_method: str
    prospect_qualification: str
    temperature: str
    closed_at: dt.date | None
    close_reason: str
    owner: str = Field(..., description="The salesperson's username.")
    owner_id: int
    # Computed by the lifecycle engine, read-only.
    status: str
    status_since: dt.date | None
    volume_tier: str
    frequency_class: str
    r_score: int | None
    f_score: int | None
    m_score: int | None
    rfm_segment: str
    colour: str = Field(..., description="The colour alert: red, yellow, green or empty.")
    colour_reason: str
    icp_fit: int | None = Field(None, description="Fit with the ideal client profile, 0-100; null while none is defined.")
    first_purchase_date: dt.date | None
    last_purchase_date: dt.date | None
    purchase_count: int
    total_spent: Decimal
    spend_12m: Decimal
    average_basket: Decimal
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_name(obj: Client) -> str:
        return obj.display_name

    @staticmethod
    def resolve_country(obj: Client) -> str:
        return obj.country.code or ""

    @staticmethod
    def resolve_interests(obj: Client) -> list[int]:
        return sorted(category.pk for category in obj.interests.all())

    @staticmethod
    def resolve_owner(obj: Client) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_colour(obj: Client) -> str:
        return obj.alert

    @staticmethod
    def resolve_colour_reason(obj: Client) -> str:
        return obj.alert_text()

    @staticmethod
    def resolve_icp_fit(obj: Client) -> int | None:
        return getattr(obj, "icp_fit", None)


class ClientIn(Strict):
    """A client's own data (the owner is the token's user; the figures are computed)."""

    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    client_ref: str = ""
    tax_id: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "ES"
    preferred_channel: str = ""
    contact_hours: str = ""
    sector: str = ""
    marital_status: str = ""
    birth_date: dt.date | None = None
    economic_level: str = ""
    interests: list[int] = []
    hobbies: str = ""
    notes: str = ""
    source: str = ""
    source_detail: str = ""
    referred_by: int | None = Field(None, description="The id of the client who recommended this one.")
    buys_on_own_initiative: bool | None = None
    payment_method: str = ""
    prospect_qualification: str = ""
    temperature: str = ""
    closed_at: dt.date | None = None
    close_reason: str = ""


class ClientPatch(ClientIn):
    """Only the fields sent change; `version`, when sent, refuses the edit if someone saved since (409)."""

    country: str = ""
    version: int | None = None


# Purchases

class LineIn(Strict):
    product: int = Field(..., description="The product's id (GET /api/products).")
    quantity: Decimal = Decimal("1")
    unit_price: Decimal | None = Field(None, description="Empty: the catalogue's price.")
    discount: Decimal = Field(Decimal("0"), description="Percent off the line, 0-100.")


class PurchaseIn(Strict):
    client: int
    date: dt.date
    amount: Decimal | None = Field(None, description="Without lines, what was paid; with lines, leave it out (their sum).")
    lines: list[LineIn] = Field([], max_length=100)
    currency: str = Field("", description="ISO 4217; empty: the business currency.")
    exchange_rate: Decimal | None = None
    payment_method: str = ""
    channel: str = ""
    notes: str = Field("", max_length=255)


class PurchasePatch(Strict):
    """A correction, as on the purchase's edit page: its lines stay as recorded."""

    date: dt.date | None = None
    amount: Decimal | None = Field(None, description="What was paid, in the purchase's currency.")
    currency: str | None = None
    exchange_rate: Decimal | None = None
    payment_method: str | None = None
    channel: str | None = None
    notes: str | None = Field(None, max_length=255)


class LineOut(Schema):
    product: int = Field(..., alias="product_id")
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    total: Decimal


class PurchaseOut(Schema):
    id: int
    client: int = Field(..., alias="client_id")
    date: dt.date
    amount: Decimal = Field(..., description="In the business currency.")
    currency: str
    original_amount: Decimal | None
    exchange_rate: Decimal | None
    payment_method: str
    channel: str
    notes: str
    lines: list[LineOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_lines(obj: Purchase) -> list:
        if (lines := getattr(obj, "answer_lines", None)) is not None:  # just recorded from these
            return [
                {"product_id": line.product.pk, "quantity": line.quantity, "unit_price": line.unit_price,
                 "discount": line.discount, "total": line.total}
                for line in lines
            ]
        return list(obj.lines.all())


class BulkIn(Schema):
    purchases: list[PurchaseIn] = Field(..., min_length=1, max_length=1000)


class RowError(Schema):
    row: int = Field(..., description="The purchase's position in the list, from 0.")
    field: str
    message: str


class BulkOut(Schema):
    created: int
    rejected: int
    ids: list[int | None] = Field(..., description="Each row's new purchase id, null for a rejected row.")
    errors: list[RowError]
    clients_refreshed: int


# Interactions, follow-ups, contracts

class InteractionOut(Schema):
    id: int
    client: int = Field(..., alias="client_id")
    kind: str
    direction: str
    happened_at: dt.datetime
    user: int | None = Field(None, alias="user_id")
    summary: str
    outcome: str
    needs: str
    objections: str
    competitor_notes: str
    awaiting_reply: bool


class InteractionIn(Strict):
    client: int
    kind: str = Interaction.Kind.CALL.value
    direction: str = Interaction.Direction.OUTBOUND.value
    happened_at: dt.datetime | None = Field(None, description="Empty: now.")
    summary: str
    outcome: str = ""
    awaiting_reply: bool = False
    needs: str = ""
    objections: str = ""
    competitor_notes: str = ""
    closes_followup: int | None = Field(None, description="The pending follow-up this interaction answers.")


class FollowUpOut(Schema):
    id: int
    client: int = Field(..., alias="client_id")
    kind: str
    due_at: dt.datetime
    assigned_to: int = Field(..., alias="assigned_to_id")
    status: str
    notes: str
    origin: str
    completed_at: dt.datetime | None
    cancel_reason: str


class FollowUpIn(Strict):
    client: int
    kind: str = FollowUp.Kind.CALL.value
    due_at: dt.datetime
    notes: str = ""


class FollowUpPatch(Strict):
    """Reschedule a pending follow-up (due_at, with an optional reason) or edit its notes."""

    due_at: dt.datetime | None = None
    reason: str = ""
    notes: str | None = None


class FollowUpCancel(Strict):
    reason: str = Field(..., min_length=1)


class ContractOut(Schema):
    id: int
    client: int = Field(..., alias="client_id")
    title: str
    start_date: dt.date
    end_date: dt.date
    value: Decimal
    renewal_status: str
    notes: str
    renewed_from: int | None = Field(None, alias="renewed_from_id")
    ended_on: dt.date | None
    end_reason: str


class ContractIn(Strict):
    client: int
    title: str = Field(..., max_length=200)
    start_date: dt.date
    end_date: dt.date
    value: Decimal = Decimal("0")
    renewal_status: str = Contract.Renewal.PENDING.value
    notes: str = ""


class ContractPatch(Strict):
    title: str | None = Field(None, max_length=200)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    value: Decimal | None = None
    renewal_status: str | None = None
    notes: str | None = None


# Products, segments, status changes

class ProductOut(Schema):
    id: int
    name: str
    category: str
    price: Decimal
    is_active: bool

    @staticmethod
    def resolve_category(obj) -> str:
        return obj.category.name


class ProductIn(Strict):
    name: str = Field(..., max_length=200)
    category: int | None = Field(None, description="An existing category's id, or name a new one in new_category.")
    new_category: str = ""
    price: Decimal = Decimal("0")
    is_active: bool = True


class SegmentOut(Schema):
    id: int
    name: str
    shared: bool
    owner: str
    filters: dict[str, list[str]] = Field(..., description="The client list's filters, as GET /api/clients takes them.")

    @staticmethod
    def resolve_owner(obj) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_filters(obj) -> dict:
        return obj.params


class StatusChangeOut(Schema):
    id: int
    client: int = Field(..., alias="client_id")
    from_status: str
    to_status: str
    date: dt.date
    cause: str
    created_at: dt.datetime


# Tokens

class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: Scope
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of `item`s: the items and the cursor of the next page (null on the last one)."""
    return type(name, (Schema,), {
        "__annotations__": {"items": list[item], "next_cursor": str | None},
        "next_cursor": Field(None, description="Pass it as ?cursor= for the next page; null: this was the last."),
    })


ClientPage = page_of(ClientOut, "ClientPage")
PurchasePage = page_of(PurchaseOut, "PurchasePage")
InteractionPage = page_of(InteractionOut, "InteractionPage")
FollowUpPage = page_of(FollowUpOut, "FollowUpPage")
ContractPage = page_of(ContractOut, "ContractPage")
ProductPage = page_of(ProductOut, "ProductPage")
SegmentPage = page_of(SegmentOut, "SegmentPage")
StatusChangePage = page_of(StatusChangeOut, "StatusChangePage")
