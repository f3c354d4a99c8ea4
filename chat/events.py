"""What the chat publishes to websocket listeners, and where.

Groups: one per conversation (its customer's and agents' sockets) and one support feed for staff.
Payloads are plain dicts in the same shape as the REST serializers (tests hold them equal), built
here without DRF because services publish them after commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .models import Conversation, Message

logger = logging.getLogger(__name__)

SUPPORT_GROUP = "chat.support"


def conversation_group(conversation_id: UUID | str) -> str:
    return f"chat.conversation.{UUID(str(conversation_id)).hex}"


def user_group(user_id: UUID | str) -> str:
    """Every chat socket of one user, so a change to their account can reach the open ones."""
    return f"chat.user.{UUID(str(user_id)).hex}"


def iso(value: datetime | None) -> str | None:
    """DRF's rendering of datetimes (ISO 8601, `Z` for UTC), so socket and REST payloads match."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def agent_display_name(user) -> str:
    # Customers see an agent's first name only, never their email.
    return (user.first_name if user is not None else "") or "Support"


def customer_display_name(user) -> str:
    if user is None:
        return "Customer"
    return user.get_full_name() or "Customer"


def sender_payload(message: Message) -> dict[str, Any]:
    is_agent = message.sender_role == Message.SenderRole.AGENT
    name = agent_display_name(message.sender) if is_agent else customer_display_name(message.sender)
    return {
        "id": str(message.sender_id) if message.sender_id else None,
        "name": name,
        "role": message.sender_role,
    }


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "conversation_id": str(message.conversation_id),
        "sender": sender_payload(message),
        "body": message.body,
        "created_at": iso(message.created_at),
        "read_at": iso(message.read_at),
    }


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    customer = conversation.customer
    agent = conversation.assigned_agent
    product = conversation.product
    return {
        "id": str(conversation.id),
        "subject": conversation.subject,
        "status": conversation.status,
        "customer": {"id": str(customer.id), "name": customer_display_name(customer), "email": customer.email},
        "assigned_agent": {"id": str(agent.id), "name": agent_display_name(agent)} if agent else None,
        "product": {"slug": product.slug, "name": product.name} if product else None,
        "order_id": str(conversation.order_id) if conversation.order_id else None,
        "last_message_at": iso(conversation.last_message_at),
        "created_at": iso(conversation.created_at),
        "closed_at": iso(conversation.closed_at),
    }


def publish(group: str, event: dict[str, Any]) -> None:
    """Send to a group. Runs after commit, so a channel-layer outage is logged, never raised: the
    data is stored and clients catch up through the REST history."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:
        logger.exception("chat: could not publish to the channel layer", extra={"group": group})


def publish_message(message: Message) -> None:
    payload = message_payload(message)
    publish(conversation_group(message.conversation_id), {"type": "chat.message", "message": payload})
    publish(SUPPORT_GROUP, {"type": "chat.message", "message": payload})


def publish_conversation(conversation: Conversation, *, event: str) -> None:
    """`event` is `created`, `assigned` or `closed`."""
    payload = conversation_payload(conversation)
    publish(conversation_group(conversation.id), {"type": "chat.conversation", "event": event, "conversation": payload})
    publish(SUPPORT_GROUP, {"type": "chat.conversation", "event": event, "conversation": payload})


def publish_read(*, conversation_id: UUID, reader_id: UUID, reader_role: str, message_id: UUID, read_at) -> None:
    event = {
        "type": "chat.read",
        "conversation_id": str(conversation_id),
        "message_id": str(message_id),
        "reader": {"id": str(reader_id), "role": reader_role},
        "read_at": iso(read_at),
    }
    publish(conversation_group(conversation_id), event)


def publish_user_access(*, user_id: UUID, rights: tuple[bool, int] | None) -> None:
    """The account's current rights (`chat.selectors.user_socket_rights`) to its open sockets; each
    socket compares them with what it was admitted with and closes itself if they no longer hold."""
    is_staff, session_version = rights if rights is not None else (False, None)
    publish(
        user_group(user_id),
        {"type": "chat.access", "active": rights is not None, "is_staff": is_staff, "session_version": session_version},
    )
