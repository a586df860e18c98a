from django.contrib import admin

from segmentation.models import StatusChange


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("client", "from_status", "to_status", "date", "cause")
    list_filter = ("to_status", "cause")
    raw_id_fields = ("client",)
    date_hierarchy = "date"
    show_full_result_count = False
