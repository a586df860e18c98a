from decimal import Decimal

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from clients.forms import BootstrapFormMixin
from clients.models import UNIT_PRICE_MAX, Category, Product


class ProductForm(BootstrapFormMixin, forms.ModelForm):
    """A product of the catalogue: its category is chosen, or named to create it at once."""

    new_category = forms.CharField(label=_("or a new category"), max_length=100, required=False)

    class Meta:
        model = Product
        fields = ["name", "category", "new_category", "price", "is_active"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].required = False
        self.fields["category"].queryset = Category.objects.order_by("name")
        self.fields["price"].label = _("list price")
        self.fields["price"].min_value = Decimal("0")
        self.fields["price"].widget.attrs.update({"min": "0", "step": "0.01"})

    def clean_price(self) -> Decimal:
        price = self.cleaned_data["price"]
        if price < 0:
            raise forms.ValidationError(_("The price cannot be negative."))
        if price > UNIT_PRICE_MAX:
            raise forms.ValidationError(_("A price holds at most %(max)s.") % {
                "max": formats.number_format(UNIT_PRICE_MAX, 2, use_l10n=True, force_grouping=True),
            })
        return price

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("category") and not (data.get("new_category") or "").strip():
            self.add_error("category", _("Choose a category or name a new one."))
        return data

    def _post_clean(self) -> None:
        """Validated by the catalogue's service, which writes it (clients/catalogue.py)."""


class QuickProductForm(ProductForm):
    """A product added from the purchase form: always offered (active) at once."""

    class Meta(ProductForm.Meta):
        fields = ["name", "category", "new_category", "price"]


class CategoryForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("new category"), max_length=100)
