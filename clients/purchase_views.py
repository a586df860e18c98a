"""Recording, correcting and deleting a client's purchases (moved from clients/views.py)."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.services import campaign_sources_record
from clients.currency import no_rate_message, rate_for
from clients.models import Client
from clients.product_forms import QuickProductForm
from clients.purchase_forms import PRODUCT_OPTIONS, PurchaseEditForm, PurchaseForm
from clients.selectors import visible_client
from segmentation import records
from segmentation.models import LifecycleSettings


def exchange_rate_lookup(request: HttpRequest) -> JsonResponse:
    """The rates table's rate for a currency on a date (JSON for the purchase form's script, which
    shows it in the empty rate field): {"rate": "0.1725"}, or {"rate": null, "message": why}."""
    code = request.GET.get("currency", "")[:3].upper()
    try:
        day = dt.date.fromisoformat(request.GET.get("date", "")[:10])
    except ValueError:
        day = timezone.localdate()
    rate = rate_for(code, day) if code.isalpha() else None
    if rate is None:
        return JsonResponse({"rate": None, "message": no_rate_message(code, day)})
    return JsonResponse({"rate": f"{rate.normalize():f}"})


def may_add_products(user) -> bool:
    """Gerentes and administradores keep the catalogue; a comercial adds products from the
    purchase form only when the settings allow it."""
    return user.can_manage_portfolios or LifecycleSettings.current().comercial_adds_products


def purchase_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    form = PurchaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lines = [records.line_for(**{k: line[k] for k in ("product", "quantity", "unit_price", "discount")}) for line in data["lines"]]
        try:
            records.purchase_record(
                client=client, by=request.user, date=data["date"], amount=data["amount"], lines=lines,
                currency=data["currency"], exchange_rate=data["exchange_rate"], payment_method=data["payment_method"], channel=data["channel"],
                notes=data["notes"], idempotency_key=data["token"],
            )
        except records.AlreadyRecorded:
            messages.info(request, _("This purchase had already been recorded (the form was sent twice): nothing was added."))
            return redirect(client)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            campaign_sources_record(client_ids=[client.pk])  # a first purchase in answer to a campaign: its source
            messages.success(request, _("Purchase recorded."))
            return redirect(client)
    return render(request, "clients/purchase_form.html", _context(request, client, form))


def _context(request: HttpRequest, client: Client, form) -> dict:
    context = {"client": client, "form": form, "product_options": PRODUCT_OPTIONS, "business_currency": settings.CURRENCY}
    if isinstance(form, PurchaseForm):
        context["lines"] = form.lines
        if may_add_products(request.user):
            context["product_form"] = QuickProductForm(prefix="new-product")
    return context


def purchase_edit(request: HttpRequest, pk: int, purchase_pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    purchase = get_object_or_404(client.purchases.prefetch_related("lines__product"), pk=purchase_pk)
    form = PurchaseEditForm(request.POST or None, instance=purchase)
    if request.method == "POST" and form.is_valid():
        try:
            records.purchase_correct(purchase=purchase, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Purchase corrected."))
            return redirect(client)
    return render(request, "clients/purchase_form.html", {**_context(request, client, form), "purchase": purchase})


@require_POST
def purchase_delete(request: HttpRequest, pk: int, purchase_pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    purchase = get_object_or_404(client.purchases, pk=purchase_pk)
    records.purchase_delete(purchase=purchase, by=request.user)
    messages.success(request, _("Purchase deleted."))
    return redirect(client)
