"""The purchase form: the purchase itself, its lines (a formset) and the one-time token that makes
a second submission of the same form find the first purchase instead of recording another."""

import datetime as dt
import re
import uuid
from decimal import Decimal
from functools import reduce
from operator import or_

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.currency import business_amount, currency_choices, is_business
from clients.forms import DATE_INPUT, BootstrapFormMixin
from clients.models import QUANTITY_MAX, UNIT_PRICE_MAX, Product, Purchase, PurchaseLine, purchase_amount_error
from core.money import cents

LINES_PREFIX = "lines"
MAX_LINES = 100
TOKEN = re.compile(r"[0-9a-f]{32}")
PRODUCT_OPTIONS = "product-options"  # the id of the <datalist> the product inputs share


class LineForm(BootstrapFormMixin, forms.Form):
    """One product bought. The product is typed (the page offers matches as you type) and found by
    its name among the active products; an empty unit price is the product's list price."""

    product = forms.CharField(
        label=_("product"), max_length=200,
        widget=forms.TextInput(attrs={"list": PRODUCT_OPTIONS, "autocomplete": "off", "data-line": "product"}),
    )
    quantity = forms.DecimalField(
        label=_("quantity"), initial=1, min_value=Decimal("0.001"), max_value=QUANTITY_MAX, decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0.001", "data-line": "quantity"}),
    )
    unit_price = forms.DecimalField(
        label=_("unit price"), required=False, min_value=Decimal("0"), max_value=UNIT_PRICE_MAX, decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "data-line": "unit_price"}),
    )
    discount = forms.DecimalField(
        label=_("discount (%)"), initial=0, required=False, min_value=Decimal("0"), max_value=Decimal("100"),
        decimal_places=2, widget=forms.NumberInput(attrs={"step": "any", "min": "0", "max": "100", "data-line": "discount"}),
    )


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        """Finds every line's product in one query and checks what each line comes to."""
        kept = [form for form in self.forms if not self._should_delete_form(form)]
        if any(form.errors for form in kept):
            return
        filled = [form for form in kept if form.has_changed()]
        names = {form.cleaned_data["product"].strip() for form in filled}
        found = {}
        if names:
            matches = Product.objects.filter(is_active=True).filter(reduce(or_, (Q(name__iexact=name) for name in names)))
            for product in sorted(matches, key=lambda p: p.pk):
                found.setdefault(product.name.casefold(), product)
                found[product.name] = product  # an exact match wins over one that differs in case
        self.lines = []
        for form in filled:
            data = form.cleaned_data
            name = data["product"].strip()
            product = found.get(name) or found.get(name.casefold())
            if product is None:
                form.add_error("product", _("No active product has this name: choose one of those offered as you type."))
                continue
            unit_price = product.price if data.get("unit_price") is None else data["unit_price"]
            discount = data.get("discount") or Decimal("0")
            total = PurchaseLine.total_for(data["quantity"], unit_price, discount)
            if message := purchase_amount_error(total):
                form.add_error(None, message)
                continue
            self.lines.append({
                "product": product, "quantity": data["quantity"], "unit_price": unit_price, "discount": discount,
                "total": total,
            })


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=1, can_delete=True, max_num=MAX_LINES, validate_max=True,
)


def _with_lines_management(data):
    """A submission without the lines' management fields (a form without lines, another client)
    is a purchase without lines, not a broken form."""
    if data is None or f"{LINES_PREFIX}-TOTAL_FORMS" in data:
        return data
    data = data.copy()
    data[f"{LINES_PREFIX}-TOTAL_FORMS"] = "0"
    data[f"{LINES_PREFIX}-INITIAL_FORMS"] = "0"
    return data


PURCHASE_FORM_FIELDS = (*Purchase.DATA_FIELDS[:3], "exchange_rate", *Purchase.DATA_FIELDS[3:])


