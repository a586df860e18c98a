"""Nightly recommendations (clients/recommendations.py): cross-sell and room to grow.

The suite runs on SQLite and on PostgreSQL (DATABASE_URL): the same expected rows on both.
"""

import datetime as dt
import random
import statistics
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from django.utils import translation

from clients.models import Client, Purchase, PurchaseLine, Recommendation, Status
from clients.recommendations import (
    BASKET_CAP,
    MIN_CONFIDENCE,
    MIN_PEERS,
    MIN_SUPPORT,
    ROOM_RATIO,
    TOP_PRODUCTS,
    WINDOW_DAYS,
    recommendations_recompute,
)
from clients.tests.factories import ClientFactory, ProductFactory

AS_OF = dt.date(2026, 6, 30)
RECENT = AS_OF - dt.timedelta(days=10)
CROSS_SELL = Recommendation.Kind.CROSS_SELL
ROOM_TO_GROW = Recommendation.Kind.ROOM_TO_GROW


def buy(client: Client, products, day: dt.date = RECENT, times: int = 1) -> None:
    """`times` purchases on `day`, each with one line per product."""
    for _ in range(times):
        purchase = Purchase.objects.create(client=client, date=day, amount=Decimal("10.00"))
        PurchaseLine.objects.bulk_create(
            PurchaseLine(purchase=purchase, product=product, quantity=1, unit_price=Decimal("10.00")) for product in products
        )


def rows(kind: str) -> dict[int, list[tuple]]:
    """client id → [(product id or None, score, value)] in rank order."""
    result: dict[int, list[tuple]] = defaultdict(list)
    for rec in Recommendation.objects.filter(kind=kind).order_by("client_id", "rank"):
        result[rec.client_id].append((rec.product_id, rec.score, rec.value))
    return dict(result)


def all_rows() -> list[tuple]:
    return list(
        Recommendation.objects.order_by("client_id", "kind", "rank").values_list(
            "client_id", "kind", "product_id", "score", "value", "rank", "computed_on"
        )
    )


@pytest.fixture
def shop(owner):
    """Eight buyers whose co-purchases are worked out by hand below.

    Baskets in the window: c1, c2, c3 {A, B, C, E}; c4 {A, B, D}; c5 {A, D}; c6 {A} (and C
    bought 800 days ago, outside the window); c7 {B, C}. E is an inactive product.

    clients(X): A 6, B 5, C 4, D 2, E 3. Support: AB 4, AC 3, BC 4, AD 2, BD 1, and E with
    each of A, B, C 3. Rules (support >= 3): A→B 4/6, A→C 3/6, B→A 4/5, B→C 4/5, C→A 3/4,
    C→B 4/4, and those towards E (inactive: never offered). A with D has support 2: nothing.
    """
    a, b, c, d = (ProductFactory(name=name) for name in ("A", "B", "C", "D"))
    e = ProductFactory(name="E", is_active=False)
    clients = [ClientFactory(owner=owner, first_name=f"c{n}") for n in range(1, 8)]
    c1, c2, c3, c4, c5, c6, c7 = clients
    for record in (c1, c2, c3):
        buy(record, [a, b, c, e])
    buy(c4, [a, b, d])
    buy(c5, [a, d])
    buy(c6, [a])
    buy(c6, [c], day=AS_OF - dt.timedelta(days=800))
    buy(c7, [b, c])
    return {"products": {p.name: p for p in (a, b, c, d, e)}, "clients": clients}


