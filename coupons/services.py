"""Writes: staff changes to coupons, and counting uses for orders.

The orders app records a use when an order is placed (`coupon_redeem`, inside its transaction) and
gives it back when the order is cancelled or expires unpaid (`coupon_release`). Both lock the coupon
row, so the global limit (`times_used`) and the per-customer limit (redemption rows) hold under
concurrency, and both are idempotent per order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F, ProtectedError, Q, QuerySet

from .errors import CouponInUse, CouponLoginRequired, CouponUsageLimitReached
from .models import Coupon, CouponRedemption
from .selectors import coupon_unusable_reason, customer_email

_PLAIN_FIELDS = (
    "code",
    "description",
    "kind",
    "value",
    "currency",
    "minimum_subtotal",
    "starts_at",
    "ends_at",
    "is_active",
    "usage_limit",
    "usage_limit_per_customer",
)


@transaction.atomic
def coupon_create(*, products: Iterable = (), categories: Iterable = (), **fields) -> Coupon:
    coupon = Coupon(**{name: value for name, value in fields.items() if name in _PLAIN_FIELDS})
    coupon.full_clean()
    coupon.save()
    coupon.products.set(products)
    coupon.categories.set(categories)
    return coupon


@transaction.atomic
def coupon_update(
    *, coupon: Coupon, products: Iterable | None = None, categories: Iterable | None = None, **fields
) -> Coupon:
    # Lock so a concurrent redemption cannot slip between the limit check and the save.
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
    for name, value in fields.items():
        if name in _PLAIN_FIELDS:
            setattr(coupon, name, value)
    coupon.full_clean()
    coupon.save()
    if products is not None:
        coupon.products.set(products)
    if categories is not None:
        coupon.categories.set(categories)
    return coupon


@transaction.atomic
def coupon_delete(*, coupon: Coupon) -> None:
    try:
        coupon.delete()
    except ProtectedError:
        raise CouponInUse()


def coupons_set_active(*, coupons: QuerySet[Coupon], active: bool) -> int:
    return coupons.update(is_active=active)


@transaction.atomic
def coupon_redeem(
    *, coupon: Coupon, user, order_id: uuid.UUID, email: str | None = None, now: datetime | None = None
) -> CouponRedemption:
    """Count one use of `coupon` by `user` (or, for a guest checkout, by `email`) for `order_id`, or
    raise why it cannot be used (`coupon_usage_limit_reached`, `coupon_expired`, `coupon_inactive`,
    `coupon_login_required` when a per-customer coupon has neither an account nor an email...).

    The coupon row is locked first, so two checkouts racing for the last use are serialized: the
    second sees the first's redemption and is refused. Redeeming again for the same order returns
    the existing redemption without counting twice."""
    locked = Coupon.objects.select_for_update().get(pk=coupon.pk)
    existing = CouponRedemption.objects.filter(coupon=locked, order_id=order_id).first()
    if existing is not None:
        return existing
    email = customer_email(user=user, email=email)
    authenticated = user is not None and user.is_authenticated
    if locked.usage_limit_per_customer is not None and not authenticated and not email:
        raise CouponLoginRequired()
    reason = coupon_unusable_reason(coupon=locked, user=user, now=now, email=email)
    if reason is not None:
        raise reason
    # Guarded as well as locked: the update is the statement that must never overshoot the limit.
    counted = (
        Coupon.objects.filter(pk=locked.pk)
        .filter(Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit")))
        .update(times_used=F("times_used") + 1)
    )
    if counted != 1:
        raise CouponUsageLimitReached()
    redemption = CouponRedemption.objects.create(
        coupon=locked, user=user if authenticated else None, order_id=order_id, email=email
    )
    coupon.times_used = locked.times_used + 1
    return redemption


@transaction.atomic
def coupon_release(*, coupon: Coupon, order_id: uuid.UUID) -> bool:
    """Give back the use counted for `order_id`. Returns False when there was none (already
    released, or never redeemed), so calling it twice is harmless."""
    Coupon.objects.select_for_update().filter(pk=coupon.pk).first()
    deleted, _ = CouponRedemption.objects.filter(coupon_id=coupon.pk, order_id=order_id).delete()
    if not deleted:
        return False
    Coupon.objects.filter(pk=coupon.pk, times_used__gt=0).update(times_used=F("times_used") - 1)
    coupon.refresh_from_db(fields=["times_used"])
    return True


def coupon_redemptions_claim(*, order_ids: Iterable[uuid.UUID], user) -> int:
    """Guest orders joined `user`'s account: their coupon uses become the account's too."""
    return CouponRedemption.objects.filter(order_id__in=list(order_ids), user__isnull=True).update(user=user)


def coupon_redemptions_anonymize_for_user(user) -> None:
    """GDPR erasure: the uses stay counted (by account), the email copy goes."""
    CouponRedemption.objects.filter(user=user).exclude(email="").update(email="")
