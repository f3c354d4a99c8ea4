"""The chat app's part in the GDPR export and erasure (registered in ChatConfig.ready()).

Erasure keeps the conversations, so support keeps its history (what was promised, refunds agreed),
but removes what the customer wrote: the body of each of their messages becomes "[removed]" and the
subject (often the first line of their first message) too. Agents' replies stay. Open conversations
are closed, since nobody can answer them any more.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from account.gdpr import export_json_safe
from account.models import User

from .events import agent_display_name
from .models import Conversation, Message

REMOVED_TEXT = "[removed]"


def chat_export_for_user(user: User) -> list[dict[str, Any]]:
    """The user's conversations as customer with all their messages, oldest message first: two
    queries for any number of conversations."""
    conversations = (
        Conversation.objects.filter(customer=user)
        .select_related("product", "order")
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.select_related("sender").order_by("created_at", "id"))
        )
        .order_by("-created_at", "-id")
    )
    return export_json_safe(
        [
            {
                "id": conversation.pk,
                "subject": conversation.subject,
                "status": conversation.status,
                "product_slug": conversation.product.slug if conversation.product else None,
                "order_number": conversation.order.number if conversation.order else None,
                "created_at": conversation.created_at,
                "closed_at": conversation.closed_at,
                "messages": [
                    {
                        "id": message.pk,
                        "from": message.sender_role,
                        # Agents by first name only, as the chat shows them to customers.
                        "sender_name": agent_display_name(message.sender)
                        if message.sender_role == Message.SenderRole.AGENT
                        else None,
                        "body": message.body,
                        "created_at": message.created_at,
                        "read_at": message.read_at,
                    }
                    for message in conversation.messages.all()
                ],
            }
            for conversation in conversations
        ]
    )


@transaction.atomic
def chat_anonymize_for_user(user: User) -> None:
    conversations = Conversation.objects.filter(customer=user)
    Message.objects.filter(conversation__in=conversations, sender_role=Message.SenderRole.CUSTOMER).exclude(
        body=REMOVED_TEXT
    ).update(body=REMOVED_TEXT)
    conversations.filter(status=Conversation.Status.OPEN).update(
        status=Conversation.Status.CLOSED, closed_at=timezone.now()
    )
    conversations.exclude(subject=REMOVED_TEXT).update(subject=REMOVED_TEXT)
