"""Orders with many lines (issue 14): the lines and their discounts, the one rounding rule, the
limits of the columns and of a client's figures, the one-time token against double submissions,
the product catalogue and the products offered as you type."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEntry
from clients.models import AMOUNT_MAX, CLIENT_TOTAL_MAX, Category, Product, Purchase, PurchaseLine
from clients.tests.factories import CategoryFactory, ClientFactory, ProductFactory, PurchaseFactory
from segmentation import records
from segmentation.models import LifecycleSettings
from segmentation.services import lifecycle_refresh_client

TODAY = timezone.localdate


def lines_payload(*lines, **extra) -> dict:
    """The purchase form's POST: the lines as the formset sends them, then the other fields."""
    data = {
        "date": TODAY().isoformat(), "currency": "EUR",
        "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0",
    }
    for index, line in enumerate(lines):
        data.update({f"lines-{index}-{name}": value for name, value in line.items()})
    data.update(extra)
    return data


def english(client) -> None:
    client.post(reverse("set_language"), {"language": "en"})


# The service: lines, discounts, the rounding rule


@pytest.mark.django_db
def test_the_amount_is_the_sum_of_the_lines_each_rounded_half_up(owner):
    record = ClientFactory(owner=owner)
    coffee, tea = ProductFactory(name="Café", price=Decimal("19.99")), ProductFactory(name="Té")
    lines = [
        records.line_for(product=coffee, quantity=Decimal("1"), discount=Decimal("15")),  # 16.9915 → 16.99
        records.line_for(product=tea, quantity=Decimal("0.5"), unit_price=Decimal("0.05")),  # 0.025 → 0.03
        records.line_for(product=tea, quantity=Decimal("0.5"), unit_price=Decimal("0.05")),  # 0.025 → 0.03
    ]
    purchase = records.purchase_record(client=record, by=owner, date=TODAY(), lines=lines)
    # Rounded line by line: 16.99 + 0.03 + 0.03, not round(16.9915 + 0.05) = 17.04.
    assert purchase.amount == Decimal("17.05")
    stored = list(purchase.lines.order_by("pk"))
    assert [(line.discount, line.total) for line in stored] == [
        (Decimal("15.00"), Decimal("16.99")), (Decimal("0.00"), Decimal("0.03")), (Decimal("0.00"), Decimal("0.03")),
    ]
    assert stored[0].unit_price == Decimal("19.99")  # the list price, when none is given
    record.refresh_from_db()
    assert record.total_spent == Decimal("17.05")


@pytest.mark.django_db
def test_the_audit_entry_lists_the_lines_with_their_discount(owner):
    record = ClientFactory(owner=owner)
    coffee = ProductFactory(name="Café molido", price=Decimal("10.00"))
    line = records.line_for(product=coffee, quantity=Decimal("3"), discount=Decimal("5"))
    purchase = records.purchase_record(client=record, by=owner, date=TODAY(), lines=[line])
    entry = AuditEntry.objects.get(subject="purchase", object_id=purchase.pk)
    assert entry.changes["items"] == ["", "3 × Café molido @ 10.00 -5% = 28.50"]
    assert entry.changes["amount"] == ["", "28.50"]


def test_a_line_known_by_its_amount_keeps_its_discount():
    product = Product(name="X", price=Decimal("99"))
    line = records.line_for(product=product, quantity=Decimal("2"), amount=Decimal("18"), discount=Decimal("10"))
    assert (line.unit_price, line.total) == (Decimal("10.00"), Decimal("18.00"))
    assert PurchaseLine.unit_price_for(Decimal("5"), Decimal("1"), Decimal("100")) == Decimal("0")


# The service: limits


