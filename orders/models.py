"""Orders: what a customer bought, frozen at checkout.

Lines, addresses and the shipping method are snapshots: later edits to the catalog, the address
book or shipping prices never change an order. Foreign keys to those sources are kept only for
reporting and are nullable (SET_NULL), so deleting a variant or an address never touches an order.
The status is changed only through `orders.services`, which asks `orders.state` first.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.models import UUIDModel

from .state import OrderStatus

MONEY = {"max_digits": 12, "decimal_places": 2}


class ActorRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"
    PAYMENT_PROVIDER = "payment_provider", "Payment provider"


def order_token_hash(token: str) -> str:
    """What a guest order stores of its secret: the token is shown once, at checkout."""
    return hashlib.sha256(token.encode()).hexdigest()


class Order(UUIDModel):
    Status = OrderStatus

    # The raw guest token, set only on the instance `order_place` returns (never stored).
    order_token: str | None = None

    number = models.CharField(max_length=32, unique=True, help_text="Human reference, e.g. 250517-7KD3-QXAB.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="orders")
    email = models.EmailField(blank=True, help_text="The customer's email when the order was placed.")
    # A guest checkout (no account): the address it gave, lower-cased. The order joins the account
    # that later verifies this address (orders.services.guest_orders_claim); it stays as a record.
    guest_email = models.EmailField(blank=True, help_text="Placed as a guest with this email.")
    guest_token_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="sha256 of the guest's order token."
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY, default=Decimal("0"))
    shipping_total = models.DecimalField(**MONEY, default=Decimal("0"))
    tax_total = models.DecimalField(**MONEY, default=Decimal("0"))
    total = models.DecimalField(**MONEY)
    # Money actually received and returned, written by the payment app through orders.services.
    amount_paid = models.DecimalField(**MONEY, default=Decimal("0"))
    amount_refunded = models.DecimalField(**MONEY, default=Decimal("0"))
    payment_reference = models.CharField(max_length=100, blank=True, help_text="The payment that paid the order.")
    # Refunds of the paying payment sent to the provider and not yet confirmed (kept by the payment
    # app under the order lock); while above zero the order cannot ship.
    amount_refund_pending = models.DecimalField(**MONEY, default=Decimal("0"))
    dispute_status = models.CharField(
        max_length=30, blank=True, help_text="The provider's status of the latest dispute (chargeback), if any."
    )

    coupon = models.ForeignKey("coupons.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    coupon_code = models.CharField(max_length=64, blank=True)
    shipping_method = models.ForeignKey(
        "shipping.ShippingMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipping_method_snapshot = models.JSONField(default=dict)
    shipping_address = models.JSONField(default=dict)
    billing_address = models.JSONField(default=dict)

    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    cancellation_reason = models.CharField(max_length=255, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    payment_due_by = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="orders_order_user_created_idx"),
            models.Index(fields=["status", "payment_due_by"], name="orders_order_status_due_idx"),
            models.Index(fields=["guest_email"], condition=Q(user__isnull=True), name="orders_order_guest_email_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(discount_total__gte=0)
                & Q(shipping_total__gte=0)
                & Q(tax_total__gte=0)
                & Q(total__gte=0),
                name="orders_order_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount_paid")),
                name="orders_order_refunds_within_paid",
            ),
            models.CheckConstraint(
                condition=Q(amount_refund_pending__gte=0), name="orders_order_refund_pending_non_negative"
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="orders_order_status_known"),
        ]

    def __str__(self) -> str:
        return self.number

    def order_token_matches(self, token: str | None) -> bool:
        """Constant-time check of a guest's order token; an order without one matches nothing."""
        if not token or not self.guest_token_hash:
            return False
        return hmac.compare_digest(self.guest_token_hash, order_token_hash(token))

    @property
    def refundable_amount(self) -> Decimal:
        return self.amount_paid - self.amount_refunded

    @property
    def refund_pending(self) -> bool:
        return self.amount_refund_pending > 0


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "shop.ProductVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product_id = models.BigIntegerField(null=True, blank=True, help_text="The catalog product when ordered.")
    product_name = models.CharField(max_length=200)
    product_slug = models.CharField(max_length=220, blank=True, help_text="The product's slug when ordered.")
    image = models.URLField(max_length=500, blank=True, help_text="Absolute URL of the product's image when ordered.")
    variant_name = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=64)
    unit_price = models.DecimalField(**MONEY)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(**MONEY, help_text="unit_price x quantity, before discount and tax.")
    discount = models.DecimalField(**MONEY, default=Decimal("0"), help_text="This line's share of the coupon.")
    tax = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(line_total__gte=0), name="orders_line_amounts_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderEvent(models.Model):
    """The order's timeline. A status change has from/to; a note (a partial refund, a payment that
    arrived after cancellation) keeps `to_status == from_status`. `notified_at` makes the customer
    notification idempotent: the task claims the event before sending."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        PAYMENT_PROCESSING = "payment_processing", "Payment processing"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        NOTE = "note", "Note"
        DISPUTE = "dispute", "Dispute"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField(max_length=20, choices=ActorRole.choices)
    note = models.CharField(max_length=500, blank=True)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="orders_event_order_created_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"
