from django.contrib import admin
from django.db.models import Count
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Status
from segmentation.models import LifecycleSettings, NightlyRun, NightlyStep, StatusChange


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("client", "from_status", "to_status", "date", "cause")
    list_filter = ("to_status", "cause")
    raw_id_fields = ("client",)
    date_hierarchy = "date"
    show_full_result_count = False


@admin.register(LifecycleSettings)
class LifecycleSettingsAdmin(admin.ModelAdmin):
    """One row: the list page opens it; the form shows what the saved thresholds would do today."""

    fieldsets = [
        (_("Lifecycle status"), {"fields": ["alta_window_days", "dormido_after_days", "baja_after_days"]}),
        (_("Volume tiers"), {"fields": ["tier_very_high", "tier_high", "tier_medium"]}),
        (_("Frequency classes"), {"fields": ["frequent_max_days", "habitual_max_days"]}),
        (_("Nightly run"), {"fields": ["nightly_hour"]}),
        (_("Preview"), {"fields": ["status_preview"]}),
    ]
    readonly_fields = ["status_preview"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        settings = LifecycleSettings.current()
        return HttpResponseRedirect(reverse("admin:segmentation_lifecyclesettings_change", args=[settings.pk]))

    def save_model(self, request: HttpRequest, obj: LifecycleSettings, form, change: bool) -> None:
        from segmentation.services import lifecycle_settings_update

        lifecycle_settings_update(lifecycle_settings=obj)

    @admin.display(description=_("Clients per status: now → with these thresholds today"))
    def status_preview(self, obj: LifecycleSettings) -> str:
        from segmentation.engine import preview_statuses

        now = dict(Client.objects.order_by().values_list("status").annotate(n=Count("id")))
        after = preview_statuses(timezone.localdate(), obj.thresholds())
        return format_html_join(
            "", "<div>{}: {} → {}</div>", ((label, now.get(code, 0), after[code]) for code, label in Status.choices)
        )


class NightlyStepInline(admin.TabularInline):
    model = NightlyStep
    fields = ("name", "state", "started_at", "duration", "rows_changed", "attempts", "error", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(NightlyRun)
class NightlyRunAdmin(admin.ModelAdmin):
    """Read-only: the runs are written by the nightly tasks (segmentation.nightly), never by hand."""

    list_display = ("as_of", "started_at", "finished_at", "state")
    list_filter = ("state",)
    date_hierarchy = "as_of"
    readonly_fields = ("as_of", "started_at", "finished_at", "state")
    inlines = [NightlyStepInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
