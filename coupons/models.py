"""Coupons and their redemptions.

Codes are stored upper-case and unique whatever their case (a functional unique index on UPPER(code)),
so "welcome10" and "WELCOME10" are one coupon. `times_used` counts redemptions for the global limit
and is only changed by `coupons.services.coupon_redeem` / `coupon_release` under a row lock, next to
the `CouponRedemption` row that the per-customer limit counts.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from core.models import TimeStampedModel, UUIDModel


def _default_currency() -> str:
    return settings.DEFAULT_CURRENCY


def normalize_code(code: str) -> str:
    return code.strip().upper()


class Coupon(UUIDModel, TimeStampedModel):
    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED_AMOUNT = "fixed_amount", "Fixed amount off"
        FREE_SHIPPING = "free_shipping", "Free shipping"

    code = models.CharField(max_length=40)
    description = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Percent (0-100] for percentage coupons, an amount for fixed ones, 0 for free shipping.",
    )
    currency = models.CharField(max_length=3, default=_default_currency)
    minimum_subtotal = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The cart subtotal (before discount) must reach this amount.",
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Uses over all customers.")
    usage_limit_per_customer = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0, editable=False)
    products = models.ManyToManyField("shop.Product", blank=True, related_name="+")
    categories = models.ManyToManyField(
        "shop.Category", blank=True, related_name="+", help_text="Includes their sub-categories."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="coupon_code_unique_ci"),
            models.CheckConstraint(
                condition=(
                    (Q(kind="percentage") & Q(value__gt=0) & Q(value__lte=100))
                    | (Q(kind="fixed_amount") & Q(value__gt=0))
                    | (Q(kind="free_shipping") & Q(value=0))
                ),
                name="coupon_value_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(minimum_subtotal__isnull=True) | Q(minimum_subtotal__gte=0),
                name="coupon_minimum_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="coupon_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=F("usage_limit")),
                name="coupon_times_used_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        self.code = normalize_code(self.code)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.code = normalize_code(self.code or "")
        errors = {}
        if self.kind == self.Kind.PERCENTAGE and not (0 < (self.value or 0) <= 100):
            errors["value"] = "A percentage must be more than 0 and at most 100."
        elif self.kind == self.Kind.FIXED_AMOUNT and (self.value or 0) <= 0:
            errors["value"] = "A fixed amount must be positive."
        elif self.kind == self.Kind.FREE_SHIPPING and self.value:
            errors["value"] = "A free-shipping coupon has no value; leave it at 0."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "Must be after the start."
        if self.usage_limit is not None and self.usage_limit < self.times_used:
            errors["usage_limit"] = f"Already used {self.times_used} times; the limit cannot be lower."
        if errors:
            raise ValidationError(errors)


class CouponRedemption(models.Model):
    """One use of a coupon by an order. Unique per order, so redeeming twice for the same order
    (a retried task, a replayed request) counts once."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_id = models.UUIDField()
    # The customer's email, lower-cased: a guest checkout has no user, and the per-customer limit
    # counts a customer's uses as a guest and with their account together.
    email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["coupon", "order_id"], name="coupon_redemption_once_per_order"),
        ]
        indexes = [
            models.Index(fields=["coupon", "user"], name="coupon_redemption_user_idx"),
            models.Index(fields=["coupon", "email"], name="coupon_redemption_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id} for order {self.order_id}"
