"""Stripe through its own library. Each call builds a `StripeClient` from settings (so tests can
point `STRIPE_API_BASE` at a local fake) with a bounded timeout; every write carries an idempotency
key derived from our own row id, so a retry after a timeout finds the object the first try made."""

from __future__ import annotations

from decimal import Decimal

import stripe
from django.conf import settings

from core.money import THREE_DECIMAL_CURRENCIES, from_minor_units, minor_unit_exponent, to_minor_units

from ..errors import PaymentProviderError, PaymentProviderNotConfigured
from .base import IntentResult, IntentStatus, PaymentGateway, RefundResult, RefundStatus

_REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


# Where Stripe's API differs from ISO 4217 (docs.stripe.com/currencies#special-cases): ISK is
# zero-decimal in ISO but stays two-decimal in Stripe's API, in whole kronur only (multiples of
# 100); MGA is two-decimal in ISO but zero-decimal at Stripe. HUF and TWD are two-decimal for
# charges and refunds (only payouts are whole units), as in ISO.
STRIPE_EXPONENTS = {"ISK": 2, "MGA": 0}
# Stripe wants the last digit of three-decimal amounts to be 0 (card networks settle them in
# hundredths); ISK amounts must be whole kronur.
_STRIPE_STEPS = {"ISK": 100, **dict.fromkeys(THREE_DECIMAL_CURRENCIES, 10)}


def stripe_exponent(currency: str) -> int:
    return STRIPE_EXPONENTS.get(currency.upper(), minor_unit_exponent(currency))


def to_stripe_amount(amount: Decimal, currency: str) -> int:
    """`amount` in the integer units Stripe's API wants for `currency`. An amount those units
    cannot carry exactly (yen cents, fractional kronur) is refused before Stripe is called:
    rounding it would charge a different sum than the order total."""
    exponent = stripe_exponent(currency)
    minor = to_minor_units(amount, currency, exponent=exponent)
    if Decimal(amount).scaleb(exponent) != minor or minor % _STRIPE_STEPS.get(currency.upper(), 1):
        raise PaymentProviderError(
            f"{amount} {currency.upper()} cannot be charged through Stripe in that currency's units.",
            answered=True,
            provider_code="amount_not_representable",
        )
    return minor


def from_stripe_amount(amount: int, currency: str) -> Decimal:
    """An amount Stripe reports (intents, refunds, disputes) back as a Decimal."""
    return from_minor_units(amount, currency, exponent=stripe_exponent(currency))


def refund_status_from_stripe(value: str) -> RefundStatus:
    return _REFUND_STATUSES.get(value, RefundStatus.PENDING)


def _payment_method_params() -> dict:
    """`STRIPE_PAYMENT_METHOD_TYPES` (default card) limits the methods, keeping out those that
    settle slowly unless the shop lists them; empty leaves the choice to the Stripe dashboard."""
    types = [name.strip().lower() for name in settings.STRIPE_PAYMENT_METHOD_TYPES if name.strip()]
    if types:
        return {"payment_method_types": types}
    return {"automatic_payment_methods": {"enabled": True}}


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
                    "amount": to_stripe_amount(amount, currency),
                    "currency": currency.lower(),
                    **_payment_method_params(),
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
            amount_received=from_stripe_amount(data.get("amount_received") or 0, currency),
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
                    "amount": to_stripe_amount(amount, currency),
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
