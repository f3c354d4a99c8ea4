"""Query filters of the conversation list: `status`, `assigned` (me, none or an agent's id),
`unread` and `customer`."""

import uuid

import django_filters
from django.core.exceptions import ValidationError

from .models import Conversation


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Conversation.Status.choices)
    assigned = django_filters.CharFilter(
        method="filter_assigned",
        help_text="`me` (the caller), `none` (unassigned) or a staff member's id.",
    )
    # A choice rather than BooleanFilter, which silently ignores a value it cannot read.
    unread = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_unread",
        help_text="true: conversations with messages from the other side the caller has not read.",
    )
    customer = django_filters.UUIDFilter(field_name="customer_id", help_text="A customer's id (staff).")

    class Meta:
        model = Conversation
        fields = ["status", "assigned", "unread", "customer"]

    def filter_assigned(self, queryset, name, value: str):
        value = value.strip().lower()
        if value == "me":
            return queryset.filter(assigned_agent=self.request.user)
        if value == "none":
            return queryset.filter(assigned_agent__isnull=True)
        try:
            agent_id = uuid.UUID(value)
        except ValueError:
            raise ValidationError({"assigned": "Use `me`, `none` or a staff member's id."}, code="invalid")
        return queryset.filter(assigned_agent_id=agent_id)

    def filter_unread(self, queryset, name, value: str):
        # `unread_count` is annotated by chat.selectors.conversation_list.
        return queryset.filter(unread_count__gt=0) if value == "true" else queryset.filter(unread_count=0)
