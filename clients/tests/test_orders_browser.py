"""Orders with many lines in the browser: the lines found by typing, the live total, the catalogue,
a double click on Save."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clients.models import Product, Purchase
from clients.tests.factories import CategoryFactory, ClientFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def speak(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def choose_product(page, row, typed: str, name: str) -> None:
    """Types part of the name, waits for the product to be offered, then takes it."""
    product = row.locator("[data-line=product]")
    product.press_sequentially(typed, delay=30)
    expect(page.locator(f'#product-options option[value="{name}"]')).to_have_count(1)
    product.fill(name)
    product.press("Escape")  # closes the list of suggestions


def test_comercial_records_an_order_of_three_lines_found_by_typing(live_server, login, owner):
    speak(owner, "en")
    record = ClientFactory(owner=owner, first_name="Inés", last_name="Carvalho")
    ProductFactory(name="Café molido", price=Decimal("12.50"))
    ProductFactory(name="Té verde", price=Decimal("4.00"))
    ProductFactory(name="Taza de cerámica", price=Decimal("7.99"))
    ProductFactory(name="Tetera antigua", price=Decimal("30"), is_active=False)
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}purchases/new/")

    lines = page.locator("[data-line-row]")
    choose_product(page, lines.nth(0), "caf", "Café molido")
    lines.nth(0).locator("[data-line=quantity]").fill("2")
    expect(lines.nth(0).locator("[data-line=unit_price]")).to_have_value("12.50")  # the list price
    page.get_by_role("button", name="Add another line").click()
    choose_product(page, lines.nth(1), "verde", "Té verde")
    lines.nth(1).locator("[data-line=quantity]").fill("3")
    lines.nth(1).locator("[data-line=discount]").fill("10")
    page.get_by_role("button", name="Add another line").click()
    lines.nth(2).locator("[data-line=product]").press_sequentially("te", delay=30)
    expect(page.locator('#product-options option[value="Taza de cerámica"]')).to_have_count(1)
    expect(page.locator('#product-options option[value="Tetera antigua"]')).to_have_count(0)  # inactive
    lines.nth(2).locator("[data-line=product]").fill("Taza de cerámica")
    lines.nth(2).locator("[data-line=product]").press("Escape")
    # 25.00 + 10.80 + 7.99
    expect(page.get_by_test_id("purchase-total")).to_have_text("43.79")
    expect(page.locator("input[name=amount]")).to_have_value("43.79")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Purchase recorded.")).to_be_visible()
    purchase = Purchase.objects.get(client=record)
    assert purchase.amount == Decimal("43.79")
    assert sorted((line.product.name, line.discount) for line in purchase.lines.select_related("product")) == [
        ("Café molido", Decimal("0")), ("Taza de cerámica", Decimal("0")), ("Té verde", Decimal("10")),
    ]


def test_a_removed_line_leaves_the_total_and_the_purchase(live_server, login, owner):
    speak(owner, "en")
    record = ClientFactory(owner=owner)
    ProductFactory(name="Café molido", price=Decimal("12.50"))
    ProductFactory(name="Té verde", price=Decimal("4.00"))
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}purchases/new/")
    lines = page.locator("[data-line-row]")
    choose_product(page, lines.nth(0), "caf", "Café molido")
    page.get_by_role("button", name="Add another line").click()
    choose_product(page, lines.nth(1), "té", "Té verde")
    expect(page.get_by_test_id("purchase-total")).to_have_text("16.50")
    lines.nth(0).get_by_role("button", name="Remove this line").click()
    expect(page.get_by_test_id("purchase-total")).to_have_text("4.00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Purchase recorded.")).to_be_visible()
    purchase = Purchase.objects.get(client=record)
    assert (purchase.amount, [line.product.name for line in purchase.lines.all()]) == (Decimal("4.00"), ["Té verde"])


def test_a_double_click_on_save_records_one_purchase(live_server, login, owner):
    record = ClientFactory(owner=owner)
    page = login(owner)
    page.goto(f"{live_server.url}{record.get_absolute_url()}purchases/new/")
    page.fill("input[name=amount]", "80")
    sent = page.evaluate("new URLSearchParams(new FormData(document.querySelector('[data-purchase-form]'))).toString()")
    page.get_by_role("button", name="Guardar").dblclick()
    page.wait_for_url(f"{live_server.url}{record.get_absolute_url()}")
    expect(page.get_by_test_id("client-name")).to_be_visible()
    # Chromium may drop the second click's request: the same form is sent again, as a click that
    # got through (or back and Save again from a cached page) would send it.
    landed = page.evaluate(
        """(data) => fetch(location.pathname + "purchases/new/", {method: "POST", body: new URLSearchParams(data),
             credentials: "same-origin"}).then((response) => response.url)""",
        sent,
    )
    assert landed == f"{live_server.url}{record.get_absolute_url()}"
    assert Purchase.objects.filter(client=record).count() == 1


def test_gerente_adds_a_product_and_deactivates_another(live_server, login, manager):
    speak(manager, "en")
    CategoryFactory(name="Chá")
    ProductFactory(name="Café solúvel", price=Decimal("9.90"))
    page = login(manager)
    page.get_by_test_id("nav-products").click()
    expect(page.get_by_test_id("product-table")).to_contain_text("Café solúvel")
    page.get_by_role("link", name="Add a product").click()
    page.fill("input[name=name]", "Chá mate")
    page.select_option("select[name=category]", label="Chá")
    page.fill("input[name=price]", "6.40")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("product-table")).to_contain_text("Chá mate")
    page.get_by_role("row", name="Café solúvel").get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("row", name="Café solúvel")).to_contain_text("Inactive")
    assert Product.objects.get(name="Chá mate").price == Decimal("6.40")
    assert not Product.objects.get(name="Café solúvel").is_active


def test_a_gerente_adds_a_product_from_the_purchase_form(live_server, login, manager, owner):
    speak(manager, "en")
    record = ClientFactory(owner=owner)
    CategoryFactory(name="Tea")
    page = login(manager)
    page.goto(f"{live_server.url}{record.get_absolute_url()}purchases/new/")
    page.get_by_text("The product is not in the catalogue? Add it").click()
    quick = page.get_by_test_id("quick-product")
    quick.locator("input[name=new-product-name]").fill("Rooibos")
    quick.locator("select[name=new-product-category]").select_option(label="Tea")
    quick.locator("input[name=new-product-price]").fill("6.40")
    quick.get_by_role("button", name="Add the product").click()
    expect(page.locator("[data-line-row]").first.locator("[data-line=product]")).to_have_value("Rooibos")
    expect(page.get_by_test_id("purchase-total")).to_have_text("6.40")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Purchase recorded.")).to_be_visible()
    assert Purchase.objects.get(client=record).amount == Decimal("6.40")
