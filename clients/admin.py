from django.contrib import admin
from django.db import transaction

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


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "price", "is_active")
    list_filter = ("category", "is_active")
    search_fields = ("name",)


class ClientShareInline(admin.TabularInline):
    model = ClientShare
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    inlines = [ClientShareInline]
    list_display = ("__str__", "owner", "status", "alert", "city", "last_purchase_date", "spend_12m")
    list_filter = ("status", "volume_tier", "alert", "owner")
    search_fields = ("search_text", "client_ref", "tax_id", "email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    show_full_result_count = False  # no COUNT(*) over a million rows on every page
    readonly_fields = (
        "status", "status_since", "first_purchase_date", "last_purchase_date", "purchase_count", "total_spent",
        "spend_12m", "average_basket", "volume_tier", "frequency_class", "r_score", "f_score", "m_score",
        "rfm_segment", "alert", "alert_reason", "alert_value",
    )


class PurchaseLineInline(admin.TabularInline):
    model = PurchaseLine
    raw_id_fields = ("product",)
    extra = 0


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    list_display = ("client", "date", "amount", "currency", "channel")
    list_filter = ("channel", "currency")
    raw_id_fields = ("client", "created_by")
    date_hierarchy = "date"
    inlines = [PurchaseLineInline]
    show_full_result_count = False

    # A purchase corrected or deleted here updates its client's figures and status at once.
    def save_model(self, request, obj, form, change):
        from segmentation.services import lifecycle_refresh_client

        with transaction.atomic():
            super().save_model(request, obj, form, change)
            for client_id in {obj.client_id, form.initial.get("client")} - {None}:
                lifecycle_refresh_client(client_id)

    def delete_model(self, request, obj):
        self.delete_queryset(request, Purchase.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        from segmentation.services import lifecycle_refresh_client

        with transaction.atomic():
            client_ids = set(queryset.values_list("client_id", flat=True))
            super().delete_queryset(request, queryset)
            for client_id in sorted(client_ids):
                lifecycle_refresh_client(client_id)


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("client", "kind", "direction", "happened_at", "user", "outcome", "awaiting_reply")
    list_filter = ("kind", "outcome", "awaiting_reply")
    raw_id_fields = ("client", "user")
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("client", "kind", "due_at", "assigned_to", "status")
    list_filter = ("status", "kind")
    raw_id_fields = ("client", "assigned_to", "created_by", "closed_by")
    show_full_result_count = False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("title", "client", "start_date", "end_date", "value", "renewal_status")
    list_filter = ("renewal_status",)
    raw_id_fields = ("client",)
