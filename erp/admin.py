from django.contrib import admin

from .models import ErpOrderExport, ErpSyncState


@admin.register(ErpSyncState)
class ErpSyncStateAdmin(admin.ModelAdmin):
    """Where each sync stream stands; written by the sync only."""

    list_display = ["name", "cursor", "last_success_at", "last_attempt_at", "short_error", "locked_until"]
    readonly_fields = [f.name for f in ErpSyncState._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Last error")
    def short_error(self, obj: ErpSyncState) -> str:
        return obj.last_error[:120]


@admin.register(ErpOrderExport)
class ErpOrderExportAdmin(admin.ModelAdmin):
    list_display = ["order", "erp_id", "pushed_at"]
    search_fields = ["erp_id", "order__number", "order__email"]
    list_select_related = ["order"]
    date_hierarchy = "pushed_at"
    readonly_fields = ["order", "erp_id", "pushed_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