@pytest.fixture
def in_english():
    """The services refuse in the active language: these tests read their messages in English."""
    with translation.override("en"):
        yield


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("quantity", "unit_price", "discount", "message"),
    [
        (Decimal("10000000"), Decimal("1"), Decimal("0"), "Line 1"),  # 8 digits before the mark: the column holds 7
        (Decimal("1"), Decimal("10000000000"), Decimal("0"), "Line 1"),  # unit price beyond 12 digits / 2
        (Decimal("9999999"), Decimal("9999999999"), Decimal("0"), "a purchase holds at most"),  # the line's total
        (Decimal("1"), Decimal("1"), Decimal("101"), "Line 1"),
        (Decimal("0.0001"), Decimal("1"), Decimal("0"), "Line 1"),  # 4 decimals
    ],
)
def test_lines_beyond_their_columns_are_refused_and_nothing_is_written(in_english, owner, quantity, unit_price, discount, message):
    record = ClientFactory(owner=owner)
    line = records.LineData(product=ProductFactory(), quantity=quantity, unit_price=unit_price, discount=discount)
    with pytest.raises(ValidationError) as refused:
        records.purchase_record(client=record, by=owner, date=TODAY(), lines=[line])
    assert any(message in text for text in refused.value.messages)
    assert not Purchase.objects.exists() and not PurchaseLine.objects.exists()


@pytest.mark.django_db
def test_a_purchase_that_would_overflow_the_clients_figures_is_refused(in_english, owner):
    record = ClientFactory(owner=owner)
    PurchaseFactory.create_batch(100, client=record, amount=AMOUNT_MAX)  # 999,999,999,999.00 in all
    with pytest.raises(ValidationError, match="figures hold"):
        records.purchase_record(client=record, by=owner, date=TODAY(), amount=Decimal("1.00"))
    records.purchase_record(client=record, by=owner, date=TODAY(), amount=Decimal("0.99"))  # exactly the limit
    record.refresh_from_db()
    assert record.total_spent == CLIENT_TOTAL_MAX


@pytest.mark.django_db
def test_correcting_a_purchase_past_the_clients_figures_is_refused(in_english, owner):
    record = ClientFactory(owner=owner)
    PurchaseFactory.create_batch(100, client=record, amount=AMOUNT_MAX)  # 999,999,999,999.00
    purchase = PurchaseFactory(client=record, amount=Decimal("0.50"))
    with pytest.raises(ValidationError, match="figures hold"):
        records.purchase_correct(purchase=purchase, by=owner, amount=Decimal("1"))
    purchase.refresh_from_db()
    assert purchase.amount == Decimal("0.50")
    records.purchase_correct(purchase=purchase, by=owner, amount=Decimal("0.99"))  # exactly the limit


# The service: one purchase per token


@pytest.mark.django_db
def test_the_same_key_twice_records_one_purchase(owner):
    record = ClientFactory(owner=owner)
    first = records.purchase_record(client=record, by=owner, date=TODAY(), amount=Decimal("10"), idempotency_key="k" * 32)
    with pytest.raises(records.AlreadyRecorded) as again:
        records.purchase_record(client=record, by=owner, date=TODAY(), amount=Decimal("10"), idempotency_key="k" * 32)
    assert again.value.purchase == first
    assert Purchase.objects.count() == 1
    assert AuditEntry.objects.filter(subject="purchase").count() == 1


@pytest.mark.django_db
def test_a_key_committed_meanwhile_is_found_through_the_unique_constraint(owner, monkeypatch):
    """Two submissions at once both pass the first look-up; the database's unique constraint
    refuses the second insert, which then finds the first purchase (inside a savepoint)."""
    record = ClientFactory(owner=owner)
    first = PurchaseFactory(client=record, idempotency_key="r" * 32)
    real = records._purchase_for_key
    looks = []

    def late(key):
        looks.append(key)
        return None if len(looks) == 1 else real(key)

    monkeypatch.setattr(records, "_purchase_for_key", late)
    with pytest.raises(records.AlreadyRecorded) as again:
        records.purchase_record(client=record, by=owner, date=TODAY(), amount=Decimal("10"), idempotency_key="r" * 32)
    assert again.value.purchase == first
    assert Purchase.objects.count() == 1


# The purchase form


