"""The payment app's part in the GDPR export and erasure (registered in PaymentConfig.ready()).

Our own payment rows hold no personal data: amounts, currencies, statuses, provider ids, the
client secret and the provider's decline code and message. They stay, with the ledger and the
refunds, as accounting records. Personal data can arrive in the stored webhook events: Stripe puts
the cardholder's name, email, phone and address (`billing_details`), the card's fingerprint and last
digits, `receipt_email` and `shipping` into the objects it sends. On erasure each stored event of
the user's payments is cut down to an allow-list of keys our appliers read (ids, amounts, currency,
status, metadata, decline codes), so nothing the provider adds later can slip through.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q

from account.gdpr import export_json_safe
from account.models import User
from core.models import IdempotencyKey

from .models import Payment, Refund, WebhookEvent

EVENT_KEYS_KEPT = frozenset({"id", "object", "api_version", "created", "type", "livemode"})
OBJECT_KEYS_KEPT = frozenset(
    {
        "id",
        "object",
        "amount",
        "amount_captured",
        "amount_received",
        "amount_refunded",
        "captured",
        "created",
        "currency",
        "latest_charge",
        "livemode",
        "metadata",
        "paid",
        "payment_intent",
        "reason",
        "refunded",
        "status",
    }
)
PAYMENT_ERROR_KEYS_KEPT = frozenset({"code", "decline_code", "type"})
SCRUBBED_MARK = "personal_data_removed"
PAYMENT_IDEMPOTENCY_SCOPE = "payments.create"


def payments_export_for_user(user: User) -> list[dict[str, Any]]:
    """The user's payment attempts with their refunds, newest first: two queries for any number."""
    payments = (
        Payment.objects.filter(user=user)
        .select_related("order")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "pk")))
        .order_by("-created_at", "-pk")
    )
    return export_json_safe(
        [
            {
                "id": payment.pk,
                "order_number": payment.order.number,
                "provider": payment.provider,
                "status": payment.status,
                "amount": payment.amount,
                "currency": payment.currency,
                "captured_amount": payment.captured_amount,
                "refunded_amount": payment.refunded_amount,
                "failure_code": payment.failure_code,
                "created_at": payment.created_at,
                "succeeded_at": payment.succeeded_at,
                "refunds": [
                    {
                        "amount": refund.amount,
                        "currency": refund.currency,
                        "status": refund.status,
                        "created_at": refund.created_at,
                    }
                    for refund in payment.refunds.all()
                ],
            }
            for payment in payments
        ]
    )


def _provider_object_scrubbed(obj: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in obj.items() if key in OBJECT_KEYS_KEPT}
    error = obj.get("last_payment_error")
    if isinstance(error, dict):
        kept["last_payment_error"] = {key: value for key, value in error.items() if key in PAYMENT_ERROR_KEYS_KEPT}
    refunds = obj.get("refunds")
    if isinstance(refunds, dict) and isinstance(refunds.get("data"), list):
        # A charge embeds its refunds; the charge.refunded applier reads them.
        kept["refunds"] = {
            "object": refunds.get("object", "list"),
            "data": [_provider_object_scrubbed(item) for item in refunds["data"] if isinstance(item, dict)],
        }
    return kept


def webhook_payload_scrubbed(payload: dict[str, Any]) -> dict[str, Any]:
    """The event without anything personal; applying it again yields the same result."""
    scrubbed = {key: value for key, value in payload.items() if key in EVENT_KEYS_KEPT}
    obj = (payload.get("data") or {}).get("object")
    scrubbed["data"] = {"object": _provider_object_scrubbed(obj) if isinstance(obj, dict) else {}}
    scrubbed[SCRUBBED_MARK] = True
    return scrubbed


@transaction.atomic
def payments_anonymize_for_user(user: User) -> None:
    """Cut the stored provider events of the user's payments down to what is not personal. The
    payment rows are neither written nor locked: nothing personal is on them."""
    payments = list(Payment.objects.filter(user=user).values_list("pk", "provider_payment_id"))
    payment_ids = [str(pk) for pk, _ in payments]
    provider_ids = [provider_id for _, provider_id in payments if provider_id]
    if payments:
        events = WebhookEvent.objects.filter(
            Q(payload__data__object__id__in=provider_ids)
            | Q(payload__data__object__payment_intent__in=provider_ids)
            | Q(payload__data__object__metadata__payment_id__in=payment_ids)
        )
        for event in events.only("pk", "payload"):
            WebhookEvent.objects.filter(pk=event.pk).update(payload=webhook_payload_scrubbed(event.payload))
    IdempotencyKey.objects.filter(user=user, scope=PAYMENT_IDEMPOTENCY_SCOPE).delete()