@pytest.mark.django_db
def test_cross_sell_worked_out_by_hand(shop):
    p = shop["products"]
    c1, c2, c3, c4, c5, c6, c7 = shop["clients"]

    counts = recommendations_recompute(as_of=AS_OF)

    assert rows(CROSS_SELL) == {
        # C through B (4/5 beats 3/6 through A).
        c4.pk: [(p["C"].pk, Decimal("0.8000"), None)],
        # B 4/6 then C 3/6; never D (support 2) nor E (inactive).
        c5.pk: [(p["B"].pk, Decimal("0.6667"), None), (p["C"].pk, Decimal("0.5000"), None)],
        # C was bought long ago: still never offered.
        c6.pk: [(p["B"].pk, Decimal("0.6667"), None)],
        # A through B (4/5) rather than through C (3/4).
        c7.pk: [(p["A"].pk, Decimal("0.8000"), None)],
    }
    assert counts == {"cross_sell": 5, "room_to_grow": 0, "rebuilt": True, "clients": None}
    assert Recommendation.objects.filter(computed_on=AS_OF).count() == 5


@pytest.mark.django_db
def test_nothing_already_bought_and_no_pair_below_the_minimum_support(shop):
    p = shop["products"]
    recommendations_recompute(as_of=AS_OF)
    offered = set(Recommendation.objects.filter(kind=CROSS_SELL).values_list("client_id", "product_id"))
    bought = set(PurchaseLine.objects.values_list("purchase__client_id", "product_id"))
    assert offered and not offered & bought
    assert not Recommendation.objects.filter(product__in=[p["D"], p["E"]]).exists()


@pytest.mark.django_db
def test_lost_clients_and_purchases_outside_the_window_are_left_out(shop):
    c1, c2, c3, c4, c5, c6, c7 = shop["clients"]
    Client.objects.filter(pk=c5.pk).update(status=Status.LOST)
    Purchase.objects.filter(client=c7).update(date=AS_OF - dt.timedelta(days=WINDOW_DAYS))
    recommendations_recompute(as_of=AS_OF)
    assert set(rows(CROSS_SELL)) == {c4.pk, c6.pk}
    # A purchase after as_of is not known yet.
    Purchase.objects.filter(client=c7).update(date=AS_OF + dt.timedelta(days=1))
    recommendations_recompute(as_of=AS_OF, full=True)
    assert set(rows(CROSS_SELL)) == {c4.pk, c6.pk}


@pytest.mark.django_db
def test_running_twice_gives_the_same_rows(shop):
    owner = shop["clients"][0].owner
    for spend in ("100.00", "200.00", "300.00", "400.00", "500.00"):
        ClientFactory(owner=owner, sector="Salud", frequency_class="habitual", spend_12m=Decimal(spend))
    first = recommendations_recompute(as_of=AS_OF)
    before = all_rows()
    second = recommendations_recompute(as_of=AS_OF)
    third = recommendations_recompute(as_of=AS_OF, full=True)
    assert first == {"cross_sell": 5, "room_to_grow": 1, "rebuilt": True, "clients": None}
    # A rebuild rewrites the cross-sell picks; a room-to-grow row only where it differs.
    assert third == {"cross_sell": 5, "room_to_grow": 0, "rebuilt": True, "clients": None}
    assert second == {"cross_sell": 0, "room_to_grow": 0, "rebuilt": False, "clients": 0}  # nothing moved
    assert all_rows() == before


def peer(owner, spend: str, sector: str = "Salud", frequency: str = "habitual", **fields) -> Client:
    return ClientFactory(owner=owner, sector=sector, frequency_class=frequency, spend_12m=Decimal(spend), **fields)


