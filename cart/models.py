"""Carts of anonymous and logged-in customers, kept in the database.

A cart's UUID is its token: anonymous clients send it back in the `X-Cart-Token` header. A customer
has at most one cart (unique `user`); an anonymous cart has no user and is deleted after
`CART_INACTIVITY_DAYS` without a change (`updated_at`). Prices are never stored as the truth: lines
keep the unit price seen when they were last set only to flag a change (`price_changed`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel, UUIDModel


def _default_currency() -> str:
    return settings.DEFAULT_CURRENCY


class Cart(UUIDModel, TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    currency = models.CharField(max_length=3, default=_default_currency)
    coupon = models.ForeignKey("coupons.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shipping_country = models.CharField(max_length=2, blank=True, default="")
    shipping_region = models.CharField(max_length=10, blank=True, default="")
    shipping_method = models.ForeignKey(
        "shipping.ShippingMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            # NULLs are distinct, so any number of anonymous carts but one cart per customer.
            models.UniqueConstraint(fields=["user"], name="cart_one_per_user"),
        ]
        indexes = [
            models.Index(fields=["updated_at"], condition=Q(user__isnull=True), name="cart_anonymous_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"cart {self.pk} ({'user ' + str(self.user_id) if self.user_id else 'anonymous'})"


class CartLine(UUIDModel):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("shop.ProductVariant", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price_when_set = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The variant's price when the line was last added or changed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_one_per_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"
