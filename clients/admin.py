"""The Django admin over clients and their records. Every change goes through the write services
of segmentation/records.py, so that a change made here leaves the same audit entry, version and
refreshed figures as the same change made in Cartera's pages; what has no service here
(interactions and follow-ups, which have their pages) is read-only."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import salespeople_visible_to
from clients.currency import business_amount
from clients.forms import clean_identifiers
from clients.models import (
    Category,
    Client,
    ClientShare,
    Contract,
    FollowUp,
    Interaction,
    Product,
    Purchase,
    PurchaseLine,
)
from segmentation import records


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "price", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("name",)


def _not_saved_by_the_formset(formset) -> None:
    """The admin's change message reads what formset.save() would have set; a service wrote instead."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ClientShareFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        for inline in self.forms:
            user = inline.cleaned_data.get("user") if inline not in self.deleted_forms else None
            if user is not None and user.pk == self.instance.owner_id:
                inline.add_error("user", _("This salesperson already owns the client."))


class ClientShareInline(admin.TabularInline):
    model = ClientShare
    formset = ClientShareFormSet
    raw_id_fields = ("user",)
    extra = 0


class ClientAdminForm(forms.ModelForm):
    # The version the form was opened at: a save over a newer one is refused, as in Cartera's form.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Client
        fields = [*Client.DATA_FIELDS, "owner"]

    salespeople = User.objects.none()  # set per request by ClientAdmin.get_form: whom the editor may assign

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seen_version"].initial = self.instance.version

    def clean_owner(self) -> User:
        owner = self.cleaned_data["owner"]
        if owner.pk != self.instance.owner_id and not self.salespeople.filter(pk=owner.pk).exists():
            raise ValidationError(_("You cannot assign clients to this salesperson."))
        return owner

    def clean(self) -> dict:
        data = super().clean()
        current = Client.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
        if current is not None and current != (data.get("seen_version") or 0):
            raise ValidationError(_(
                "Someone else saved this client while you were editing it: nothing of yours was saved. "
                "Reload the page to see their changes."
            ))
        clean_identifiers(self, data)  # as Cartera's form: by the country, stored in normal form
        return data


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """Edits go through client_update (audited, version-checked) and a new owner through
    client_reassign; clients are created in Cartera's form and deleted to its trash."""

    form = ClientAdminForm
    inlines = [ClientShareInline]
    list_display = ("__str__", "owner", "status", "alert", "city", "last_purchase_date", "spend_12m")
    list_filter = ("status", "volume_tier", "alert", "owner")
    search_fields = ("search_text", "client_ref", "tax_id", "email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "referred_by")  # a list of every client would be a million options
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    readonly_fields = (
        "status", "status_since", "first_purchase_date", "last_purchase_date", "purchase_count", "total_spent",
        "spend_12m", "average_basket", "volume_tier", "frequency_class", "r_score", "f_score", "m_score",
        "rfm_segment", "alert", "alert_reason", "alert_value", "leave_reason", "lost_revenue",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # A client in the trash (or erased) is restored in Cartera first; it is not edited here.
        return super().has_change_permission(request, obj) and (obj is None or obj.deleted_at is None)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.salespeople = salespeople_visible_to(request.user)
        return form

    def save_model(self, request, obj: Client, form, change: bool) -> None:
        """One transaction with the shares (the admin's changeform is atomic): a service that
        refuses (an edit saved by someone else a moment ago) undoes the whole save."""
        data = {name: form.cleaned_data[name] for name in Client.DATA_FIELDS if name != "interests"}
        if set(form.changed_data) & set(Client.DATA_FIELDS):
            records.client_update(
                by=request.user, client=obj, data=data, interests=form.cleaned_data["interests"],
                seen_version=form.cleaned_data.get("seen_version") or 0,
            )
        if "owner" in form.changed_data:
            records.client_reassign(by=request.user, client_ids=[obj.pk], new_owner=form.cleaned_data["owner"])

    def save_related(self, request, form, formsets, change: bool) -> None:
        # The interests were written by client_update; each share goes through its service.
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change: bool) -> None:
        client, deleted = form.instance, formset.deleted_forms
        _not_saved_by_the_formset(formset)
        for inline in formset.initial_forms:  # a share removed, or pointed at someone else
            if inline in deleted or "user" in inline.changed_data:
                records.client_unshare(by=request.user, client=client, user=User.objects.get(pk=inline.initial["user"]))
        for inline in formset.forms:
            if inline not in deleted and "user" in inline.changed_data and inline.cleaned_data.get("user"):
                records.client_share(by=request.user, client=client, user=inline.cleaned_data["user"])


class PurchaseLineInline(admin.TabularInline):
    """Lines are given with a new purchase; afterwards they are shown, not edited."""

    model = PurchaseLine
    raw_id_fields = ("product",)
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None


class PurchaseAdminForm(forms.ModelForm):
    """The amount as paid, in the purchase's currency, converted at the rate given or the table's."""

    class Meta:
        model = Purchase
        fields = ["client", "date", "amount", "currency", "exchange_rate", *records.PURCHASE_AUDITED[3:]]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.original_amount is not None:
            self.initial["amount"] = self.instance.original_amount

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date") and data.get("amount") is not None:
            try:
                business_amount(
                    currency=data.get("currency") or settings.CURRENCY, day=data["date"], paid=data["amount"],
                    rate=data.get("exchange_rate"),
                )
            except ValidationError as error:
                self.add_error("exchange_rate", error)
        return data


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    """A purchase recorded, corrected or deleted here goes through purchase_record / _correct /
    _delete: audited, and its client's figures, status and colour updated at once."""

    form = PurchaseAdminForm
    list_display = ("client", "date", "amount", "currency", "channel")
    list_filter = ("channel", "currency")
    raw_id_fields = ("client",)
    date_hierarchy = "date"
    inlines = [PurchaseLineInline]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return ("client",) if obj is not None else ()

    def save_model(self, request, obj: Purchase, form, change: bool) -> None:
        """Written in save_related, once the lines are known: one service call, one transaction."""

    def save_related(self, request, form, formsets, change: bool) -> None:
        for formset in formsets:
            _not_saved_by_the_formset(formset)
        data = {name: form.cleaned_data[name] for name in records.PURCHASE_AUDITED if name in form.cleaned_data}
        data["exchange_rate"] = form.cleaned_data.get("exchange_rate")
        if change:
            records.purchase_correct(purchase=form.instance, by=request.user, **data)
            return
        lines = [
            records.LineData(
                product=line["product"], quantity=line["quantity"], unit_price=line["unit_price"],
                discount=line.get("discount") or Decimal("0"),
            )
            for formset in formsets for line in formset.cleaned_data
            if line and line.get("product") and not line.get("DELETE")
        ]
        purchase = records.purchase_record(client=form.cleaned_data["client"], by=request.user, lines=lines, **data)
        form.instance.pk = purchase.pk  # the admin's log and redirect name the purchase written

    def delete_model(self, request, obj: Purchase) -> None:
        records.purchase_delete(purchase=obj, by=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset) -> None:
        for purchase in queryset.order_by("pk"):
            records.purchase_delete(purchase=purchase, by=request.user)


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ("client", "kind", "direction", "happened_at", "user", "outcome", "awaiting_reply")
    list_filter = ("kind", "outcome", "awaiting_reply")
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("client", "kind", "due_at", "assigned_to", "status")
    list_filter = ("status", "kind")
    show_full_result_count = False


class ContractAdminForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = ["client", *records.CONTRACT_AUDITED]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """Contracts are created and edited through contract_create / contract_update (audited, the
    renewal call and the colour follow); they are ended, not deleted."""

    form = ContractAdminForm
    list_display = ("title", "client", "start_date", "end_date", "value", "renewal_status")
    list_filter = ("renewal_status",)
    raw_id_fields = ("client",)

    def get_readonly_fields(self, request, obj=None):
        return ("client",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: Contract, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in records.CONTRACT_AUDITED}
        if change:
            records.contract_update(contract=obj, by=request.user, **data)
        else:
            obj.pk = records.contract_create(client=form.cleaned_data["client"], by=request.user, **data).pk
