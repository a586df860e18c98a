"""Administración → Tipos de cambio: the administrador's exchange rates (segmentation/exchange_rates.py)."""

from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from clients.models import ExchangeRate
from segmentation import exchange_rates
from segmentation.forms import ExchangeRateForm


def exchange_rate_list(request: HttpRequest) -> HttpResponse:
    """The rates by currency, the purchases waiting for one, and the form that adds a rate."""
    if not request.user.is_administrador:
        raise PermissionDenied
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _rate, converted = exchange_rates.exchange_rate_add(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, ngettext(
                "Rate saved. %(count)d waiting purchase was converted.", "Rate saved. %(count)d waiting purchases were converted.",
                converted,
            ) % {"count": converted})
            return redirect("segmentation:exchange_rates")
    waiting = exchange_rates.waiting_by_currency()
    rates = ExchangeRate.objects.select_related("created_by").order_by("currency", "-valid_from")
    currencies = {code: list(group) for code, group in groupby(rates, key=lambda rate: rate.currency)}
    groups = [(code, currencies.get(code, []), waiting.get(code, 0)) for code in sorted({*currencies, *waiting})]
    context = {"form": form, "groups": groups, "settings_currency": settings.CURRENCY}
    return render(request, "segmentation/exchange_rates.html", context)


@require_POST
def exchange_rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_administrador:
        raise PermissionDenied
    rate = get_object_or_404(ExchangeRate, pk=pk)
    changed = exchange_rates.exchange_rate_delete(by=request.user, rate=rate)
    messages.success(request, ngettext(
        "Rate deleted. %(count)d purchase that used it now follows the table.",
        "Rate deleted. %(count)d purchases that used it now follow the table.", changed,
    ) % {"count": changed})
    return redirect("segmentation:exchange_rates")
