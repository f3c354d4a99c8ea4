"""Reads: finding a coupon by code and deciding, without the cart, whether it may be used now."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet, Value
from django.utils import timezone

from .errors import (
    CouponError,
    CouponExpired,
    CouponInactive,
    CouponNotFound,
    CouponNotYetValid,
    CouponUsageLimitReached,
)
from .models import Coupon, CouponRedemption, normalize_code


def coupon_list() -> QuerySet[Coupon]:
    return Coupon.objects.prefetch_related("products", "categories").order_by("-created_at")


def coupon_get_by_code(*, code: str) -> Coupon:
    coupon = Coupon.objects.filter(code=normalize_code(code)).first() if code and code.strip() else None
    if coupon is None:
        raise CouponNotFound()
    return coupon


def customer_email(*, user, email: str | None = None) -> str:
    """The email a customer's uses are counted under: the guest's, else the account's (lower-cased)."""
    if not email and user is not None and user.is_authenticated:
        email = user.email
    return (email or "").strip().lower()


def coupon_customer_uses(*, coupon: Coupon, user, email: str | None = None) -> int:
    """Uses by this customer: redemptions of the account, and of any order (guest or not) placed
    with the same email, case-insensitively."""
    authenticated = user is not None and user.is_authenticated
    email = customer_email(user=user, email=email)
    if not authenticated and not email:
        return 0
    who = Q()
    if authenticated:
        who |= Q(user=user)
    if email:
        who |= Q(email=email)
    return CouponRedemption.objects.filter(coupon=coupon).filter(who).count()


def coupon_unusable_reason(
    *,
    coupon: Coupon,
    user,
    now: datetime | None = None,
    customer_uses: int | None = None,
    email: str | None = None,
) -> CouponError | None:
    """The first rule, independent of the cart's contents, that forbids using `coupon` now.

    Checked in this order: active flag, validity window, global limit, then the per-customer limit,
    counted by account and by email (`email`: a guest checkout's). An anonymous cart does not know
    its customer yet: the per-customer limit is then checked at checkout, when `coupon_redeem` is
    given the guest's email. `customer_uses` may be passed when already counted (the cart selector
    annotates it)."""
    now = now or timezone.now()
    if not coupon.is_active:
        return CouponInactive()
    if coupon.starts_at and now < coupon.starts_at:
        return CouponNotYetValid()
    if coupon.ends_at and now >= coupon.ends_at:
        return CouponExpired()
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        return CouponUsageLimitReached()
    if coupon.usage_limit_per_customer is not None:
        if (user is None or not user.is_authenticated) and not email:
            return None  # an anonymous cart: decided at checkout by the guest's email
        if customer_uses is None:
            customer_uses = coupon_customer_uses(coupon=coupon, user=user, email=email)
        if customer_uses >= coupon.usage_limit_per_customer:
            return CouponUsageLimitReached(detail="You have already used this coupon as many times as allowed.")
    return None


def coupon_restriction_ids(*, coupon_id) -> tuple[frozenset[int], frozenset[int]]:
    """(product ids, category ids) the coupon is restricted to, in one query; both empty means the
    coupon applies to every product."""
    products = (
        Coupon.products.through.objects.filter(coupon_id=coupon_id)
        .annotate(kind=Value("product"))
        .values_list("kind", "product_id")
    )
    categories = (
        Coupon.categories.through.objects.filter(coupon_id=coupon_id)
        .annotate(kind=Value("category"))
        .values_list("kind", "category_id")
    )
    product_ids, category_ids = set(), set()
    for kind, related_id in products.union(categories, all=True):
        (product_ids if kind == "product" else category_ids).add(related_id)
    return frozenset(product_ids), frozenset(category_ids)
