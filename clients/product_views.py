"""The product catalogue (gerentes and administradores), the products offered as you type on the
purchase form, and the product a salesperson adds from that form when the settings allow it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clients import catalogue
from clients.models import Category, Product
from clients.product_forms import CategoryForm, ProductForm, QuickProductForm
from clients.purchase_views import may_add_products

OPTIONS_LIMIT = 20  # products offered at once while typing
PER_PAGE = 50


def _catalogue_keeper(request: HttpRequest) -> None:
    if not request.user.can_manage_portfolios:
        raise PermissionDenied


def _matching(text: str):
    """Products whose name or category contains `text` (any case), by name."""
    products = Product.objects.select_related("category").order_by("name", "pk")
    if text := text.strip():
        products = products.filter(Q(name__icontains=text) | Q(category__name__icontains=text))
    return products


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    _catalogue_keeper(request)
    text, state = request.GET.get("q", "")[:100], request.GET.get("active", "")
    products = _matching(text)
    if state in ("1", "0"):
        products = products.filter(is_active=state == "1")
    page = Paginator(products, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page, "q": text, "active": state, "category_form": CategoryForm(),
        "categories": list(Category.objects.order_by("name")),
    }
    return render(request, "clients/product_list.html", context)


def product_create(request: HttpRequest) -> HttpResponse:
    _catalogue_keeper(request)
    form = ProductForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            product = catalogue.product_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Product %(name)s added to the catalogue.") % {"name": product.name})
            return redirect("clients:product_list")
    return render(request, "clients/product_form.html", {"form": form})


def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _catalogue_keeper(request)
    product = get_object_or_404(Product, pk=pk)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.product_update(product=product, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Product saved."))
            return redirect("clients:product_list")
    return render(request, "clients/product_form.html", {"form": form, "product": product})


@require_POST
def product_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivates or reactivates a product (?active=0|1): an inactive one is no longer offered."""
    _catalogue_keeper(request)
    product = get_object_or_404(Product, pk=pk)
    active = request.POST.get("active") == "1"
    catalogue.product_update(product=product, is_active=active)
    text = _("%(name)s is offered again.") if active else _("%(name)s is no longer offered.")
    messages.success(request, text % {"name": product.name})
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(next_url)  # back to the page of the list it was on
    return redirect("clients:product_list")


@require_POST
def category_create(request: HttpRequest) -> HttpResponse:
    _catalogue_keeper(request)
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            category = catalogue.category_create(name=form.cleaned_data["name"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Category %(name)s is in the catalogue.") % {"name": category.name})
    else:
        messages.error(request, _("Give the category a name (at most 100 characters)."))
    return redirect("clients:product_list")


@require_GET
def product_options(request: HttpRequest) -> HttpResponse:
    """The active products matching what is typed (name or category), as <option>s of the
    purchase form's <datalist>; every salesperson sells from the whole catalogue."""
    products = _matching(request.GET.get("q", "")[:100]).filter(is_active=True)[:OPTIONS_LIMIT]
    return render(request, "clients/partials/product_options.html", {"products": products})


@require_POST
def product_quick_create(request: HttpRequest) -> HttpResponse:
    """A product added from the purchase form (JSON for its script): offered at once."""
    if not may_add_products(request.user):
        raise PermissionDenied
    form = QuickProductForm(request.POST, prefix="new-product")
    if form.is_valid():
        try:
            product = catalogue.product_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return JsonResponse({"name": product.name, "price": f"{product.price:f}"}, status=201)
    return JsonResponse({"errors": [message for messages_ in form.errors.values() for message in messages_]}, status=400)
