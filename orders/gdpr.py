"""The orders app's part in the GDPR export and erasure (registered in OrdersConfig.ready()).

Erasure keeps every order: they are accounting records (invoices, VAT returns, refunds, the
payment ledger all point at them). What goes are the personal copies an order holds: the contact
email, and in both address snapshots everything but `country`, `region` and `city`, which the tax
charged depends on (tax rates are per country and region) and which reporting by area needs. Free
text the customer typed on an order (the cancellation reason and its timeline note) is cleared too.
Lines, amounts, the shipping method and the tracking data stay as they were.

An open order (waiting for payment, paid or shipped: `OPEN_STATUSES`) still needs its address and
email, so `orders_erasure_check` refuses the erasure while the account has one. Should an erased
account own an open order all the same (data fixed by hand, say), the anonymizer leaves that order
alone and `order_scrub_if_owner_erased` scrubs it when it closes (called by the one status writer,
orders.services._transition).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet

from account.errors import AccountHasOpenOrders
from account.gdpr import export_json_safe
from account.models import User
from core.models import IdempotencyKey

from .models import Order, OrderEvent
from .state import OPEN_STATUSES

# Address snapshot keys an anonymised order keeps; every other key is blanked.
ADDRESS_KEYS_KEPT = frozenset({"country", "region", "city"})
# The idempotency layer stores a copy of the checkout answer (addresses included) per customer.
CHECKOUT_IDEMPOTENCY_SCOPE = "orders.create"


def _order_export(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "created_at": order.created_at,
        "email": order.email,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "shipping_total": order.shipping_total,
        "tax_total": order.tax_total,
        "total": order.total,
        "amount_paid": order.amount_paid,
        "amount_refunded": order.amount_refunded,
        "coupon_code": order.coupon_code,
        "lines": [
            {
                "product_name": line.product_name,
                "variant_name": line.variant_name,
                "sku": line.sku,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "line_total": line.line_total,
                "discount": line.discount,
                "tax": line.tax,
            }
            for line in order.lines.all()
        ],
        "shipping_address": order.shipping_address,
        "billing_address": order.billing_address,
        "shipping_method": order.shipping_method_snapshot,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "cancellation_reason": order.cancellation_reason,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "cancelled_at": order.cancelled_at,
        "refunded_at": order.refunded_at,
        "events": [
            {"from": event.from_status, "to": event.to_status, "time": event.created_at, "note": event.note}
            for event in order.events.all()
        ],
    }


def orders_export_for_user(user: User) -> list[dict[str, Any]]:
    """The user's orders, newest first, with lines and timeline: three queries for any number."""
    orders = (
        Order.objects.filter(user=user)
        .prefetch_related("lines", Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")))
        .order_by("-created_at", "-id")
    )
    return export_json_safe([_order_export(order) for order in orders])


def _address_scrubbed(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {key: value if key in ADDRESS_KEYS_KEPT else "" for key, value in snapshot.items()}


def orders_erasure_check(user: User) -> None:
    """Refuse to erase an account while one of its orders is open: it may still be paid, shipped to
    its address or refunded to its customer."""
    open_orders = Order.objects.filter(user=user, status__in=OPEN_STATUSES).count()
    if open_orders:
        raise AccountHasOpenOrders(open_orders=open_orders)


def _orders_scrub(orders: QuerySet[Order], *, customer_id: Any) -> None:
    # Snapshots are written only at checkout (status changes update other columns), so no lock
    # is needed to rewrite them.
    orders = list(
        orders.only(
            "pk", "email", "guest_email", "shipping_address", "billing_address", "cancellation_reason"
        ).order_by("pk")
    )
    customer_cancellations = OrderEvent.objects.filter(
        order__in=[order.pk for order in orders], actor_id=customer_id, kind=OrderEvent.Kind.CANCELLED
    )
    cancelled_by_customer = set(customer_cancellations.values_list("order_id", flat=True))
    for order in orders:
        order.email = ""
        # A claimed guest order kept the address it was placed with: without it, an order whose account
        # row is later deleted (user SET NULL) would look like a guest order again and be claimable.
        order.guest_email = ""
        order.shipping_address = _address_scrubbed(order.shipping_address)
        order.billing_address = _address_scrubbed(order.billing_address)
        if order.pk in cancelled_by_customer:
            order.cancellation_reason = ""
    Order.objects.bulk_update(
        orders, ["email", "guest_email", "shipping_address", "billing_address", "cancellation_reason"], batch_size=500
    )
    customer_cancellations.exclude(note="").update(note="")


@transaction.atomic
def orders_anonymize_for_user(user: User) -> None:
    """Scrub the personal copies on the user's closed orders and keep the orders; an open one keeps
    what it still needs until it closes. Safe to run twice."""
    _orders_scrub(Order.objects.filter(user=user).exclude(status__in=OPEN_STATUSES), customer_id=user.pk)
    IdempotencyKey.objects.filter(user=user, scope=CHECKOUT_IDEMPOTENCY_SCOPE).delete()


def order_scrub_if_owner_erased(order: Order) -> None:
    """An order just closed (delivered, cancelled or refunded): if its customer's account was erased
    meanwhile, scrub it now, as the erasure did for the orders already closed. Refreshes `order`."""
    if order.status in OPEN_STATUSES or order.user_id is None:
        return
    if not User.objects.filter(pk=order.user_id, anonymized_at__isnull=False).exists():
        return
    _orders_scrub(Order.objects.filter(pk=order.pk), customer_id=order.user_id)
    order.refresh_from_db(fields=["email", "guest_email", "shipping_address", "billing_address", "cancellation_reason"])
