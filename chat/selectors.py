"""Chat reads, shaped for the serializers and scoped to the viewer."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from .models import Conversation, Message


def user_socket_rights(*, user_id: UUID) -> tuple[bool, int] | None:
    """`(is_staff, session_version)` of an active account, None for an inactive or deleted one. One
    primary-key query on two columns: cheap enough for every websocket frame that acts as an agent."""
    return (
        get_user_model().objects.filter(pk=user_id, is_active=True).values_list("is_staff", "session_version").first()
    )


def conversations_visible_to(*, viewer) -> QuerySet[Conversation]:
    """Staff see every conversation, a customer their own (the same rule as the REST views)."""
    if not getattr(viewer, "is_authenticated", False) or not viewer.is_active:
        return Conversation.objects.none()
    if viewer.is_staff:
        return Conversation.objects.all()
    return Conversation.objects.filter(customer=viewer)


def unread_messages_count(*, sender_role) -> Coalesce:
    """Per conversation row: its unread messages written by `sender_role` (a value or an OuterRef).
    A correlated subquery, so only the rows on the page pay for it and the partial unread index
    serves it."""
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), read_at__isnull=True, sender_role=sender_role)
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def conversation_list(*, viewer, queryset: QuerySet[Conversation] | None = None) -> QuerySet[Conversation]:
    """Conversations with what a list shows: customer, agent, product, and `unread_count`, the
    messages from the other side the viewer has not read (agent messages for the conversation's
    customer, customer messages for staff)."""
    if queryset is None:
        queryset = conversations_visible_to(viewer=viewer)
    return (
        queryset.select_related("customer", "assigned_agent", "product")
        .annotate(
            unread_role=Case(
                When(customer_id=viewer.pk, then=Value(Message.SenderRole.AGENT)),
                default=Value(Message.SenderRole.CUSTOMER),
            ),
            unread_count=unread_messages_count(sender_role=OuterRef("unread_role")),
        )
        .order_by("-last_message_at", "-created_at")
    )


def conversation_get_for_member(*, viewer, conversation_id: UUID) -> Conversation | None:
    return (
        conversations_visible_to(viewer=viewer)
        .select_related("customer", "assigned_agent", "product")
        .filter(pk=conversation_id)
        .first()
    )


def message_history(*, conversation: Conversation) -> QuerySet[Message]:
    """Newest first; the cursor paginator keeps that order stable while messages arrive."""
    return Message.objects.filter(conversation=conversation).select_related("sender").order_by("-created_at")
