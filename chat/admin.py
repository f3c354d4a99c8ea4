from django.contrib import admin, messages

from core.errors import DomainError

from . import services
from .models import Conversation, Message
from .selectors import unread_messages_count


class MessageInline(admin.TabularInline):
    """History is read-only here: agents answer over the API or websockets, where the message is
    broadcast and the customer emailed."""

    model = Message
    fields = ["created_at", "sender", "sender_role", "body", "read_at"]
    readonly_fields = fields
    ordering = ["created_at"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sender")


class AssignmentFilter(admin.SimpleListFilter):
    title = "assignment"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Assigned to me"), ("none", "Unassigned"), ("any", "Assigned")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_agent=request.user)
        if self.value() == "none":
            return queryset.filter(assigned_agent__isnull=True)
        if self.value() == "any":
            return queryset.filter(assigned_agent__isnull=False)
        return queryset


class UnreadFilter(admin.SimpleListFilter):
    title = "waiting for support"
    parameter_name = "unread"

    def lookups(self, request, model_admin):
        return [("yes", "Unread customer messages"), ("no", "All read")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(unread_customer_messages__gt=0)
        if self.value() == "no":
            return queryset.filter(unread_customer_messages=0)
        return queryset


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "customer_email",
        "status",
        "assigned_agent",
        "unread_customer_messages",
        "last_message_at",
        "created_at",
    ]
    list_filter = ["status", AssignmentFilter, UnreadFilter, "created_at"]
    search_fields = ["customer__email", "subject", "=id"]
    list_select_related = ["customer", "assigned_agent"]
    raw_id_fields = ["product"]
    # Status and assignment change only through the actions, which call the services (broadcasts
    # included); conversations are opened by customers, never here.
    readonly_fields = [
        "id",
        "customer",
        "status",
        "assigned_agent",
        "created_at",
        "last_message_at",
        "closed_at",
        "customer_notified_at",
    ]
    fields = [
        "id",
        "customer",
        "subject",
        "status",
        "assigned_agent",
        "product",
        "order",
        "created_at",
        "last_message_at",
        "closed_at",
        "customer_notified_at",
    ]
    inlines = [MessageInline]
    date_hierarchy = "last_message_at"
    actions = ["assign_to_me", "unassign", "close_conversations"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(unread_customer_messages=unread_messages_count(sender_role=Message.SenderRole.CUSTOMER))
        )

    @admin.display(description="customer", ordering="customer__email")
    def customer_email(self, conversation) -> str:
        return str(conversation.customer)

    @admin.display(description="unread", ordering="unread_customer_messages")
    def unread_customer_messages(self, conversation) -> int:
        return conversation.unread_customer_messages

    def _apply(self, request, queryset, service, done: str, **kwargs) -> None:
        succeeded, failed = 0, []
        for conversation in queryset.order_by("pk"):
            try:
                service(conversation_id=conversation.pk, **kwargs)
                succeeded += 1
            except DomainError as error:
                failed.append(f"{conversation.subject}: {error.detail}")
        if succeeded:
            self.message_user(request, f"{succeeded} conversation(s) {done}.", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Assign selected conversations to me")
    def assign_to_me(self, request, queryset):
        self._apply(request, queryset, services.conversation_assign, "assigned to you", agent_id=request.user.pk)

    @admin.action(description="Unassign selected conversations")
    def unassign(self, request, queryset):
        self._apply(request, queryset, services.conversation_assign, "unassigned", agent_id=None)

    @admin.action(description="Close selected conversations")
    def close_conversations(self, request, queryset):
        self._apply(request, queryset, services.conversation_close, "closed")
