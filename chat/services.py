"""Chat writes. Every message is committed before anyone hears of it: websocket broadcasts and the
reply email are queued with `transaction.on_commit`, so a listener never sees a message that a
rollback later takes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.jobs import enqueue_on_commit
from core.links import frontend_link
from core.tasks import send_email

from . import events
from .errors import (
    ConversationAlreadyClosed,
    ConversationClosed,
    ConversationNotFound,
    InvalidAgent,
    MessageEmpty,
    MessageNotFound,
    MessageTooLong,
    UnknownOrder,
    UnknownProduct,
)
from .models import SUBJECT_MAX_LENGTH, Conversation, Message
from .presence import presence_is_connected

User = get_user_model()
Role = Message.SenderRole

REPLY_EMAIL_TEMPLATE = "chat_agent_reply"  # chat/templates/email/chat_agent_reply.{txt,html}
# Subjects derived from the first message stop at a word boundary near this length.
_DERIVED_SUBJECT_LENGTH = 80


@dataclass(frozen=True)
class ReadReceipt:
    conversation_id: UUID
    message_id: UUID
    read_count: int
    read_at: datetime


def conversation_role_of(*, conversation: Conversation, user) -> str | None:
    """`customer` for the conversation's customer, `agent` for active staff, None for anyone else.
    A staff member who opened their own conversation takes part in it as its customer."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.pk == conversation.customer_id:
        return Role.CUSTOMER
    if user.is_staff:
        return Role.AGENT
    return None


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise MessageEmpty(attr="body")
    limit = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(body) > limit:
        raise MessageTooLong(
            f"The message body is {len(body)} characters long; the limit is {limit}.",
            attr="body",
            max_length=limit,
        )
    return body


def _derived_subject(body: str) -> str:
    first_line = body.splitlines()[0].strip()
    if len(first_line) <= _DERIVED_SUBJECT_LENGTH:
        return first_line
    cut = first_line[:_DERIVED_SUBJECT_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "..."


def _member_conversation(*, conversation_id: UUID, user, for_update: bool = False) -> tuple[Conversation, str]:
    queryset = Conversation.objects.select_related("customer")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    conversation = queryset.filter(pk=conversation_id).first()
    role = conversation_role_of(conversation=conversation, user=user) if conversation else None
    if role is None:  # a stranger learns nothing about whether the conversation exists
        raise ConversationNotFound()
    return conversation, role


@transaction.atomic
def conversation_open(
    *,
    customer,
    body: str,
    subject: str = "",
    product_slug: str | None = None,
    order_id: UUID | None = None,
) -> Conversation:
    """Open a conversation with its first message (the customer's question)."""
    from orders.models import Order
    from shop.models import Product

    body = _clean_body(body)
    subject = (subject or "").strip()[:SUBJECT_MAX_LENGTH] or _derived_subject(body)
    product = None
    if product_slug:
        product = Product.objects.filter(slug=product_slug, is_active=True).first()
        if product is None:
            raise UnknownProduct(attr="product")
    order = None
    if order_id:
        # Only the customer's own order; another customer's order is as unknown as a missing one.
        order = Order.objects.filter(pk=order_id, user=customer).first()
        if order is None:
            raise UnknownOrder(attr="order_id")
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer=customer,
        subject=subject,
        product=product,
        order=order,
        last_message_at=now,
        created_at=now,
    )
    message = Message.objects.create(
        conversation=conversation, sender=customer, sender_role=Role.CUSTOMER, body=body, created_at=now
    )
    transaction.on_commit(lambda: events.publish_conversation(conversation, event="created"), robust=True)
    transaction.on_commit(lambda: events.publish_message(message), robust=True)
    return conversation


@transaction.atomic
def message_send(*, conversation_id: UUID, sender, body: str) -> Message:
    """Store a message from the customer or an agent, then (after commit) broadcast it and, for an
    agent's reply to an absent customer, email them."""
    body = _clean_body(body)
    conversation, role = _member_conversation(conversation_id=conversation_id, user=sender)
    now = timezone.now()
    # The guarded update both refuses closed conversations and holds the row lock until commit,
    # so a concurrent close cannot slip between the check and the insert.
    if not Conversation.objects.filter(pk=conversation.pk, status=Conversation.Status.OPEN).update(last_message_at=now):
        raise ConversationClosed()
    conversation.last_message_at = now
    message = Message.objects.create(
        conversation=conversation, sender=sender, sender_role=role, body=body, created_at=now
    )
    if role == Role.AGENT:
        _email_customer_if_away(conversation=conversation, message=message, now=now)
    transaction.on_commit(lambda: events.publish_message(message), robust=True)
    return message