@pytest.mark.django_db
def test_the_form_records_three_lines_with_a_discount(client, owner):
    record = ClientFactory(owner=owner)
    a, b, c = (ProductFactory(name=name, price=price) for name, price in
               [("Café", Decimal("12.50")), ("Té verde", Decimal("4.00")), ("Taza", Decimal("7.99"))])
    client.force_login(owner)
    payload = lines_payload(
        {"product": "Café", "quantity": "2", "unit_price": "12.50"},
        {"product": "té verde", "quantity": "3", "discount": "10"},  # any case; the list price when left empty
        {"product": "Taza", "quantity": "1", "unit_price": "7.99", "discount": "12.5"},
        channel="visit",
    )
    response = client.post(reverse("clients:purchase_create", args=[record.pk]), payload)
    assert response.status_code == 302
    purchase = Purchase.objects.get()
    # 25.00 + 10.80 + 6.99 (6.99125 rounded)
    assert purchase.amount == Decimal("42.79")
    assert sorted((line.product_id, line.total) for line in purchase.lines.all()) == sorted(
        [(a.pk, Decimal("25.00")), (b.pk, Decimal("10.80")), (c.pk, Decimal("6.99"))]
    )
    assert purchase.created_by == owner
    assert "3 × Té verde (−10%)" in client.get(record.get_absolute_url()).content.decode()  # the timeline


@pytest.mark.django_db
def test_a_purchase_without_lines_takes_the_typed_amount_and_removed_lines_are_ignored(client, owner):
    record = ClientFactory(owner=owner)
    ProductFactory(name="Café")
    client.force_login(owner)
    payload = lines_payload({"product": "Café", "quantity": "2", "DELETE": "on"}, {"quantity": "1", "discount": "0"}, amount="80")
    assert client.post(reverse("clients:purchase_create", args=[record.pk]), payload).status_code == 302
    purchase = Purchase.objects.get()
    assert (purchase.amount, purchase.lines.count()) == (Decimal("80.00"), 0)


@pytest.mark.django_db
def test_an_inactive_or_unknown_product_is_a_line_error(client, owner):
    record = ClientFactory(owner=owner)
    ProductFactory(name="Retirado", is_active=False)
    client.force_login(owner)
    english(client)
    for name in ("Retirado", "No existe"):
        response = client.post(reverse("clients:purchase_create", args=[record.pk]), lines_payload({"product": name, "quantity": "1"}))
        assert response.status_code == 200
        assert "No active product has this name" in response.content.decode()
    assert not Purchase.objects.exists()


