from django.contrib import admin, messages

from .models import IdempotencyKey, OutboxMessage
from .outbox import outbox_retry


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "scope", "user", "status", "response_status", "created_at"]
    list_filter = ["scope", "status"]
    search_fields = ["key", "user__email"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Facts waiting for (or given up on by) another system. Dead rows need a human: fix the cause,
    then retry them."""

    list_display = [
        "id",
        "topic",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "topic"]
    search_fields = ["key", "topic", "request_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["retry_messages"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Last error")
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:120]

    @admin.action(description="Retry the selected messages now (not the sent ones)", permissions=["change"])
    def retry_messages(self, request, queryset):
        count = outbox_retry(message_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} message(s) will be retried now.", messages.SUCCESS)
