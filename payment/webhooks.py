"""Stripe webhooks: verify, store once, apply.

1. The signature is checked by Stripe's library against STRIPE_WEBHOOK_SECRET (HMAC of
   "timestamp.payload", timestamp younger than STRIPE_WEBHOOK_TOLERANCE_SECONDS). A bad or stale
   signature is a 400 and nothing is written.
2. In ONE transaction the event id is inserted (unique per provider) and the event applied. A
   redelivery meets the unique constraint and is a no-op; two deliveries racing each other queue on
   the unique index, and the second becomes the no-op. If applying fails, the insert rolls back
   with it and Stripe's redelivery gets another chance.
3. Appliers are written so that any order of events ends in the same state: a failure after a
   success changes nothing; a success after a failure wins; a refund for money not yet booked is
   refused (409) until the capture has been booked. Processing, failure and dispute reports
   carry the event's `created` time: one older than the report already applied is stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from .errors import InvalidWebhook, PaymentProviderNotConfigured
from .gateways.stripe import from_stripe_amount, refund_status_from_stripe
from .models import WebhookEvent
from .services import (
    DisputeReport,
    dispute_from_provider,
    payment_cancelled_record,
    payment_failed_record,
    payment_for_provider_object,
    payment_processing_record,
    payment_succeeded_record,
    refund_from_provider,
)

PROVIDER = "stripe"


def stripe_event_verify(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise PaymentProviderNotConfigured("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.Webhook.construct_event(payload, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError):
        raise InvalidWebhook()
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise InvalidWebhook("The webhook payload is not a Stripe event.", code="invalid_payload")
    return event


@transaction.atomic
def stripe_event_process(*, event: dict[str, Any]) -> str:
    """Apply a verified event once. Returns the outcome (stored on the event row)."""
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                provider=PROVIDER, event_id=event["id"], type=event["type"], payload=event
            )
    except IntegrityError:
        return "duplicate"
    applier = APPLIERS.get(event["type"])
    obj = (event.get("data") or {}).get("object") or {}
    outcome = applier(obj, event) if applier else "ignored_type"
    WebhookEvent.objects.filter(pk=record.pk).update(outcome=outcome[:255])
    return outcome


def _payment_of_intent(intent: dict[str, Any]):
    return payment_for_provider_object(
        provider_payment_id=intent.get("id", ""), payment_id=(intent.get("metadata") or {}).get("payment_id")
    )


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _intent_succeeded(intent: dict[str, Any], event: dict[str, Any]) -> str:
    payment = _payment_of_intent(intent)
    if payment is None:
        return "unknown_payment"
    currency = (intent.get("currency") or "").upper()
    received = intent.get("amount_received")
    if received is None:
        received = intent.get("amount", 0)
    return payment_succeeded_record(
        payment=payment,
        provider_payment_id=intent["id"],
        amount=from_stripe_amount(int(received), currency),
        currency=currency,
    )


def _intent_processing(intent: dict[str, Any], event: dict[str, Any]) -> str:
    payment = _payment_of_intent(intent)
    if payment is None:
        return "unknown_payment"
    return payment_processing_record(
        payment=payment, provider_payment_id=intent["id"], occurred_at=_timestamp(event.get("created"))
    )


def _intent_requires_action(intent: dict[str, Any], event: dict[str, Any]) -> str:
    """The customer must act (3-D Secure, a bank verification, a voucher). No money moves yet, so
    the order stays `pending_payment` and its payment window keeps running (docs/PAYMENTS.md)."""
    return "awaiting_customer_action" if _payment_of_intent(intent) is not None else "unknown_payment"


def _intent_failed(intent: dict[str, Any], event: dict[str, Any]) -> str:
    payment = _payment_of_intent(intent)
    if payment is None:
        return "unknown_payment"
    error = intent.get("last_payment_error") or {}
    return payment_failed_record(
        payment=payment,
        code=error.get("decline_code") or error.get("code") or "payment_failed",
        message=error.get("message") or "",
        occurred_at=_timestamp(event.get("created")),
    )


def _intent_cancelled(intent: dict[str, Any], event: dict[str, Any]) -> str:
    payment = _payment_of_intent(intent)
    if payment is None:
        return "unknown_payment"
    return payment_cancelled_record(payment=payment, occurred_at=_timestamp(event.get("created")))


def _refund_changed(refund: dict[str, Any], event: dict[str, Any] | None = None) -> str:
    currency = (refund.get("currency") or "").upper()
    return refund_from_provider(
        provider_refund_id=refund["id"],
        refund_id=(refund.get("metadata") or {}).get("refund_id"),
        provider_payment_id=refund.get("payment_intent"),
        amount=from_stripe_amount(int(refund.get("amount") or 0), currency),
        currency=currency,
        status=refund_status_from_stripe(refund.get("status") or ""),
        reason=refund.get("reason") or "",
    )


def _charge_refunded(charge: dict[str, Any], event: dict[str, Any]) -> str:
    """`charge.refunded` names the refunds only when Stripe embeds them (older API versions); each
    is applied like a refund event. Without them the refund.* events carry the refund ids."""
    refunds = ((charge.get("refunds") or {}).get("data")) or []
    outcomes = [_refund_changed({"payment_intent": charge.get("payment_intent"), **refund}) for refund in refunds]
    return ",".join(outcomes) or "no_embedded_refunds"


def _dispute_changed(dispute: dict[str, Any], event: dict[str, Any]) -> str:
    """charge.dispute.created / updated / closed / funds_withdrawn / funds_reinstated."""
    currency = (dispute.get("currency") or "").upper()
    charge = dispute.get("charge")
    return dispute_from_provider(
        report=DisputeReport(
            provider_dispute_id=dispute["id"],
            provider_payment_id=dispute.get("payment_intent"),
            provider_charge_id=charge.get("id", "") if isinstance(charge, dict) else str(charge or ""),
            status=dispute.get("status") or "",
            reason=dispute.get("reason") or "",
            amount=from_stripe_amount(int(dispute.get("amount") or 0), currency),
            currency=currency,
            evidence_due_by=_timestamp((dispute.get("evidence_details") or {}).get("due_by")),
            change=event["type"].removeprefix("charge.dispute."),
            event_id=event["id"],
            occurred_at=_timestamp(event.get("created")),
        )
    )


APPLIERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], str]] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.processing": _intent_processing,
    "payment_intent.requires_action": _intent_requires_action,
    "payment_intent.payment_failed": _intent_failed,
    "payment_intent.canceled": _intent_cancelled,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund_changed,
    "refund.created": _refund_changed,
    "refund.updated": _refund_changed,
    "refund.failed": _refund_changed,
    **{
        f"charge.dispute.{change}": _dispute_changed
        for change in ("created", "updated", "closed", "funds_withdrawn", "funds_reinstated")
    },
}
