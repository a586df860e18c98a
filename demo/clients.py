"""The demo's client generator: one block of clients at a time, each client with its history.

Clients are generated in blocks (`demo.blocks`), each from its own `random.Random(f"{seed}:{block}")`
plus Faker pools seeded from the seed: the same seed gives the same business, whether blocks are
built in a thread of this process or in worker processes. Places come from `demo.markets`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from types import SimpleNamespace

from clients.identifiers import tax_id_normal
from clients.models import Channel, Client, PaymentMethod, Purchase
from clients.phones import e164
from demo.catalogue import BULK_CATEGORIES
from demo.history import HISTORY_DAYS, SPREAD_SIZE, ClientContext, HistoryDraws
from demo.identity import IdentityDraws
from demo.markets import MARKETS, Market, Place, day_rates
from demo.people import Staff
from demo.rows import Batch
from demo.sampling import Clock, Pools, Weighted
from demo.vocabulary import (
    CLIENT_NOTES,
    COMPANY_PATTERNS,
    CONTACT_HOURS,
    FOLLOWUP_KIND_WEIGHTS,
    HOBBIES,
    INTERACTION_KIND_WEIGHTS,
    LAPSED,
    NEVER,
    PUBLIC_SECTOR,
    RHYTHMS,
    SECTORS,
)


@dataclass(frozen=True)
class Setup:
    """Everything a generator needs; picklable, so that worker processes can build their own."""

    seed: int
    now: dt.datetime
    time_zone: str
    staff: tuple[Staff, ...]
    categories: tuple[tuple[int, str, tuple[tuple[int, str, int], ...]], ...]  # (id, name, products)


@dataclass(frozen=True, slots=True)
class Sketch:
    """The first draws for a client, which decide the rest: where, who, what kind of buyer, whose."""

    market: Market
    pool: SimpleNamespace
    place: Place
    is_company: bool
    first_name: str
    last_name: str
    company_name: str
    brand: str
    sector: str
    level: str
    rhythm: str
    owner: Staff


class Generator(IdentityDraws, HistoryDraws):
    """Rows for one block of clients, from a random stream of its own (the seed and the block number).

    Ids in a block start at 0 (clients, purchases, interactions); the writer shifts them. So blocks
    are independent: worker processes can build them in any order and the data stays the same.
    """

    def __init__(self, setup: Setup):
        shared = random.Random(setup.seed)  # what all blocks share; drawn from in this order
        self.seed = setup.seed
        self.pools = Pools(setup.seed)
        self._init_clock(Clock(setup.now, setup.time_zone))
        self._init_owners(shared, setup.staff)
        self._init_catalogue(setup.categories)
        self._init_history_choices(shared)
        self._init_client_choices()

    def _init_clock(self, clock: Clock) -> None:
        self.clock = clock
        self.today = clock.today
        self.first_day = self.today - HISTORY_DAYS + 1
        self.day_rates, self.rates_base = day_rates(self.first_day, self.today)
        self.now = clock.now
        self.now_minute = clock.now_minute
        self.at = clock.at
        self.future_at = clock.future_at

    def _init_owners(self, shared: random.Random, staff: tuple[Staff, ...]) -> None:
        # Some portfolios are bigger than others; clients mostly go to someone who speaks their language.
        weights = [(person, 0.7 + shared.random() * 0.6) for person in staff]
        self.owner_any = Weighted(weights)
        self.owner_by_language = {
            language: Weighted([(p, w) for p, w in weights if p.language == language])
            for language in sorted({person.language for person in staff})
        }

    def _init_catalogue(self, categories: tuple) -> None:
        self.categories = categories  # (id, name, [(product id, name, price cents)])
        self.category_ids = [category_id for category_id, _, _ in categories]
        self.category_names = {category_id: name for category_id, name, _ in categories}
        self.products = [product for _, _, products in categories for product in products]
        self.products_by_category = {category_id: products for category_id, _, products in categories}
        self.bulk_products = {p[0] for _, name, ps in categories if name in BULK_CATEGORIES for p in ps}

    def _init_history_choices(self, shared: random.Random) -> None:
        # Basket spread around each client's typical amount (lognormal), drawn once: cheaper per purchase.
        self.spread = [shared.lognormvariate(0, 0.5) for _ in range(SPREAD_SIZE)]
        self.pay_person = Weighted([(PaymentMethod.CARD, 55), (PaymentMethod.CASH, 20), (PaymentMethod.TRANSFER, 15),
                                    (PaymentMethod.FINANCING, 5), (PaymentMethod.OTHER, 5)])
        self.pay_company = Weighted([(PaymentMethod.TRANSFER, 50), (PaymentMethod.DIRECT_DEBIT, 30),
                                     (PaymentMethod.CARD, 15), (PaymentMethod.FINANCING, 5)])
        self.sales_person = Weighted([(Purchase.SalesChannel.STORE, 45), (Purchase.SalesChannel.WEB, 25),
                                      (Purchase.SalesChannel.PHONE, 20), (Purchase.SalesChannel.VISIT, 10)])
        self.sales_company = Weighted([(Purchase.SalesChannel.VISIT, 30), (Purchase.SalesChannel.PHONE, 25),
                                       (Purchase.SalesChannel.EMAIL, 20), (Purchase.SalesChannel.WEB, 20),
                                       (Purchase.SalesChannel.STORE, 5)])
        self.interaction_kinds = Weighted(INTERACTION_KIND_WEIGHTS)
        self.followup_kinds = Weighted(FOLLOWUP_KIND_WEIGHTS)

    def _init_client_choices(self) -> None:
        self.slugs: dict[str, str] = {}
        self.markets = Weighted([(market, market.weight) for market in MARKETS])
        self.places = {m.locale: Weighted([(p, p.weight) for p in m.places]) for m in MARKETS}
        self.sectors = Weighted(SECTORS)
        self.rhythms = Weighted(RHYTHMS)
        self.levels_person = Weighted([("low", 25), ("medium", 45), ("high", 22), ("very_high", 8)])
        self.levels_company = Weighted([("low", 8), ("medium", 37), ("high", 35), ("very_high", 20)])
        self.sources = Weighted([
            (Client.Source.REFERRAL, 22), (Client.Source.WEB, 20), (Client.Source.CAMPAIGN, 15),
            (Client.Source.WALK_IN, 15), (Client.Source.NETWORKING, 12), (Client.Source.EVENT, 10),
            (Client.Source.OTHER, 6),
        ])
        self.channels = {
            "es": Weighted([(Channel.PHONE, 40), (Channel.EMAIL, 30), (Channel.VISIT, 15), (Channel.WHATSAPP, 15)]),
            "pt": Weighted([(Channel.PHONE, 25), (Channel.EMAIL, 25), (Channel.VISIT, 10), (Channel.WHATSAPP, 40)]),
        }
        self.temperatures = Weighted([(Client.Temperature.HOT, 2), (Client.Temperature.WARM, 4),
                                      (Client.Temperature.COLD, 4)])
        self.close_reasons = Client.CloseReason.values
        self.qualifications = Client.Qualification.values
        self.marital = Weighted([(Client.MaritalStatus.MARRIED, 45), (Client.MaritalStatus.SINGLE, 30),
                                 (Client.MaritalStatus.PARTNER, 12), (Client.MaritalStatus.DIVORCED, 9),
                                 (Client.MaritalStatus.WIDOWED, 4)])

    def _take_id(self, name: str) -> int:
        value = self.next_id[name]
        self.next_id[name] = value + 1
        return value

    # -- one batch ----------------------------------------------------------------------------

    def block(self, number: int, start: int, count: int) -> Batch:
        """Clients start … start + count - 1 (block `number`), with everything hanging from them."""
        self.rng = random.Random(f"{self.seed}:{number}")
        self.rand = self.rng.random
        self.next_id = {"client": 0, "purchase": 0, "interaction": 0}
        batch = Batch()
        for index in range(start, start + count):
            self.client(index, batch)
        return batch

    def client(self, index: int, batch: Batch) -> None:
        """One client and everything hanging from it. The draws' order is the data: keep it."""
        r = self.rng
        client_id = self._take_id("client")
        sketch = self._sketch()
        days = self._purchase_days(sketch.rhythm)
        closed_at, close_reason = self._closing(sketch.rhythm, days)
        known_since = self._known_since(days, closed_at)
        # The record starts a little before anything happened with the client.
        created_at = self.at(known_since, 540 + self.below(600))
        values = {
            "id": client_id,
            "first_name": sketch.first_name,
            "last_name": sketch.last_name,
            "company_name": sketch.company_name,
            **self._contact_fields(index, sketch),
            **self._profile_fields(sketch, days),
            "prospect_qualification": "",
            "temperature": "",
            "closed_at": dt.date.fromordinal(closed_at) if closed_at else None,
            "close_reason": close_reason or "",
            "owner_id": sketch.owner.id,
            "created_at": created_at,
            "updated_at": self.now,
        }
        if not days and not closed_at and r.random() < 0.9:
            values["prospect_qualification"] = self.one(self.qualifications)
            values["temperature"] = self.temperatures.pick(r)
        _add_search_keys(values)
        batch.clients.append(values)

        interests = r.sample(self.category_ids, min(len(self.category_ids), self.below(1, 4))) if r.random() < 0.85 else []
        batch.interests.extend((client_id, category_id) for category_id in interests)
        context = ClientContext(client_id, sketch.owner, sketch.market, sketch.is_company, sketch.level, interests,
                                values["payment_method"], days, closed_at, known_since, sketch.rhythm,
                                values["temperature"])
        self._purchases(context, batch)
        self._interactions(context, batch)
        self._contracts(context, batch)

    def _sketch(self) -> Sketch:
        r = self.rng
        market: Market = self.markets.pick(r)
        pool = self.pools.by_locale[market.locale]
        place: Place = self.places[market.locale].pick(r)
        is_company = r.random() < 0.3
        female = r.random() < 0.5
        first_name = self.one(pool.female if female else pool.male)
        surname = self.one(pool.surnames)
        last_name = f"{surname} {self.one(pool.surnames)}" if r.random() < 0.65 else surname
        sector = self.sectors.pick(r)
        company_name = brand = ""
        if is_company:
            pattern = self.one(COMPANY_PATTERNS[market.language][sector])
            company_name = brand = pattern.format(surname=self.one(pool.surnames), city=place.city)
            if sector != PUBLIC_SECTOR and "{surname}" in pattern:
                company_name = f"{brand} {self.one(market.company_suffixes)}"
            if r.random() < 0.15:  # a company recorded without a contact person
                first_name = last_name = ""
        level = (self.levels_company if is_company else self.levels_person).pick(r)
        rhythm = self.rhythms.pick(r)
        return Sketch(market, pool, place, is_company, first_name, last_name, company_name, brand, sector, level,
                      rhythm, owner=self._owner(market.language))

    def _owner(self, language: str) -> Staff:
        pick = self.owner_by_language.get(language)
        if pick is not None and self.rng.random() < 0.8:
            return pick.pick(self.rng)
        return self.owner_any.pick(self.rng)

    def _closing(self, rhythm: str, days: list[int]) -> tuple[int | None, str | None]:
        """The day a client was closed (as an ordinal) and why, or (None, None)."""
        r = self.rng
        if rhythm == LAPSED and r.random() < 0.15:
            return min(self.today, days[-1] + 30 + self.below(120)), self.one(self.close_reasons)
        if rhythm == NEVER and r.random() < 0.05:
            reasons = [Client.CloseReason.NO_NEED, Client.CloseReason.PRICE, Client.CloseReason.OTHER]
            return self.today - self.below(1, 300), self.one(reasons)
        return None, None

    def _known_since(self, days: list[int], closed_at: int | None) -> int:
        known_since = (days[0] if days else self.today - self.below(HISTORY_DAYS)) - self.below(45)
        known_since = max(known_since, self.first_day - 60)
        if closed_at is not None:
            known_since = min(known_since, closed_at - 30)
        return known_since

    def _contact_fields(self, index: int, sketch: Sketch) -> dict:
        r, market, place = self.rng, sketch.market, sketch.place
        email = self._email(sketch.first_name, sketch.last_name, sketch.brand, market) if r.random() < 0.85 else ""
        phone = self._phone(market, place) if r.random() < 0.92 else ""
        tax_id = self._tax_id(market, sketch.is_company) if sketch.is_company or r.random() < 0.2 else ""
        return {
            "client_ref": f"ERP-{index + 1:06d}" if r.random() < 0.10 else "",
            # Stored as the form and the imports store them (a test checks that every one is valid).
            "tax_id": tax_id_normal(tax_id, market.country) or tax_id,
            "email": email,
            "phone": e164(phone, market.country) or phone,
            "address": self.one(sketch.pool.streets),
            "city": place.city,
            "region": place.region,
            "postal_code": self._postal_code(market, place),
            "country": market.country,
        }

    def _profile_fields(self, sketch: Sketch, days: list[int]) -> dict:
        r, language, is_company = self.rng, sketch.market.language, sketch.is_company
        return {
            "preferred_channel": self.channels[language].pick(r) if r.random() < 0.8 else "",
            "contact_hours": self.one(CONTACT_HOURS[language]) if r.random() < 0.4 else "",
            "sector": sketch.sector,
            "marital_status": self.marital.pick(r) if not is_company and r.random() < 0.7 else "",
            "birth_date": (dt.date.fromordinal(self.today - 365 * 22 - self.below(365 * 53))
                           if not is_company and r.random() < 0.7 else None),
            "economic_level": sketch.level,
            "hobbies": ", ".join(r.sample(HOBBIES[language], self.below(1, 3))) if not is_company and r.random() < 0.4 else "",
            "notes": self.one(CLIENT_NOTES) if r.random() < 0.3 else "",
            "source": self.sources.pick(r),
            "buys_on_own_initiative": (r.random() < 0.6) if days and r.random() < 0.7 else None,
            "payment_method": (self.pay_company if is_company else self.pay_person).pick(r) if days else "",
        }


def _add_search_keys(values: dict) -> None:
    """The same keys Client.save() writes (and the e-mail as it stores it)."""
    stand_in = SimpleNamespace(**values)
    Client.refresh_search_fields(stand_in)
    values.update(
        search_text=stand_in.search_text, sort_name=stand_in.sort_name, phone_key=stand_in.phone_key,
        tax_key=stand_in.tax_key, email=stand_in.email,
    )
