"""Stripe through its own library. Each call builds a `StripeClient` from settings (so tests can
point `STRIPE_API_BASE` at a local fake) with a bounded timeout; every write carries an idempotency
key derived from our own row id, so a retry after a timeout finds the object the first try made."""

from __future__ import annotations

from decimal import Decimal

import stripe
from django.conf import settings

from core.money import from_minor_units, to_minor_units

from ..errors import PaymentProviderError, PaymentProviderNotConfigured
from .base import IntentResult, IntentStatus, PaymentGateway, RefundResult, RefundStatus

_REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


def refund_status_from_stripe(value: str) -> RefundStatus:
    return _REFUND_STATUSES.get(value, RefundStatus.PENDING)


def _provider_error(error: stripe.StripeError) -> PaymentProviderError:
    if isinstance(error, stripe.APIConnectionError):
        return PaymentProviderError(
            "The payment provider did not answer in time. Please retry.", answered=False, provider_code="timeout"
        )
    code = getattr(error, "code", None) or type(error).__name__
    return PaymentProviderError(answered=True, provider_code=str(code))


class StripeGateway(PaymentGateway):
    name = "stripe"

    def ensure_configured(self) -> None:
        if not settings.STRIPE_SECRET_KEY:
            raise PaymentProviderNotConfigured()

    def _client(self) -> stripe.StripeClient:
        self.ensure_configured()
        base_addresses = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses=base_addresses,
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        )

    def create_intent(
        self, *, payment_id: str, order_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> IntentResult:
        client = self._client()
        try:
            intent = client.v1.payment_intents.create(
                params={
                    "amount": to_minor_units(amount, currency),
                    "currency": currency.lower(),
                    "automatic_payment_methods": {"enabled": True},
                    "metadata": {"order_id": order_id, "payment_id": payment_id},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _provider_error(error)
        data = intent.to_dict()
        succeeded = data.get("status") == "succeeded"
        return IntentResult(
            provider_id=data["id"],
            client_secret=data.get("client_secret") or "",
            status=IntentStatus.SUCCEEDED if succeeded else IntentStatus.REQUIRES_ACTION,
            amount_received=from_minor_units(data.get("amount_received") or 0, currency),
            currency=str(data.get("currency") or currency).upper(),
        )

    def refund(
        self,
        *,
        provider_payment_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult:
        client = self._client()
        try:
            refund = client.v1.refunds.create(
                params={
                    "payment_intent": provider_payment_id,
                    "amount": to_minor_units(amount, currency),
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _provider_error(error)
        data = refund.to_dict()
        return RefundResult(provider_id=data["id"], status=refund_status_from_stripe(data.get("status") or ""))

    def cancel_intent(self, *, provider_payment_id: str, idempotency_key: str) -> None:
        client = self._client()
        try:
            client.v1.payment_intents.cancel(
                provider_payment_id,
                params={"cancellation_reason": "abandoned"},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _provider_error(error)
