"""Payments, their ledger, refunds and the provider's webhook events.

`Payment` is one attempt to collect an order's total through one provider (a Stripe
PaymentIntent). Its `authorized_amount`, `captured_amount` and `refunded_amount` are running sums of
its `PaymentTransaction` ledger rows, updated in the same transaction as the row they sum; CHECK
constraints keep them ordered (refunded <= captured <= authorized), so no code path can refund
money that was never captured.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel, UUIDModel

MONEY = {"max_digits": 12, "decimal_places": 2}


class Payment(UUIDModel, TimeStampedModel):
    class Status(models.TextChoices):
        CREATED = "created", "Created (provider not yet answered)"
        PENDING = "pending", "Waiting for the customer"
        PROCESSING = "processing", "Processing (the money is on its way, e.g. a bank debit)"
        FAILED = "failed", "Failed"
        SUCCEEDED = "succeeded", "Succeeded"
        CANCELLED = "cancelled", "Cancelled"

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="payments")
    provider = models.CharField(max_length=20)
    provider_payment_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    client_secret = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    authorized_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    captured_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    refunded_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    applied_to_order = models.BooleanField(
        default=False, help_text="This payment's capture paid the order (refunds of the order come from it)."
    )
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    # When the provider event that set the current status happened: an older processing or
    # failure report delivered late is recognised as stale and changes nothing.
    status_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("captured_amount"))
                & Q(captured_amount__lte=F("authorized_amount")),
                name="payment_ledger_ordered",
            ),
            # One live attempt per order: a second POST payments/ reuses it instead of opening another.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["created", "pending", "processing"]),
                name="payment_one_open_attempt_per_order",
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(applied_to_order=True), name="payment_one_applied_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency} ({self.status})"

    @property
    def provider_idempotency_key(self) -> str:
        return f"payment-{self.pk}"


class PaymentTransaction(models.Model):
    """One movement of money as the provider reported it. `provider_reference` + `kind` is unique,
    so the same report (a webhook delivered twice, a sync answer and its webhook) is booked once."""

    class Kind(models.TextChoices):
        AUTHORIZATION = "authorization", "Authorization"
        CAPTURE = "capture", "Capture"
        REFUND = "refund", "Refund"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    provider_reference = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_transaction_amount_positive"),
            models.UniqueConstraint(
                fields=["payment", "kind", "provider_reference"], name="payment_transaction_booked_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class Refund(UUIDModel, TimeStampedModel):
    """Money going back. A pending refund already counts against what is refundable, so two staff
    members refunding at once cannot exceed the capture; it enters the ledger when it succeeds."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        STAFF = "staff", "Asked for by staff"
        CANCELLATION = "cancellation", "Cancellation of a paid order"
        AUTOMATIC = "automatic", "Automatic (payment for an order that could not take it)"
        PROVIDER = "provider", "Made at the provider (e.g. Stripe dashboard)"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    provider_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    failure_code = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} ({self.status})"

    @property
    def provider_idempotency_key(self) -> str:
        return f"refund-{self.pk}"

    @property
    def cancels_order(self) -> bool:
        return self.source == self.Source.CANCELLATION


class WebhookEvent(models.Model):
    """Each provider event id is stored once; a redelivery finds it and does nothing."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    outcome = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_processed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class PaymentDispute(UUIDModel, TimeStampedModel):
    """A dispute (chargeback) the customer's bank opened against a payment, as the provider last
    reported it. Money is not booked from it: a lost dispute is withdrawn by the provider and shows
    in its balance; the shop records, shows and tells staff."""

    class FundsState(models.TextChoices):
        HELD = "", "Not moved"
        WITHDRAWN = "withdrawn", "Withdrawn from the shop's balance"
        REINSTATED = "reinstated", "Reinstated to the shop's balance"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="disputes")
    provider_dispute_id = models.CharField(max_length=255, unique=True)
    provider_charge_id = models.CharField(max_length=255, blank=True)
    # Stripe's statuses: warning_needs_response, warning_under_review, warning_closed,
    # needs_response, under_review, won, lost, prevented.
    status = models.CharField(max_length=30)
    reason = models.CharField(max_length=50, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    funds = models.CharField(max_length=20, choices=FundsState.choices, blank=True, default=FundsState.HELD)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="Time of the newest event applied.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="payment_dispute_amount_non_negative")]

    def __str__(self) -> str:
        return f"dispute {self.amount} {self.currency} ({self.status})"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_DISPUTE_STATUSES


CLOSED_DISPUTE_STATUSES = frozenset({"won", "lost", "warning_closed", "prevented"})