LIMITS = [
    ({"amount": "10000000000"}, "digits before the decimal point"),  # 11 digits before the mark
    ({"amount": "1e20"}, "digits"),
    ({"line": {"product": "Café", "quantity": "10000000"}}, "less than or equal to 9999999.999"),
    ({"line": {"product": "Café", "quantity": "1e20"}}, "less than or equal to"),
    ({"line": {"product": "Café", "quantity": "1", "unit_price": "10000000000"}}, "less than or equal to 9999999999.99"),
    ({"line": {"product": "Café", "quantity": "9999999", "unit_price": "9999999999"}}, "a purchase holds at most"),
    ({"line": {"product": "Café", "quantity": "1", "discount": "150"}}, "less than or equal to 100"),
    ({"line": {"product": "Café", "quantity": "0"}}, "greater than or equal to 0.001"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("data", "message"), LIMITS)
def test_each_limit_is_a_form_error_not_a_500(client, owner, data, message):
    record = ClientFactory(owner=owner)
    ProductFactory(name="Café", price=Decimal("1"))
    client.force_login(owner)
    english(client)
    lines = [data.pop("line")] if "line" in data else []
    response = client.post(reverse("clients:purchase_create", args=[record.pk]), lines_payload(*lines, **data))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Purchase.objects.exists()


@pytest.mark.django_db
def test_several_lines_adding_up_past_a_purchase_are_a_form_error(client, owner):
    record = ClientFactory(owner=owner)
    ProductFactory(name="Máquina", price=Decimal("6000000000"))
    client.force_login(owner)
    english(client)
    line = {"product": "Máquina", "quantity": "1"}
    response = client.post(reverse("clients:purchase_create", args=[record.pk]), lines_payload(line, line))
    assert response.status_code == 200
    assert "a purchase holds at most 9,999,999,999.99" in response.content.decode()
    assert not Purchase.objects.exists()


@pytest.mark.django_db
def test_a_purchase_overflowing_the_clients_figures_is_a_form_error(client, owner):
    record = ClientFactory(owner=owner)
    PurchaseFactory.create_batch(100, client=record, amount=AMOUNT_MAX)
    client.force_login(owner)
    english(client)
    response = client.post(reverse("clients:purchase_create", args=[record.pk]), lines_payload(amount="5"))
    assert response.status_code == 200
    assert "a client&#x27;s figures hold" in response.content.decode()
    assert Purchase.objects.count() == 100


@pytest.mark.django_db
def test_a_huge_quantity_no_longer_breaks_the_client_page(client, owner):
    """Regression: a quantity beyond its column (a product at 0.01 times 10,000,000,000) used to be
    stored by SQLite, after which every visit to the client page answered 500 (the decimal converter
    cannot read it back) until the purchase was deleted; on PostgreSQL it was a 500 at once."""
    record = ClientFactory(owner=owner)
    ProductFactory(name="Clavo", price=Decimal("0.01"))
    client.force_login(owner)
    english(client)
    response = client.post(
        reverse("clients:purchase_create", args=[record.pk]), lines_payload({"product": "Clavo", "quantity": "10000000000"})
    )
    assert response.status_code == 200
    assert "less than or equal to 9999999.999" in response.content.decode()
    assert not PurchaseLine.objects.exists()
    assert client.get(record.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_correcting_past_the_clients_figures_is_a_form_error(client, owner):
    record = ClientFactory(owner=owner)
    PurchaseFactory.create_batch(100, client=record, amount=AMOUNT_MAX)
    purchase = PurchaseFactory(client=record, amount=Decimal("0.50"))
    client.force_login(owner)
    english(client)
    response = client.post(
        reverse("clients:purchase_edit", args=[record.pk, purchase.pk]),
        {"date": purchase.date.isoformat(), "amount": "2", "currency": "EUR"},
    )
    assert response.status_code == 200
    assert "figures hold" in response.content.decode()
    purchase.refresh_from_db()
    assert purchase.amount == Decimal("0.50")


def _token(response) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', response.content.decode()).group(1)


@pytest.mark.django_db
def test_the_same_form_sent_twice_records_one_purchase(client, owner):
    record = ClientFactory(owner=owner)
    ProductFactory(name="Café", price=Decimal("3"))
    client.force_login(owner)
    english(client)
    url = reverse("clients:purchase_create", args=[record.pk])
    payload = lines_payload({"product": "Café", "quantity": "2"}, token=_token(client.get(url)))
    first = client.post(url, payload)
    second = client.post(url, payload, follow=True)
    assert first.status_code == 302 and first["Location"] == record.get_absolute_url()
    assert second.redirect_chain == [(record.get_absolute_url(), 302)]
    assert "already been recorded" in second.content.decode()
    assert Purchase.objects.count() == 1
    # A new form is a new token: a second, real purchase goes in.
    assert client.post(url, {**payload, "token": _token(client.get(url))}).status_code == 302
    assert Purchase.objects.count() == 2


# The catalogue


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["owner", "teammate"])
def test_a_comercial_cannot_use_the_catalogue(client, request, persona):
    user = request.getfixturevalue(persona)
    product = ProductFactory()
    client.force_login(user)
    assert client.get(reverse("clients:product_list")).status_code == 403
    assert client.post(reverse("clients:product_create"), {"name": "X", "new_category": "Y", "price": "1"}).status_code == 403
    assert client.post(reverse("clients:product_edit", args=[product.pk]), {"name": "Z"}).status_code == 403
    assert client.post(reverse("clients:product_activate", args=[product.pk]), {"active": "0"}).status_code == 403
    assert client.post(reverse("clients:category_create"), {"name": "Nueva"}).status_code == 403
    product.refresh_from_db()
    assert product.is_active and Product.objects.count() == 1 and not Category.objects.filter(name="Nueva").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager", "admin_user"])
def test_a_gerente_or_administrador_keeps_the_catalogue(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    english(client)
    response = client.post(
        reverse("clients:product_create"), {"name": "  Café   en grano ", "new_category": "Café", "price": "14.90", "is_active": "on"}
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.name, product.category.name, product.price, product.is_active) == ("Café en grano", "Café", Decimal("14.90"), True)
    response = client.post(
        reverse("clients:product_edit", args=[product.pk]),
        {"name": "Café en grano", "category": product.category_id, "price": "15.50", "is_active": "on"},
    )
    assert response.status_code == 302
    assert client.post(reverse("clients:product_activate", args=[product.pk]), {"active": "0"}).status_code == 302
    product.refresh_from_db()
    assert (product.price, product.is_active) == (Decimal("15.50"), False)
    client.post(reverse("clients:product_activate", args=[product.pk]), {"active": "1"})
    product.refresh_from_db()
    assert product.is_active
    assert client.post(reverse("clients:category_create"), {"name": "Té"}).status_code == 302
    assert client.post(reverse("clients:category_create"), {"name": "té"}).status_code == 302  # the same one
    assert list(Category.objects.values_list("name", flat=True)) == ["Café", "Té"]
    page = client.get(reverse("clients:product_list"), {"q": "grano"}).content.decode()
    assert "Café en grano" in page


@pytest.mark.django_db
def test_catalogue_refuses_duplicates_and_bad_prices_as_form_errors(client, manager):
    ProductFactory(name="Café")
    client.force_login(manager)
    english(client)
    category = CategoryFactory()
    for data, message in [
        ({"name": "CAFÉ", "category": category.pk, "price": "1"}, "already has a product called Café"),
        ({"name": "Otro", "category": category.pk, "price": "-1"}, "cannot be negative"),
        ({"name": "Otro", "category": category.pk, "price": "10000000000"}, "digits"),
        ({"name": "Otro", "price": "1"}, "Choose a category or name a new one"),
    ]:
        response = client.post(reverse("clients:product_create"), data)
        assert response.status_code == 200, data
        assert message in response.content.decode(), data
    assert Product.objects.count() == 1


@pytest.mark.django_db
def test_catalogue_search_and_state_filter(client, manager):
    coffee = CategoryFactory(name="Cafetería")
    ProductFactory(name="Espresso", category=coffee)
    ProductFactory(name="Té rojo", is_active=False)
    client.force_login(manager)
    by_category = client.get(reverse("clients:product_list"), {"q": "cafet"}).content.decode()
    assert "Espresso" in by_category and "Té rojo" not in by_category
    inactive = client.get(reverse("clients:product_list"), {"active": "0"}).content.decode()
    assert "Té rojo" in inactive and "Espresso" not in inactive


@pytest.mark.django_db
def test_the_products_link_is_shown_to_gerentes_only(client, owner, manager):
    client.force_login(owner)
    assert 'data-testid="nav-products"' not in client.get(reverse("clients:agenda")).content.decode()
    client.force_login(manager)
    assert 'data-testid="nav-products"' in client.get(reverse("clients:agenda")).content.decode()


# Adding a product from the purchase form


@pytest.mark.django_db
def test_a_comercial_adds_a_product_from_the_purchase_form_only_when_the_setting_allows(client, owner):
    record = ClientFactory(owner=owner)
    category = CategoryFactory(name="Té")
    client.force_login(owner)
    data = {"new-product-name": "Rooibos", "new-product-category": category.pk, "new-product-price": "6.40"}
    form_url = reverse("clients:purchase_create", args=[record.pk])
    assert 'data-testid="quick-product"' not in client.get(form_url).content.decode()
    assert client.post(reverse("clients:product_quick_create"), data).status_code == 403
    settings = LifecycleSettings.current()
    settings.comercial_adds_products = True
    settings.save()
    assert 'data-testid="quick-product"' in client.get(form_url).content.decode()
    response = client.post(reverse("clients:product_quick_create"), data)
    assert response.status_code == 201
    assert response.json() == {"name": "Rooibos", "price": "6.40"}
    assert Product.objects.get().is_active
    refused = client.post(reverse("clients:product_quick_create"), data)
    assert refused.status_code == 400 and refused.json()["errors"]


@pytest.mark.django_db
def test_a_gerente_always_adds_products_from_the_purchase_form(client, owner, manager):
    client.force_login(manager)
    data = {"new-product-name": "Matcha", "new-product-new_category": "Té", "new-product-price": "9"}
    assert client.post(reverse("clients:product_quick_create"), data).status_code == 201
    assert Product.objects.get().category.name == "Té"


# Products offered as you type


@pytest.mark.django_db
def test_typing_offers_active_products_by_name_or_category(client, owner):
    tea = CategoryFactory(name="Infusiones")
    ProductFactory(name="Manzanilla", category=tea, price=Decimal("3.20"))
    ProductFactory(name="Menta poleo", category=tea, is_active=False)
    ProductFactory(name="Café de Colombia")
    client.force_login(owner)
    options = client.get(reverse("clients:product_options"), {"q": "infus"}).content.decode()
    assert 'value="Manzanilla" data-price="3.20"' in options
    assert "Menta" not in options and "Colombia" not in options
    assert 'value="Café de Colombia"' in client.get(reverse("clients:product_options"), {"q": "COLOM"}).content.decode()


@pytest.mark.django_db
def test_typing_offers_at_most_twenty_products(client, owner):
    ProductFactory.create_batch(25)
    client.force_login(owner)
    options = client.get(reverse("clients:product_options"), {"q": "producto"}).content.decode()
    assert options.count("<option") == 20


@pytest.mark.django_db
def test_the_products_offered_need_a_login(client):
    ProductFactory(name="Manzanilla")
    response = client.get(reverse("clients:product_options"), {"q": "man"})
    assert response.status_code == 302 and "Manzanilla" not in response.content.decode()


# Query counts

SESSION = 3  # session, user, the user's groups (roles)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 15])
def test_the_purchase_form_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    record = ClientFactory(owner=owner)
    ProductFactory.create_batch(size)
    LifecycleSettings.current()
    client.force_login(owner)
    # + the clients shared with the user (access rule), the client, the settings (may a comercial add products?).
    with django_assert_num_queries(SESSION + 3):
        response = client.get(reverse("clients:purchase_create", args=[record.pk]))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 30])
