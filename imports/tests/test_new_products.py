"""A sales export naming products the catalogue does not have yet: counted in the preview, created
on request (one insert, folded names, a default category, no list price), refused row by row else."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from clients.catalogue import products_create_missing
from clients.models import Category, Product, Purchase, PurchaseLine
from clients.tests.factories import ClientFactory, ProductFactory
from imports.models import ImportJob
from imports.services import Kind, import_analyse, import_apply, proposed_mapping
from imports.spreadsheets import read_table
from imports.tests.test_import_views import preview_post, upload

pytestmark = pytest.mark.django_db

DAY = (timezone.localdate() - dt.timedelta(days=3)).strftime("%d/%m/%Y")
SALES = (
    "Referencia;Fecha;Importe;Cantidad;Producto\n"
    f"C-1;{DAY};12,50;2;Café molido\n"
    f"C-1;{DAY};7,00;1;cafe  MOLIDO\n"  # the same new product, written otherwise
    f"C-2;{DAY};1.234,56;3;Té verde\n"  # already in the catalogue, in other capitals
    f"C-2;{DAY};30,00;;Pão de queijo\n"
)


@pytest.fixture
def base(owner):
    ClientFactory(owner=owner, client_ref="C-1")
    ClientFactory(owner=owner, client_ref="C-2")
    return ProductFactory(name="TÉ VERDE")


def analyse(text: str, **options):
    table = read_table(text.encode("utf-8"))
    return import_analyse(table, Kind.PURCHASES, proposed_mapping(Kind.PURCHASES, table), visible=None, **options)


def test_the_analysis_counts_the_new_products_by_folded_name_and_refuses_their_rows_by_default(base):
    analysis = analyse(SALES)
    assert analysis.summary()["products_created"] == 2
    assert analysis.summary()["new_products"] == ["Café molido", "Pão de queijo"]
    assert analysis.bad_lines == [2, 3, 5]  # the rows of the two unknown products
    assert len(analysis.purchases) == 1


def test_creating_the_missing_products_makes_one_product_per_folded_name(owner, base, django_assert_num_queries):
    analysis = analyse(SALES, create_missing_products=True)
    assert (analysis.errors, len(analysis.purchases)) == ([], 4)
    with translation.override("es"):
        import_apply(analysis, owner=owner, created_by=owner)

    cafe = Product.objects.get(name="Café molido")
    pao = Product.objects.get(name="Pão de queijo")
    assert Product.objects.count() == 3
    assert (cafe.price, cafe.category.name, pao.category_id) == (Decimal("0"), "Productos importados", cafe.category_id)
    lines = {(line.product.name, line.quantity, line.unit_price) for line in PurchaseLine.objects.select_related("product")}
    assert lines == {
        ("Café molido", Decimal("2"), Decimal("6.25")),
        ("Café molido", Decimal("1"), Decimal("7.00")),
        ("TÉ VERDE", Decimal("3"), Decimal("411.52")),
        ("Pão de queijo", Decimal("1"), Decimal("30.00")),
    }
    # A second import of the same file finds the products and creates nothing.
    again = analyse(SALES, create_missing_products=True)
    assert (again.summary()["products_created"], again.already_imported) == (0, 4)


def test_the_category_is_a_setting(owner, base, settings):
    settings.IMPORT_PRODUCT_CATEGORY = "Sin clasificar"
    import_apply(analyse(SALES, create_missing_products=True), owner=owner, created_by=owner)
    assert set(Product.objects.exclude(name="TÉ VERDE").values_list("category__name", flat=True)) == {"Sin clasificar"}
    assert Category.objects.filter(name="Sin clasificar").count() == 1


@pytest.mark.parametrize("products", [2, 40])
def test_the_catalogues_bulk_write_runs_a_constant_number_of_queries(products, django_assert_num_queries):
    ProductFactory(name="Ya existe")
    names = [f"Producto nuevo {n}" for n in range(products)] + ["ya  EXISTE"]
    # the catalogue; the categories (compared in Python), the new one's unique check and insert; the
    # products' insert; their ids
    with django_assert_num_queries(6):
        found = products_create_missing(names=names, category_name="Importados")
    assert len(found) == products + 1 and Product.objects.count() == products + 1


def test_a_product_name_too_long_for_the_catalogue_is_a_row_error(base):
    with translation.override("en"):
        analysis = analyse(f"Referencia;Fecha;Importe;Producto\nC-1;{DAY};1;{'x' * 201}\n", create_missing_products=True)
        assert [error.message for error in analysis.errors] == ["Longer than 200 characters."]


def test_the_command_creates_the_products_only_with_its_option(owner, base, tmp_path):
    path = tmp_path / "ventas.csv"
    path.write_bytes(SALES.encode("utf-8"))
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("import_purchases", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert "new products: 2 (Café molido, Pão de queijo, not in the catalogue: --create-products adds them)" in str(refused.value)
    assert Product.objects.count() == 1
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_purchases", str(path), "--create-products", stdout=out, stderr=io.StringIO())
    assert "new products: 2 (Café molido, Pão de queijo)" in out.getvalue()
    assert Product.objects.count() == 3 and Purchase.objects.count() == 4


def test_the_preview_says_how_many_new_products_and_creates_them_when_ticked(client, owner, base):
    client.force_login(owner)
    upload(client, SALES, kind="purchases", name="ventas.csv")
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:import_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-testid="new-products"' in content and "2 new products:" in content
    assert "Café molido, Pão de queijo" in content and 'name="create_missing_products"' in content

    preview_post(client, job, create_missing_products="on")
    job.refresh_from_db()
    assert job.create_missing_products and job.summary["bad_rows"] == 0
    preview_post(client, job, action="confirm", create_missing_products="on")
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE, job.failure
    assert Product.objects.count() == 3 and Purchase.objects.count() == 4


@pytest.mark.parametrize("products", [2, 30])
def test_the_preview_with_new_products_runs_a_constant_number_of_queries(client, owner, base, products, django_assert_num_queries):
    client.force_login(owner)
    text = "Referencia;Fecha;Importe;Producto\n" + "".join(f"C-1;{DAY};1;Nuevo {n}\n" for n in range(products))
    upload(client, text, kind="purchases", name="ventas.csv")
    job = ImportJob.objects.get()
    assert job.summary["products_created"] == products
    # session, user, the job, the user's roles, the owner choices
    with django_assert_num_queries(5):
        client.get(reverse("imports:import_detail", args=[job.pk]))
