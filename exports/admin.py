from django.contrib import admin

from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: an export is made from the list or segment pages, downloaded by its creator."""

    list_display = ("name", "format", "kind", "created_by", "state", "rows", "created_at", "finished_at")
    list_filter = ("state", "kind", "format")
    list_select_related = ("created_by",)
    readonly_fields = [field.name for field in ExportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
