from django.contrib import admin, messages

from .models import SmsMessage
from .services import sms_retry


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "purpose", "status", "attempts", "backend", "sent_at"]
    list_filter = ["status", "purpose", "backend", "created_at"]
    search_fields = ["to", "provider_message_id", "purpose"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["retry_failed"]
    readonly_fields = [field.name for field in SmsMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        # The log records what the shop sent; staff do not write into it by hand.
        return False

    @admin.action(description="Send the selected failed messages again")
    def retry_failed(self, request, queryset):
        requeued = sum(sms_retry(message=message) for message in queryset)
        skipped = queryset.count() - requeued
        self.message_user(request, f"{requeued} message(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} message(s) skipped: only failed, unmasked messages can be resent.",
                messages.WARNING,
            )
