"""What orders need from the payment side, without importing it (STYLE.md: orders never import
payment). The payment app registers its adapter in `PaymentConfig.ready()`; a refund asked for here
moves money through the gateway, and the payment app then reports the money actually returned back
through `orders.services.order_refund_record`."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol
from uuid import UUID

from core.errors import ServiceUnavailable


class PaymentPort(Protocol):
    def refund(
        self, *, order_id: UUID, amount: Decimal, reason: str, actor_id: UUID | None, cancel_order: bool
    ) -> None:
        """Return `amount` of what was captured for the order; when the refund is confirmed, call
        `order_refund_record(..., cancel_order=cancel_order)`."""

    def order_closed(self, *, order_id: UUID) -> None:
        """The order was cancelled or expired unpaid: stop its open payment attempts."""


_registered: PaymentPort | None = None


def payment_port_register(port: PaymentPort | None) -> None:
    global _registered
    _registered = port


def payment_port() -> PaymentPort:
    if _registered is None:
        raise ServiceUnavailable("No payment app is installed to move money.", code="payment_port_missing")
    return _registered