def test_the_catalogue_queries_do_not_grow(client, django_assert_num_queries, manager, size):
    ProductFactory.create_batch(size)
    client.force_login(manager)
    # + the page's count, the page of products with their categories (one join), the categories.
    with django_assert_num_queries(SESSION + 3):
        response = client.get(reverse("clients:product_list"))
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 30])
def test_the_products_offered_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    ProductFactory.create_batch(size)
    client.force_login(owner)
    # session, user, the matching active products with their categories (one join, at most 20);
    # no role is asked: every salesperson sells from the whole catalogue.
    with django_assert_num_queries(3):
        response = client.get(reverse("clients:product_options"), {"q": "prod"})
    assert response.status_code == 200


# The same limits in imports


def _purchases_file(*rows: str):
    from imports.spreadsheets import read_table

    return read_table(("client_ref,date,amount,quantity\n" + "\n".join(rows) + "\n").encode(), filename="p.csv")


def _analyse(table):
    from imports.services import Kind, import_analyse, proposed_mapping

    with translation.override("en"):
        return import_analyse(table, Kind.PURCHASES, proposed_mapping(Kind.PURCHASES, table), visible=None, today=TODAY())


@pytest.mark.django_db
def test_an_import_row_beyond_a_column_or_the_clients_figures_is_a_row_error(owner):
    record = ClientFactory(owner=owner, client_ref="C-1")
    PurchaseFactory.create_batch(100, client=record, amount=AMOUNT_MAX)
    lifecycle_refresh_client(record.pk)  # the import reads the figures kept on the client
    other = ClientFactory(owner=owner, client_ref="C-2")
    records.purchase_record(client=other, by=owner, date=TODAY(), amount=Decimal("1"))  # total_spent kept
    day = TODAY().isoformat()
    analysis = _analyse(_purchases_file(
        f"C-2,{day},10000000000,1",  # line 2: 11 digits before the mark
        f"C-2,{day},10,12345678",  # line 3: a quantity beyond 7 digits
        f"C-2,{day},9999999999,0.001",  # line 4: a unit price beyond the column (amount / quantity)
        f"C-2,{day},5,1",  # line 5: fine
        f"C-1,{day},0.99,1",  # line 6: exactly up to the client's limit
        f"C-1,{day},0.01,1",  # line 7: one cent past it
    ))
    errors = {error.line: error.message for error in analysis.errors}
    assert set(errors) == {2, 3, 4, 7}
    assert "unit price above 9,999,999,999.99" in errors[4]
    assert "figures hold" in errors[7]
    assert sorted(row.line for row in analysis.purchases) == [5, 6]


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_of_one_form_record_one_purchase(monkeypatch, owner):
    """PostgreSQL: both pass the first look-up for the token; the first holds the client's row
    until the second waits for it; the second's insert then meets the unique constraint and finds
    the first purchase. Both land on the client's page; one purchase."""
    import threading

    from django import test as django_test
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE) need PostgreSQL")
    record = ClientFactory(owner=owner)
    url = reverse("clients:purchase_create", args=[record.pk])
    payload = lines_payload(amount="80", token="a" * 32)
    real, locked, release = records.client_total_error, threading.Event(), threading.Event()

    def held(recorded, amount):
        if not locked.is_set():  # the first, inside its transaction with the client's row locked
            locked.set()
            assert release.wait(timeout=30)
        return real(recorded, amount)

    monkeypatch.setattr(records, "client_total_error", held)
    landed = []

    def submit():
        try:
            browser = django_test.Client()
            browser.force_login(owner)
            landed.append(browser.post(url, payload)["Location"])
        finally:
            connection.close()

    first = threading.Thread(target=submit)
    first.start()
    assert locked.wait(timeout=30)
    second = threading.Thread(target=submit)
    second.start()
    try:
        _wait_for_a_blocked_backend(connection)
    finally:
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)
    assert landed == [record.get_absolute_url()] * 2
    assert Purchase.objects.filter(client=record).count() == 1


def _wait_for_a_blocked_backend(connection, timeout: float = 20) -> None:
    """Returns once another connection waits for a row lock: the second submission is inside."""
    import time

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second submission never waited for the lock")


@pytest.mark.django_db
def test_a_line_given_in_the_admin_keeps_its_discount(client, owner, admin_user):
    record = ClientFactory(owner=owner)
    product = ProductFactory()
    client.force_login(admin_user)
    data = {
        "client": record.pk, "date": TODAY().isoformat(), "amount": "19.00", "currency": "EUR", "payment_method": "",
        "channel": "", "notes": "", "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000", "lines-0-product": product.pk, "lines-0-quantity": "2", "lines-0-unit_price": "10",
        "lines-0-discount": "5",
    }
    response = client.post(reverse("admin:clients_purchase_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    line = PurchaseLine.objects.get()
    assert (line.discount, line.total) == (Decimal("5.00"), Decimal("19.00"))
    entry = AuditEntry.objects.get(subject="purchase")
    assert entry.changes["items"][1].endswith("@ 10.00 -5% = 19.00")
