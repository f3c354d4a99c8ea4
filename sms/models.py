from django.db import models

from core.models import TimeStampedModel, UUIDModel


class SmsMessage(UUIDModel, TimeStampedModel):
    """The log of every SMS: written when it is queued, updated by the task that sends it.
    Bodies of sensitive messages (one-time codes) are masked once sending is over."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.CharField(max_length=16, help_text="E.164")
    body = models.TextField()
    purpose = models.CharField(max_length=50, help_text="Why it was sent, e.g. otp_login, order_shipped.")
    sensitive = models.BooleanField(default=False, help_text="Body is masked once sending is over.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    backend = models.CharField(max_length=200, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "SMS message"
        indexes = [
            models.Index(fields=["to", "-created_at"], name="sms_to_created_idx"),
            models.Index(fields=["status", "created_at"], name="sms_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} to {self.to} ({self.status})"
