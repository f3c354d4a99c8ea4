import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UUIDModel(models.Model):
    """Public resources are addressed by UUID, never by a guessable sequence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """One row per (user, scope, key): the first request's fingerprint and, once done, its response.
    An anonymous caller (a guest checkout) has no user: its scope names the credential it acts with
    (`orders.create:cart:<cart token>`), and (scope, key) is unique among such rows."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_unique_per_user_scope"),
            # NULL users are distinct in the constraint above: anonymous claims need their own.
            models.UniqueConstraint(
                fields=["scope", "key"], condition=Q(user__isnull=True), name="idempotency_key_unique_anonymous"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class OutboxMessage(models.Model):
    """A fact to deliver to another system, written in the same transaction as the business change
    it describes (see core.outbox). `key` identifies the fact within its topic (an order id), so the
    same fact is stored once however often it is enqueued."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed, will retry"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead (gave up)"

    topic = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True, help_text="The request that wrote the message.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "key"], name="core_outbox_unique_topic_key"),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "failed", "sent", "dead"]), name="core_outbox_status_known"
            ),
        ]
        indexes = [
            # The drain's query: due rows that still need delivering.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="core_outbox_due_idx",
            ),
            models.Index(fields=["status", "topic"], name="core_outbox_status_topic_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic}:{self.key}"
