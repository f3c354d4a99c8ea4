"""Demo coupons: WELCOME10 (10 % off), FREESHIP (free shipping) and one limited fixed-amount coupon.
Idempotent: a coupon is created when its code is missing and left alone otherwise."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from .models import Coupon

COUPONS = [
    {"code": "WELCOME10", "description": "10 % off your order", "kind": Coupon.Kind.PERCENTAGE, "value": Decimal("10")},
    {"code": "FREESHIP", "description": "Free shipping", "kind": Coupon.Kind.FREE_SHIPPING, "value": Decimal("0")},
    {
        "code": "SAVE5",
        "description": "5 off orders of 30 or more, once per customer",
        "kind": Coupon.Kind.FIXED_AMOUNT,
        "value": Decimal("5.00"),
        "minimum_subtotal": Decimal("30.00"),
        "usage_limit": 1000,
        "usage_limit_per_customer": 1,
    },
]


def seed(ctx) -> None:
    for fields in COUPONS:
        code = fields["code"]
        defaults = {name: value for name, value in fields.items() if name != "code"}
        Coupon.objects.get_or_create(code=code, defaults={**defaults, "currency": settings.DEFAULT_CURRENCY})
    ctx.say(f"coupons: {', '.join(fields['code'] for fields in COUPONS)}")
