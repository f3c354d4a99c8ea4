"""The order state machine: the only place that knows which status may follow which.

    pending_payment -> paid -> shipped -> delivered
    pending_payment -> payment_processing (the provider reports a payment on its way, e.g. a bank
                                           debit that clears in days: stock stays held, no expiry)
    payment_processing -> paid            (the money arrived)
    payment_processing -> pending_payment (it failed while the payment window is still open)
    payment_processing -> cancelled       (it failed after the window closed; or staff cancel)
    pending_payment -> cancelled          (customer, staff, or expiry of the payment window)
    paid            -> cancelled          (staff; the payment is refunded in full)
    paid | shipped | delivered -> refunded (when refunds reach the amount paid)

A partial refund keeps the status and is recorded as an event with its amount. Services ask
`ensure_transition` before writing; nothing else compares statuses to decide what may happen.
"""

from __future__ import annotations

from django.db import models

from core.errors import InvalidTransition


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAYMENT_PROCESSING = "payment_processing", "Payment processing"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.PAYMENT_PROCESSING, OrderStatus.CANCELLED}),
    OrderStatus.PAYMENT_PROCESSING: frozenset({OrderStatus.PAID, OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.REFUNDED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

# Statuses in which money has been captured and may be (partly) refunded.
REFUNDABLE_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED})
# Statuses in which the order still holds an allocation of stock (not yet shipped, not released).
HOLDS_ALLOCATION = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_PROCESSING, OrderStatus.PAID})
# Statuses in which the order waits for money and a payment report may settle it.
AWAITING_PAYMENT = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_PROCESSING})
# Statuses in which the order is still live: money may still come, or goods still go out to its
# address. An account with such an order cannot be erased (account.gdpr erasure checks).
OPEN_STATUSES = frozenset(
    {OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_PROCESSING, OrderStatus.PAID, OrderStatus.SHIPPED}
)


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def ensure_transition(current: str, target: str) -> None:
    """Raise 409 `invalid_transition` unless `current -> target` is an edge of the machine."""
    if not can_transition(current, target):
        raise InvalidTransition(
            f"An order cannot go from {current} to {target}.",
            current_status=str(current),
            requested_status=str(target),
        )
