"""A demo support conversation between the demo customer and the staff user (idempotent)."""

from datetime import timedelta

from django.utils import timezone

from .models import Conversation, Message

DEMO_SUBJECT = "Which size should I order?"


def seed(ctx) -> None:
    customer = ctx.shared.get("demo_user")
    agent = ctx.shared.get("staff_user")
    if customer is None or agent is None:
        ctx.say("chat: no demo customer or staff user, skipped")
        return
    conversation, created = Conversation.objects.get_or_create(
        customer=customer, subject=DEMO_SUBJECT, defaults={"last_message_at": timezone.now()}
    )
    if created:
        question = Message.objects.create(
            conversation=conversation,
            sender=customer,
            sender_role=Message.SenderRole.CUSTOMER,
            body="Hi! I usually wear a 42 in sneakers. Which size should I order?",
            read_at=timezone.now(),
        )
        answer = Message.objects.create(
            conversation=conversation,
            sender=agent,
            sender_role=Message.SenderRole.AGENT,
            body="Hello! Our sizes run true to size, so a 42 will fit. Anything else I can help with?",
            created_at=question.created_at + timedelta(minutes=2),
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=answer.created_at, assigned_agent=agent)
    ctx.say(f"chat: demo conversation '{DEMO_SUBJECT}' {'created' if created else 'already there'}")
