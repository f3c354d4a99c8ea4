"""What every payment gateway offers the payment services. Amounts cross this boundary as Decimal
plus currency; each gateway converts to its provider's units."""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from decimal import Decimal


class IntentStatus(enum.StrEnum):
    REQUIRES_ACTION = "requires_action"  # the customer still has to confirm (Stripe's usual answer)
    SUCCEEDED = "succeeded"  # captured at once (the dummy gateway)


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class IntentResult:
    provider_id: str
    client_secret: str
    status: IntentStatus
    amount_received: Decimal
    currency: str


@dataclass(frozen=True)
class RefundResult:
    provider_id: str
    status: RefundStatus


class PaymentGateway(abc.ABC):
    name: str

    def ensure_configured(self) -> None:  # noqa: B027 - optional hook
        """Raise PaymentProviderNotConfigured when credentials are missing."""

    @abc.abstractmethod
    def create_intent(
        self, *, payment_id: str, order_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> IntentResult:
        """Ask the provider to collect `amount`. Must be safe to repeat with the same key."""

    @abc.abstractmethod
    def refund(
        self,
        *,
        provider_payment_id: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult:
        """Return `amount` of a captured payment. Must be safe to repeat with the same key."""

    @abc.abstractmethod
    def cancel_intent(self, *, provider_payment_id: str, idempotency_key: str) -> None:
        """Stop an unpaid intent from being paid (the order was cancelled or expired)."""