def _email_customer_if_away(*, conversation: Conversation, message: Message, now: datetime) -> None:
    """The reply-email rule (docs/CHAT.md): email the customer when an agent replies while the
    customer has no socket open on this conversation, at most once until the customer reads the
    conversation again or CHAT_REPLY_EMAIL_COOLDOWN_MINUTES pass."""
    customer = conversation.customer
    if not customer.email or not customer.is_active or customer.anonymized_at is not None:
        return
    if presence_is_connected(conversation_id=conversation.pk, user_id=customer.pk):
        return
    cooldown_start = now - timedelta(minutes=settings.CHAT_REPLY_EMAIL_COOLDOWN_MINUTES)
    claimed = (
        Conversation.objects.filter(pk=conversation.pk)
        .filter(Q(customer_notified_at__isnull=True) | Q(customer_notified_at__lt=cooldown_start))
        .update(customer_notified_at=now)
    )
    if not claimed:
        return
    context = {
        "customer_name": customer.first_name or "",
        "agent_name": events.agent_display_name(message.sender),
        "subject": conversation.subject,
        "message_body": message.body,
        "conversation_id": str(conversation.pk),
        "conversation_url": frontend_link("conversation", conversation_id=conversation.pk),
    }
    email_subject = f"New reply: {conversation.subject}"

    enqueue_on_commit(
        send_email,
        to=customer.email,
        subject=email_subject,
        template=REPLY_EMAIL_TEMPLATE,
        context=context,
        dedupe_key=f"chat:agent-reply:{message.pk}",
    )


@transaction.atomic
def messages_mark_read(*, conversation_id: UUID, reader, up_to_message_id: UUID) -> ReadReceipt:
    """Mark the other side's messages up to and including `up_to_message_id` as read (receipts are
    cumulative, like every chat client shows them)."""
    conversation, role = _member_conversation(conversation_id=conversation_id, user=reader)
    target = Message.objects.filter(pk=up_to_message_id, conversation=conversation).only("created_at").first()
    if target is None:
        raise MessageNotFound(attr="message_id")
    other_side = Role.AGENT if role == Role.CUSTOMER else Role.CUSTOMER
    now = timezone.now()
    read_count = Message.objects.filter(
        conversation=conversation,
        sender_role=other_side,
        read_at__isnull=True,
        created_at__lte=target.created_at,
    ).update(read_at=now)
    if role == Role.CUSTOMER:
        # The customer has caught up: the next reply while they are away may email them again.
        Conversation.objects.filter(pk=conversation.pk).update(customer_notified_at=None)
    if read_count:
        transaction.on_commit(
            lambda: events.publish_read(
                conversation_id=conversation.pk,
                reader_id=reader.pk,
                reader_role=role,
                message_id=target.pk,
                read_at=now,
            ),
            robust=True,
        )
    return ReadReceipt(conversation_id=conversation.pk, message_id=target.pk, read_count=read_count, read_at=now)


def _conversation_for_event(conversation_id: UUID) -> Conversation:
    return Conversation.objects.select_related("customer", "assigned_agent", "product").get(pk=conversation_id)


@transaction.atomic
def conversation_assign(*, conversation_id: UUID, agent_id: UUID | None) -> Conversation:
    """Give an open conversation to an active staff member, or take it back (`agent_id=None`)."""
    agent = None
    if agent_id is not None:
        agent = User.objects.filter(pk=agent_id, is_staff=True, is_active=True).first()
        if agent is None:
            raise InvalidAgent(attr="agent_id")
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        raise ConversationNotFound()
    if not conversation.is_open:
        raise ConversationClosed()
    conversation.assigned_agent = agent
    conversation.save(update_fields=["assigned_agent"])
    fresh = _conversation_for_event(conversation.pk)
    transaction.on_commit(lambda: events.publish_conversation(fresh, event="assigned"), robust=True)
    return fresh


@transaction.atomic
def conversation_close(*, conversation_id: UUID) -> Conversation:
    """Close an open conversation; its history stays readable, new messages are refused."""
    closed = Conversation.objects.filter(pk=conversation_id, status=Conversation.Status.OPEN).update(
        status=Conversation.Status.CLOSED, closed_at=timezone.now()
    )
    if not closed:
        if Conversation.objects.filter(pk=conversation_id).exists():
            raise ConversationAlreadyClosed()
        raise ConversationNotFound()
    fresh = _conversation_for_event(conversation_id)
    transaction.on_commit(lambda: events.publish_conversation(fresh, event="closed"), robust=True)
    return fresh
