"""A gateway for local runs and tests: every payment succeeds at once, every refund too."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from .base import IntentResult, IntentStatus, PaymentGateway, RefundResult, RefundStatus


def _reference(prefix: str, key: str) -> str:
    # Derived from the idempotency key, so a repeated call answers with the same reference.
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class DummyGateway(PaymentGateway):
    name = "dummy"

    def create_intent(
        self, *, payment_id: str, order_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> IntentResult:
        provider_id = _reference("dummy_pi", idempotency_key)
        return IntentResult(
            provider_id=provider_id,
            client_secret=f"{provider_id}_secret",
            status=IntentStatus.SUCCEEDED,
            amount_received=amount,
            currency=currency,
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
        return RefundResult(provider_id=_reference("dummy_re", idempotency_key), status=RefundStatus.SUCCEEDED)

    def cancel_intent(self, *, provider_payment_id: str, idempotency_key: str) -> None:
        return None