@pytest.mark.django_db
def test_room_to_grow_with_exact_medians(owner):
    # Seven peers (one lost, still a peer): the median is the 4th, 300.00.
    low = peer(owner, "149.99")
    at_half = peer(owner, "150.00")  # exactly half: not recommended
    peer(owner, "10.00", status=Status.LOST)
    for spend in ("300.00", "400.00", "1000.00", "2000.00"):
        peer(owner, spend)
    peer(owner, "0.00")  # no spend: neither a peer nor recommended
    # Six peers with a blank sector: (100.00 + 100.01) / 2 = 100.005 → 100.01 half up, so that
    # 50.00 is below half (50.005); rounded down it would be exactly half.
    lowest = peer(owner, "10.00", sector="", frequency="frequent")
    half_up = peer(owner, "50.00", sector="", frequency="frequent")
    for spend in ("100.00", "100.01", "500.00", "900.00"):
        peer(owner, spend, sector="", frequency="frequent")
    # Same sector, another frequency class; and a group of four: too small.
    peer(owner, "1.00", frequency="occasional")
    for spend in ("1.00", "500.00", "600.00", "700.00"):
        peer(owner, spend, sector="Hostelería")

    counts = recommendations_recompute(as_of=AS_OF)

    assert rows(ROOM_TO_GROW) == {
        low.pk: [(None, Decimal("0.5000"), Decimal("300.00"))],  # 1 - 149.99/300 = 0.50003
        lowest.pk: [(None, Decimal("0.9000"), Decimal("100.01"))],  # 1 - 10/100.01 = 0.90001
        half_up.pk: [(None, Decimal("0.5000"), Decimal("100.01"))],  # 1 - 50/100.01 = 0.49995 → 0.5000
    }
    assert at_half.pk not in rows(ROOM_TO_GROW)
    assert counts == {"cross_sell": 0, "room_to_grow": 3, "rebuilt": True, "clients": None}


def _typical(spends: list[Decimal]) -> Decimal:
    return Decimal(statistics.median(spends)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_room_to_grow() -> dict[int, list[tuple]]:
    """The rule of the module, in plain Python over the stored 12-month spends."""
    groups: dict[tuple, list[Decimal]] = defaultdict(list)
    clients = list(Client.objects.values("pk", "sector", "frequency_class", "spend_12m", "status"))
    for row in clients:
        if row["spend_12m"] > 0:
            groups[(row["sector"], row["frequency_class"])].append(row["spend_12m"])
    expected = {}
    for row in clients:
        spends = groups.get((row["sector"], row["frequency_class"]), [])
        if row["status"] == Status.LOST or row["spend_12m"] <= 0 or len(spends) < MIN_PEERS:
            continue
        typical = _typical(spends)
        if Fraction(row["spend_12m"]) < ROOM_RATIO * Fraction(typical):
            score = (1 - row["spend_12m"] / typical).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
            expected[row["pk"]] = [(None, score, typical)]
    return expected


@pytest.mark.django_db
def test_room_to_grow_matches_a_python_computation(owner):
    rng = random.Random(7)
    for _ in range(80):
        cents = rng.choice([0, rng.randint(1, 500), rng.randint(1, 200_000), rng.randint(1, 200_000)])
        peer(
            owner, f"{Decimal(cents) / 100:.2f}", sector=rng.choice(["", "Salud", "Industria"]),
            frequency=rng.choice(["frequent", "habitual", "occasional"]),
            status=rng.choice([Status.ACTIVE, Status.ACTIVE, Status.DORMANT, Status.LOST]),
        )
    recommendations_recompute(as_of=AS_OF)
    expected = expected_room_to_grow()
    assert expected  # the data gives some
    assert rows(ROOM_TO_GROW) == expected


def expected_cross_sell(as_of: dt.date) -> dict[int, list[tuple]]:
    """The rule of the module in plain Python, with no pruning of the candidates."""
    window_start = as_of - dt.timedelta(days=WINDOW_DAYS - 1)
    lines: dict[int, Counter] = defaultdict(Counter)
    bought: dict[int, set[int]] = defaultdict(set)
    for client_id, product_id, day in PurchaseLine.objects.values_list("purchase__client_id", "product_id", "purchase__date"):
        if day > as_of:
            continue
        bought[client_id].add(product_id)
        if day >= window_start:
            lines[client_id][product_id] += 1
    baskets = {
        client_id: set(sorted(counter, key=lambda product: (-counter[product], product))[:BASKET_CAP])
        for client_id, counter in lines.items()
    }
    holders: Counter = Counter()
    support: Counter = Counter()
    for basket in baskets.values():
        for a in basket:
            holders[a] += 1
            for b in basket - {a}:
                support[(a, b)] += 1
    active = set(PurchaseLine.objects.filter(product__is_active=True).values_list("product_id", flat=True))
    rules = {
        pair: (Fraction(count, holders[pair[0]]), count)
        for pair, count in support.items()
        if count >= MIN_SUPPORT and Fraction(count, holders[pair[0]]) >= MIN_CONFIDENCE and pair[1] in active
    }
    lost = set(Client.objects.filter(status=Status.LOST).values_list("pk", flat=True))
    expected = {}
    for client_id, basket in baskets.items():
        if client_id in lost:
            continue
        best: dict[int, tuple[Fraction, int]] = {}
        for (a, b), key in rules.items():
            if a in basket and b not in bought[client_id]:
                best[b] = max(best.get(b, key), key)
        top = sorted(best, key=lambda b: (-best[b][0], -best[b][1], b))[:TOP_PRODUCTS]
        if top:
            expected[client_id] = [
                (b, Decimal(best[b][0].numerator) / best[b][0].denominator, None) for b in top
            ]
    for picks in expected.values():
        for index, (b, score, value) in enumerate(picks):
            picks[index] = (b, score.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP), value)
    return expected


