"""The product catalogue's writes: products and their categories. Products are not a client's
records (no audit entry, no figures to refresh); what they share with purchases is the price limit."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clients.models import Category, Product
from clients.text import fold

PRODUCT_EDITABLE = ("name", "category", "price", "is_active")


def category_create(*, name: str) -> Category:
    """A new category; one whose name differs only in case is the same category (returned as is)."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the category a name.")})
    if existing := _same_name(Category.objects.all(), name):
        return existing
    category = Category(name=name)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def product_create(
    *, name: str, price: Decimal, category: Category | None = None, new_category: str = "", is_active: bool = True,
) -> Product:
    """A product of an existing category, or of a category created with it (`new_category`)."""
    if new_category.strip():
        category = category_create(name=new_category)
    if category is None:
        raise ValidationError({"category": _("Choose a category or name a new one.")})
    product = Product(name=" ".join(name.split()), category=category, price=price, is_active=is_active)
    _validate(product)
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, new_category: str = "", **changes) -> Product:
    """Changes a product's name, category, price or whether it is offered (is_active); purchases
    already recorded keep the price they were sold at."""
    if unknown := set(changes) - set(PRODUCT_EDITABLE):
        raise ValueError(f"Not an editable field of a product: {sorted(unknown)}")
    if new_category.strip():
        changes["category"] = category_create(name=new_category)
    current = Product.objects.select_for_update().get(pk=product.pk)
    for name, value in changes.items():
        setattr(current, name, " ".join(value.split()) if name == "name" else value)
    _validate(current)
    current.save(update_fields=list(changes) or None)
    return current


def _validate(product: Product) -> None:
    if not product.name:
        raise ValidationError({"name": _("Give the product a name.")})
    if clash := _same_name(Product.objects.exclude(pk=product.pk), product.name):
        raise ValidationError({"name": _("The catalogue already has a product called %(name)s.") % {"name": clash.name}})
    product.full_clean()


def _same_name(queryset, name: str):
    """The row whose name differs from `name` at most in case (in Python: SQLite's case-insensitive
    comparison knows ASCII only, so "CAFÉ" and "Café" would both go in)."""
    wanted = name.casefold()
    return next((row for row in queryset.only("pk", "name") if row.name.casefold() == wanted), None)


def products_create_missing(*, names: list[str], category_name: str) -> dict[str, int]:
    """{folded name: product id} for every name, creating in one insert the products the catalogue
    lacks, in the category `category_name` (created if missing) and with no list price (0: a
    purchase's lines keep the price they were sold at). Names that differ only in case, accents or
    spacing ("Café molido", "cafe  MOLIDO") are one product, spelt as the first of them.

    The set-based twin of product_create for imports: the caller's transaction holds it all; a
    product that another writer adds meanwhile is matched, not duplicated (ignore_conflicts)."""
    wanted: dict[str, str] = {}
    for name in names:
        tidy = " ".join(name.split())
        if tidy:
            wanted.setdefault(fold(tidy), tidy)
    found = _by_folded_name(Product.objects.all(), wanted)
    missing = [name for key, name in wanted.items() if key not in found]
    if missing:
        category = category_create(name=category_name)
        Product.objects.bulk_create(
            [Product(name=name, category=category, price=Decimal("0")) for name in missing], ignore_conflicts=True,
        )
        for start in range(0, len(missing), 900):  # under SQLite's variable limit on any version
            found |= _by_folded_name(Product.objects.filter(name__in=missing[start:start + 900]), wanted)
    return found


def _by_folded_name(queryset, wanted: dict[str, str]) -> dict[str, int]:
    """{folded name: id} of the rows named as one of `wanted` (folded in Python, as in _same_name)."""
    return {
        key: pk for pk, name in queryset.order_by("-pk").values_list("pk", "name")  # the oldest wins
        if (key := fold(name)) in wanted
    }