class CurrencyFieldsMixin:
    """The currency offered as a list, and the rate to the business currency: typed (shown only
    for another currency, static/js/purchase_currency.js), or else the rates table's for the date."""

    def _currency_fields(self, stored: str = "") -> None:
        choices = currency_choices()
        if stored and (stored, stored) not in choices:
            choices.append((stored, stored))
        self.fields["currency"].widget = forms.Select(choices=choices, attrs={"class": "form-select", "data-currency": ""})
        self.fields["currency"].initial = settings.CURRENCY
        rate = self.fields["exchange_rate"]
        rate.label = _("exchange rate")
        rate.help_text = _("%(business)s for 1 unit of the purchase's currency. Empty: the rates table's for its date.") % {
            "business": settings.CURRENCY,
        }
        rate.widget.attrs.update({"min": "0", "step": "any", "data-exchange-rate": ""})

    def _convert(self, data: dict, paid: Decimal | None) -> None:
        """Checks that what was paid can be converted (a rate typed or in the table) and that the
        converted amount fits a purchase; keeps the rate used in data["exchange_rate"]."""
        if paid is None or not data.get("date") or not data.get("currency"):
            return
        try:
            amount, data["exchange_rate"] = business_amount(
                currency=data["currency"], day=data["date"], paid=cents(paid), rate=data.get("exchange_rate"),
            )
        except ValidationError as error:
            self.add_error("exchange_rate", error)
            return
        if message := purchase_amount_error(amount):
            raise forms.ValidationError(message)


class PurchaseForm(CurrencyFieldsMixin, BootstrapFormMixin, forms.ModelForm):
    """A new purchase: the lines, or the amount typed when nothing is itemised, in its currency."""

    token = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Purchase
        fields = PURCHASE_FORM_FIELDS
        widgets = {"date": DATE_INPUT}

    def __init__(self, data=None, *args, **kwargs) -> None:
        data = _with_lines_management(data)
        super().__init__(data, *args, **kwargs)
        self.lines = LineFormSet(data, prefix=LINES_PREFIX)
        self.fields["date"].initial = timezone.localdate
        self.fields["amount"].required = False
        self.fields["amount"].help_text = _("In the purchase's currency. With lines, the sum of their totals; without lines, type it.")
        self.fields["amount"].widget.attrs.update({"min": "0", "data-purchase": "amount"})
        self._currency_fields()
        if not self.is_bound:
            # One token per form shown: its second submission finds the purchase the first recorded.
            self.fields["token"].initial = uuid.uuid4().hex

    def clean_date(self) -> dt.date:
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A purchase cannot be dated in the future."))
        return day

    def clean_amount(self) -> Decimal | None:
        amount = self.cleaned_data["amount"]
        if amount is not None and amount < 0:
            raise forms.ValidationError(_("The amount cannot be negative."))
        return amount

    def clean_token(self) -> str | None:
        token = self.cleaned_data["token"]
        return token if TOKEN.fullmatch(token) else None  # none or forged: recorded without the guard

    def clean(self) -> dict:
        data = super().clean()
        if not self.lines.is_valid():
            raise forms.ValidationError(_("Check the lines: some cannot be recorded as they are."))
        data["lines"] = self.lines.lines
        paid = data.get("amount")
        if data["lines"]:
            data["amount"] = None  # the sum of the lines, computed by the service
            paid = sum((line["total"] for line in data["lines"]), Decimal("0"))
        elif paid is None and "amount" not in self.errors:
            raise forms.ValidationError(_("Add a line, or type the amount of a purchase without lines."))
        self._convert(data, paid)
        return data


class PurchaseEditForm(CurrencyFieldsMixin, BootstrapFormMixin, forms.ModelForm):
    """Corrects a recorded purchase, its amount as paid in its currency; its lines (what was
    bought) stay as recorded."""

    class Meta:
        model = Purchase
        fields = PURCHASE_FORM_FIELDS
        widgets = {"date": DATE_INPUT}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._currency_fields(stored=self.instance.currency)
        if self.instance.original_amount is not None:
            self.initial["amount"] = self.instance.original_amount
        if is_business(self.instance.currency):
            self.initial["exchange_rate"] = None

    def clean_date(self) -> dt.date:
        return PurchaseForm.clean_date(self)

    def clean(self) -> dict:
        data = super().clean()
        if "currency" in self.changed_data and "exchange_rate" not in self.changed_data:
            data["exchange_rate"] = None  # the old currency's rate says nothing of the new one
        if {"amount", "currency", "exchange_rate"} & set(self.changed_data):
            self._convert(data, data.get("amount"))  # else as recorded (a purchase may wait for a rate)
        return data
