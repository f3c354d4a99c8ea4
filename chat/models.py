from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import UUIDModel

SUBJECT_MAX_LENGTH = 200


class Conversation(UUIDModel):
    """A support thread between one customer and the support team (any staff member may answer)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_conversations"
    )
    product = models.ForeignKey(
        "shop.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="support_conversations"
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="support_conversations"
    )
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    last_message_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the customer was last emailed about an agent reply; bounds the reply emails.
    customer_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-last_message_at", "-created_at"]
        indexes = [
            models.Index(fields=["customer", "-last_message_at"], name="chat_conv_customer_idx"),
            models.Index(fields=["status", "-last_message_at"], name="chat_conv_status_idx"),
            models.Index(fields=["assigned_agent", "status"], name="chat_conv_agent_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="chat_conv_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | Q(status="closed", closed_at__isnull=False),
                name="chat_conv_closed_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Message(UUIDModel):
    """One chat message. `sender_role` is fixed when the message is written: it says which side of
    the conversation wrote it, so "unread" means "not yet read by the other side"."""

    class SenderRole(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # A deleted sender leaves the message (and the conversation's history) in place.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="support_messages"
    )
    sender_role = models.CharField(max_length=10, choices=SenderRole.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["conversation", "-created_at"], name="chat_msg_history_idx"),
            # The unread counts and the `unread` filter only ever look at unread rows.
            models.Index(
                fields=["conversation", "sender_role"],
                condition=Q(read_at__isnull=True),
                name="chat_msg_unread_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="chat_msg_body_not_empty"),
            models.CheckConstraint(condition=Q(sender_role__in=["customer", "agent"]), name="chat_msg_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.sender_role}: {self.body[:40]}"
