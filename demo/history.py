"""What happened with a demo client over three years: purchases (some itemised), interactions,
the follow-ups they carried out or left pending, and contracts up for renewal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from clients.models import Contract, FollowUp, Interaction
from demo.markets import FX_TO, RATE_SCALE, Market
from demo.people import Staff
from demo.rows import Batch
from demo.sampling import Draws, Weighted
from demo.vocabulary import (
    BASKET_CENTS,
    COMPETITORS,
    CONTRACT_TITLES,
    FOLLOWUP_NOTES,
    FREQUENT,
    HABITUAL,
    INTERACTIONS,
    NEEDS,
    NEVER,
    OBJECTIONS,
    ONE_OFF,
    PURCHASE_NOTES,
)

HISTORY_DAYS = 3 * 365
SPREAD_SIZE = 4_096


@dataclass
class ClientContext:
    client_id: int
    owner: Staff
    market: Market
    is_company: bool
    level: str
    interests: list[int]
    payment: str
    days: list[int]
    closed_at: int | None
    known_since: int
    rhythm: str
    temperature: str


class HistoryDraws(Draws):
    """Part of `demo.clients.Generator`, which sets the clock, the catalogue and the choice tables."""

    today: int
    first_day: int
    now_minute: int
    at: Callable[[int, int], dt.datetime]
    future_at: Callable[[int, int], dt.datetime]
    next_id: dict[str, int]
    day_rates: dict[str, list[int]]  # currency → its rate (× RATE_SCALE) on each day from rates_base on
    rates_base: int
    products: list[tuple[int, str, int]]
    products_by_category: dict[int, tuple[tuple[int, str, int], ...]]
    bulk_products: set[int]
    category_ids: list[int]
    category_names: dict[int, str]
    spread: list[float]
    sales_person: Weighted
    sales_company: Weighted
    pay_person: Weighted
    pay_company: Weighted
    interaction_kinds: Weighted
    followup_kinds: Weighted

    def _purchase_days(self, rhythm: str) -> list[int]:
        r = self.rng
        if rhythm == NEVER:
            return []
        if rhythm == ONE_OFF:
            return [self.first_day + self.below(HISTORY_DAYS)]
        if rhythm == FREQUENT:  # every 1-4 weeks
            gap, end = 7 + 21 * r.random() ** 0.5, self.today
            start = self.first_day + int(r.random() * (HISTORY_DAYS - 7))
        elif rhythm == HABITUAL:  # every 1-3 months
            gap, end = 30 + 60 * r.random() ** 0.5, self.today
            start = self.first_day + int(r.random() * (HISTORY_DAYS - 30))
        else:  # lapsed: bought for a while, stopped 4-18 months ago
            gap, end = 14 + r.random() * 60, self.today - 120 - self.below(420)
            start = max(self.first_day, end - 60 - self.below(640))
        days = []
        day = start
        while day <= end:
            days.append(day)
            day += max(1, int(gap * (0.5 + r.random())))
        return days

    def _purchases(self, c: ClientContext, batch: Batch) -> None:
        # The hottest loop (ten purchases per client): locals only, one random() per decision.
        rand, one = self.rand, self.one
        fx = FX_TO[c.market.currency]
        # In another currency: what was paid, converted at the month's rate (half up, in integers).
        rates, base = self.day_rates.get(c.market.currency), self.rates_base
        basket = BASKET_CENTS[c.level] * (3 if c.is_company else 1) * fx * (0.6 + rand() * 0.8)
        channels = self.sales_company if c.is_company else self.sales_person
        payments = self.pay_company if c.is_company else self.pay_person
        products, bulk, spread = self.products, self.bulk_products, self.spread
        favourites = [p for cid in c.interests for p in self.products_by_category[cid]] or products
        today, now_minute, currency, payment = self.today, self.now_minute, c.market.currency, c.payment
        client_id, owner_id = c.client_id, c.owner.id
        add_purchase, add_line = batch.purchases.append, batch.lines.append
        usual_channel = channels.pick(self.rng)  # people mostly buy the same way
        purchase_id = self.next_id["purchase"]
        for day in c.days:
            for _ in range(2 if rand() < 0.07 else 1):  # several purchases on one day, sometimes
                minute = 540 + int(rand() * 660)
                if day == today and minute > now_minute:
                    minute = now_minute
                if rand() < 0.2:  # itemised: the amount is the sum of its lines
                    cents = 0
                    for _ in range(1 + int(rand() * 3)):
                        product_id, _, price = one(favourites) if rand() < 0.7 else one(products)
                        quantity = 1 + int(rand() * (12 if product_id in bulk else 2))
                        unit = int(price * fx * (0.85 + rand() * 0.15))
                        add_line((purchase_id, product_id, quantity, unit))
                        cents += quantity * unit
                else:
                    cents = int(basket * spread[int(rand() * SPREAD_SIZE)])
                channel = usual_channel if rand() < 0.75 else channels.pick(self.rng)
                rate = rates[day - base] if rates else RATE_SCALE
                add_purchase((
                    purchase_id, client_id, day, (cents * rate + RATE_SCALE // 2) // RATE_SCALE if rates else cents, currency,
                    payment if rand() < 0.8 else payments.pick(self.rng), channel,
                    one(PURCHASE_NOTES) if rand() < 0.03 else "",
                    None if channel == "web" or rand() < 0.3 else owner_id, minute, cents, rate,
                ))
                purchase_id += 1
        self.next_id["purchase"] = purchase_id

    def _interactions(self, c: ClientContext, batch: Batch) -> None:
        r = self.rng
        if c.rhythm == FREQUENT:
            count = self.below(1, 7)
        elif c.rhythm in (HABITUAL, NEVER):
            count = self.below(0, 5)
        else:
            count = self.below(0, 3)
        begin = max(c.known_since, self.first_day)
        end = c.closed_at or self.today
        product = self.products[self.below(len(self.products))][1]
        category = self._category_name(c.interests)
        last_when = None
        for _ in range(count):
            # Recent contact is denser than old contact.
            span = end - begin
            day = end - int(span * r.random() ** 2) if span > 0 else end
            kind = self.interaction_kinds.pick(r)
            text, outcomes = self.one(INTERACTIONS[kind])
            outcome = self.one(outcomes)
            when = self.at(day, 540 + int(r.random() * 600))
            interaction_id = self._take_id("interaction")
            user_id = c.owner.manager_id if r.random() < 0.1 else c.owner.id
            batch.interactions.append({
                "id": interaction_id, "client_id": c.client_id, "kind": kind,
                "direction": Interaction.Direction.INBOUND if r.random() < 0.25 else Interaction.Direction.OUTBOUND,
                "happened_at": when, "user_id": user_id,
                "summary": text.format(product=product, category=category.lower()),
                "outcome": outcome,
                "needs": self.one(NEEDS) if r.random() < 0.2 else "",
                "objections": self.one(OBJECTIONS) if r.random() < 0.15 else "",
                "competitor_notes": self.one(COMPETITORS) if r.random() < 0.1 else "",
                "awaiting_reply": (outcome in ("offer_sent", "interested") and self.today - day <= 21 and r.random() < 0.6),
            })
            if last_when is None or when > last_when:
                last_when = when
            # A planned action that this interaction carried out.
            if kind in (Interaction.Kind.CALL, Interaction.Kind.VISIT, Interaction.Kind.MEETING) and r.random() < 0.35:
                due = when - dt.timedelta(hours=self.below(0, 48))
                batch.followups.append({
                    "client_id": c.client_id, "kind": kind, "due_at": due, "assigned_to_id": user_id,
                    "status": FollowUp.State.DONE, "notes": "", "closed_by_id": interaction_id,
                    "completed_at": when, "created_by_id": user_id,
                    "created_at": due - dt.timedelta(days=self.below(1, 15)),
                })
        self._pending_followup(c, batch, product, category, last_when)

    def _pending_followup(self, c: ClientContext, batch: Batch, product: str, category: str, last_when) -> None:
        r = self.rng
        if c.closed_at:
            return
        if c.rhythm == NEVER:
            chance = {"hot": 0.8, "warm": 0.45}.get(c.temperature, 0.1)
        elif c.rhythm in (FREQUENT, HABITUAL):
            chance = 0.35
        else:
            chance = 0.12
        if r.random() < 0.03:
            cancelled_day = self.today - self.below(1, 120)
            batch.followups.append(self._followup(c, cancelled_day, FollowUp.State.CANCELLED, product, category))
        if r.random() >= chance:
            return
        bucket = r.random()
        if bucket < 0.3:
            day = self.today - self.below(1, 21)  # overdue
        elif bucket < 0.5:
            day = self.today  # today
        elif bucket < 0.85:
            day = self.today + self.below(1, 8)  # this week
        else:
            day = self.today + self.below(8, 31)
        batch.followups.append(self._followup(c, day, FollowUp.State.PENDING, product, category, last_when))

    def _followup(self, c: ClientContext, day: int, state: str, product: str, category: str, scheduled_at=None) -> dict:
        r = self.rng
        due = self.future_at(day, 540 + 30 * self.below(20))
        created = scheduled_at or self.at(min(day, self.today) - self.below(1, 20), 540 + self.below(600))
        if created > due:
            created = due - dt.timedelta(days=1)
        return {
            "client_id": c.client_id, "kind": self.followup_kinds.pick(r), "due_at": due,
            "assigned_to_id": c.owner.id, "status": state,
            "notes": self.one(FOLLOWUP_NOTES).format(product=product, category=category.lower()),
            "closed_by_id": None, "completed_at": None, "created_by_id": c.owner.id, "created_at": created,
        }

    def _contracts(self, c: ClientContext, batch: Batch) -> None:
        r = self.rng
        if c.rhythm not in (FREQUENT, HABITUAL) or r.random() >= (0.45 if c.is_company else 0.2):
            return
        value = int(BASKET_CENTS[c.level] * (4 + r.random() * 20)) / 100  # in euros, as the dashboards add it
        title = self.one(CONTRACT_TITLES)
        bucket = r.random()
        if bucket < 0.3:
            end = self.today + self.below(0, 31)  # the renewal portfolio
            renewal = Contract.Renewal.PENDING if r.random() < 0.75 else Contract.Renewal.IN_NEGOTIATION
        elif bucket < 0.8:
            end = self.today + self.below(31, 330)
            renewal = Contract.Renewal.PENDING
        else:  # ended: renewed into a current one, or let go
            end = self.today - self.below(1, 300)
            renewal = Contract.Renewal.RENEWED if r.random() < 0.6 else Contract.Renewal.NOT_RENEWING
            if renewal == Contract.Renewal.RENEWED:
                batch.contracts.append(self._contract(c, title, end + 1, end + 365, value, Contract.Renewal.PENDING))
        batch.contracts.append(self._contract(c, title, end - 364, end, value, renewal))

    def _contract(self, c: ClientContext, title: str, start: int, end: int, value: float, renewal: str) -> dict:
        start_date = dt.date.fromordinal(start)
        return {
            "client_id": c.client_id, "title": f"{title} {start_date.year}", "start_date": start_date,
            "end_date": dt.date.fromordinal(end), "value": Decimal(f"{value:.2f}"), "renewal_status": renewal,
            "notes": "",
        }

    def _category_name(self, interests: list[int]) -> str:
        return self.category_names[interests[0] if interests else self.category_ids[0]]