@pytest.mark.django_db
def test_cross_sell_matches_a_python_computation(owner):
    """Random histories: big buyers (over the basket cap), old purchases, inactive products, lost clients."""
    rng = random.Random(11)
    products = [ProductFactory(is_active=rng.random() > 0.1) for _ in range(26)]
    weights = [rng.random() ** 2 for _ in products]  # some products much more common than others
    purchases, chosen = [], []
    for _ in range(60):
        record = ClientFactory(owner=owner, status=rng.choice([Status.ACTIVE] * 5 + [Status.LOST]))
        size = rng.choice([1, 2, 3, 4, 6, 9, 24])
        basket = set(rng.choices(products, weights=weights, k=size))
        for product in basket:
            for _ in range(rng.randint(1, 3)):
                day = AS_OF - dt.timedelta(days=rng.choice([0, 30, 400, WINDOW_DAYS - 1, WINDOW_DAYS, 900, -5]))
                purchases.append(Purchase(client=record, date=day, amount=Decimal("1.00")))
                chosen.append(product)
    Purchase.objects.bulk_create(purchases)
    PurchaseLine.objects.bulk_create(
        PurchaseLine(purchase=purchase, product=product, quantity=1, unit_price=Decimal("1.00"))
        for purchase, product in zip(purchases, chosen, strict=True)
    )

    counts = recommendations_recompute(as_of=AS_OF)

    expected = expected_cross_sell(AS_OF)
    assert sum(len(picks) for picks in expected.values()) > 50  # the data exercises the rule
    assert any(len(picks) == TOP_PRODUCTS for picks in expected.values())
    assert rows(CROSS_SELL) == expected
    assert counts["cross_sell"] == sum(len(picks) for picks in expected.values())


@pytest.mark.django_db
def test_client_page_shows_the_recommendations_in_spanish(client, owner, shop):
    p = shop["products"]
    c5 = shop["clients"][4]
    Client.objects.filter(pk=c5.pk).update(sector="Salud", frequency_class="habitual", spend_12m=Decimal("149.99"))
    for spend in ("150.00", "300.00", "400.00", "1000.00"):
        peer(owner, spend)
    recommendations_recompute(as_of=AS_OF)
    client.force_login(owner)

    with translation.override("es"):
        response = client.get(c5.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in page
    section = page[page.index('data-testid="recommendations"'):]
    section = section[: section.index("</ul>")]
    assert section.index(f"<strong>{p['B'].name}</strong>") < section.index(f"<strong>{p['C'].name}</strong>")
    assert "67%" in section and "50%" in section
    # Spanish number format: decimal comma.
    assert "149,99" in section and "300,00" in section
