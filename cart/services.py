"""Writes on carts: finding or creating the caller's cart, merging an anonymous cart at login,
changing lines, the coupon and the destination, and deleting abandoned anonymous carts.

Every write locks the cart row first (`select_for_update`), so two requests on one cart are
serialized and the one-line-per-variant constraint is never raced. The merge locks the anonymous
cart before the customer's cart; nothing locks them in the other order, so merges cannot deadlock.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.countries import normalize_country
from coupons.errors import CouponMinimumNotMet, CouponNotApplicable, coupon_error_for
from coupons.models import Coupon
from coupons.selectors import coupon_get_by_code, coupon_unusable_reason
from shipping.errors import CountryRequired, InvalidCountry, ShippingMethodNotFound, ShippingMethodUnavailable
from shipping.models import ShippingMethod
from shipping.selectors import shipping_method_serves
from shop.errors import InsufficientStock
from shop.models import ProductVariant
from shop.selectors import product_sellable_annotation

from .errors import (
    CartLineNotFound,
    CartNotFound,
    CurrencyMismatch,
    InvalidQuantity,
    QuantityTooLarge,
    VariantNotFound,
    VariantUnavailable,
)
from .models import Cart, CartLine
from .pricing import COUPON_MINIMUM_NOT_MET, PricingInput, price_cart
from .selectors import (
    cart_anonymous_get,
    cart_for_user,
    cart_get,
    cart_lines,
    cart_pricing_input,
    cart_queryset,
    shipping_rule_for,
)

UNSET = object()
MAX_REGION_LENGTH = 10


def parse_cart_token(raw: str | None) -> uuid.UUID | None:
    """None when no token was sent; a malformed token never matches a cart (404)."""
    if raw is None or raw.strip() == "":
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise CartNotFound()


# --- finding the caller's cart -------------------------------------------------------------------


def cart_resolve(*, user, token: uuid.UUID | None) -> Cart | None:
    """The cart of this request, or None when the caller has none yet (writes create it).

    - anonymous caller: the anonymous cart of `token`; any other token is a 404.
    - logged-in caller: their own cart. A token of an anonymous cart is merged into it first; a
      token of another customer's cart is a 404; a token that matches nothing (typically the cart
      that was merged at login, still stored by the client) is ignored.
    """
    if user is None or not user.is_authenticated:
        if token is None:
            return None
        cart = cart_anonymous_get(cart_id=token)
        if cart is None:
            raise CartNotFound()
        return cart

    if token is None:
        return cart_for_user(user=user)
    # The token's cart and the customer's own cart in one query (the cart page's query budget).
    found = list(cart_queryset().filter(Q(pk=token) | Q(user=user)))
    by_token = next((cart for cart in found if cart.pk == token), None)
    own = next((cart for cart in found if cart.user_id == user.pk), None)
    if by_token is None or by_token.user_id == user.pk:
        return own
    if by_token.user_id is not None:
        raise CartNotFound()
    cart_merge_anonymous(user=user, anonymous_cart_id=token)
    return cart_for_user(user=user)


def _cart_or_new(cart: Cart | None, user) -> Cart:
    """The cart to write to: the caller's, or a new one (rolled back with the write if it fails,
    so a refused first item leaves no empty cart behind)."""
    if cart is not None:
        return cart
    if user is not None and user.is_authenticated:
        return _user_cart_get_or_create(user=user)
    return Cart.objects.create(currency=settings.DEFAULT_CURRENCY)


def _user_cart_get_or_create(*, user) -> Cart:
    # get_or_create retries the read when a concurrent request inserted first (unique user).
    cart, _ = Cart.objects.get_or_create(user=user, defaults={"currency": settings.DEFAULT_CURRENCY})
    return cart


@transaction.atomic
def cart_merge_anonymous(*, user, anonymous_cart_id: uuid.UUID) -> Cart | None:
    """Move an anonymous cart's lines into the customer's cart, once.

    Quantities of the same variant are summed, but the anonymous quantity is only added as far as
    stock (and CART_MAX_LINE_QUANTITY) allows; the merge never lowers what the customer's cart
    already held. Lines of products no longer for sale are dropped. The customer's coupon and
    destination win; the anonymous cart's are taken only when the customer's cart has none. The
    anonymous cart is deleted. Returns None when another request merged it first."""
    anonymous = Cart.objects.select_for_update().filter(pk=anonymous_cart_id, user__isnull=True).first()
    if anonymous is None:
        return None
    target = _user_cart_get_or_create(user=user)
    target = Cart.objects.select_for_update().get(pk=target.pk)
    limit = settings.CART_MAX_LINE_QUANTITY
    held = {line.variant_id: line for line in CartLine.objects.filter(cart=target)}
    incoming = (
        CartLine.objects.filter(cart=anonymous)
        .select_related("variant__product")
        .annotate(product_sellable=product_sellable_annotation(prefix="variant__product__"))
        .order_by("created_at", "id")
    )
    for line in incoming:
        variant = line.variant
        if not (variant.is_active and line.product_sellable) or variant.currency != target.currency:
            continue
        ceiling = min(variant.available_quantity, limit)
        existing = held.get(variant.pk)
        if existing is None:
            quantity = min(line.quantity, ceiling)
            if quantity >= 1:
                CartLine.objects.create(
                    cart=target, variant=variant, quantity=quantity, unit_price_when_set=line.unit_price_when_set
                )
            continue
        quantity = max(existing.quantity, min(existing.quantity + line.quantity, ceiling))
        if quantity != existing.quantity:
            existing.quantity = quantity
            existing.save(update_fields=["quantity", "updated_at"])

    if target.coupon_id is None and anonymous.coupon_id is not None:
        target.coupon_id = anonymous.coupon_id
    if not target.shipping_country and anonymous.shipping_country:
        target.shipping_country = anonymous.shipping_country
        target.shipping_region = anonymous.shipping_region
        target.shipping_method_id = anonymous.shipping_method_id
    target.save()  # also marks the customer's cart as active (updated_at)
    anonymous.delete()
    return target


# --- lines ---------------------------------------------------------------------------------------


def _lock(cart: Cart) -> Cart:
    return Cart.objects.select_for_update().get(pk=cart.pk)


def _touch(cart: Cart) -> None:
    cart.save(update_fields=["updated_at"])


def _check_quantity(*, quantity: int, variant: ProductVariant) -> None:
    limit = settings.CART_MAX_LINE_QUANTITY
    if quantity > limit:
        raise QuantityTooLarge(max_quantity=limit)
    if quantity > variant.available_quantity:
        raise InsufficientStock(
            variant_id=variant.pk, available_quantity=variant.available_quantity, requested=quantity, attr="quantity"
        )


@transaction.atomic
def cart_item_add(*, cart: Cart | None, user=None, variant_id: int, quantity: int) -> CartLine:
    """Add `quantity` of a variant; a variant already in the cart gets the quantities summed.
    Without a cart, one is created for `user` (or an anonymous one)."""
    if quantity < 1:
        raise InvalidQuantity()
    variant = (
        ProductVariant.objects.select_related("product")
        .annotate(product_sellable=product_sellable_annotation(prefix="product__"))
        .filter(pk=variant_id)
        .first()
    )
    if variant is None:
        raise VariantNotFound()
    if not (variant.is_active and variant.product_sellable):
        raise VariantUnavailable()
    locked = _lock(_cart_or_new(cart, user))
    if variant.currency != locked.currency:
        raise CurrencyMismatch()
    line = CartLine.objects.filter(cart=locked, variant=variant).first()
    _check_quantity(quantity=(line.quantity if line else 0) + quantity, variant=variant)
    if line is None:
        line = CartLine.objects.create(
            cart=locked, variant=variant, quantity=quantity, unit_price_when_set=variant.price
        )
    else:
        line.quantity += quantity
        line.unit_price_when_set = variant.price
        line.save(update_fields=["quantity", "unit_price_when_set", "updated_at"])
    _touch(locked)
    return line


def _line_of(cart: Cart, line_id) -> CartLine:
    line = (
        CartLine.objects.select_related("variant__product")
        .annotate(product_sellable=product_sellable_annotation(prefix="variant__product__"))
        .filter(cart=cart, pk=line_id)
        .first()
    )
    if line is None:
        raise CartLineNotFound()
    return line


@transaction.atomic
def cart_item_update(*, cart: Cart, line_id: uuid.UUID, quantity: int) -> CartLine:
    """Set a line's quantity. The customer saw the current price when choosing it, so the line's
    price snapshot is refreshed (its `price_changed` flag clears)."""
    locked = _lock(cart)
    line = _line_of(locked, line_id)
    if quantity < 1:
        raise InvalidQuantity()
    if not (line.variant.is_active and line.product_sellable):
        raise VariantUnavailable()
    _check_quantity(quantity=quantity, variant=line.variant)
    line.quantity = quantity
    line.unit_price_when_set = line.variant.price
    line.save(update_fields=["quantity", "unit_price_when_set", "updated_at"])
    _touch(locked)
    return line


@transaction.atomic
def cart_item_remove(*, cart: Cart, line_id: uuid.UUID) -> None:
    locked = _lock(cart)
    deleted, _ = CartLine.objects.filter(cart=locked, pk=line_id).delete()
    if not deleted:
        raise CartLineNotFound()
    _touch(locked)


@transaction.atomic
def cart_clear(*, cart: Cart) -> None:
    """Empty the cart: lines, coupon and shipping choice. The cart (and its token) stays."""
    locked = _lock(cart)
    CartLine.objects.filter(cart=locked).delete()
    locked.coupon = None
    locked.shipping_method = None
    locked.save(update_fields=["coupon", "shipping_method", "updated_at"])


# --- coupon --------------------------------------------------------------------------------------


@transaction.atomic
def cart_coupon_apply(*, cart: Cart | None, code: str, user=None) -> Coupon:
    """Put a coupon on the cart, or raise exactly why it cannot be used: `coupon_not_found`,
    `coupon_inactive`, `coupon_not_yet_valid`, `coupon_expired`, `coupon_usage_limit_reached`,
    `coupon_login_required`, `coupon_not_applicable` or `coupon_minimum_not_met`.

    Using it is not counted here: the orders app counts it when an order is placed."""
    coupon = coupon_get_by_code(code=code)
    if cart is None:
        # No cart, so nothing it could apply to; still say first why the coupon itself is refused.
        raise coupon_unusable_reason(coupon=coupon, user=user) or CouponNotApplicable()
    locked = _lock(cart)
    reason = coupon_unusable_reason(coupon=coupon, user=locked.user if locked.user_id else None)
    if reason is not None:
        raise reason
    fresh = cart_get(cart_id=locked.pk)
    breakdown = price_cart(cart_pricing_input(cart=fresh, coupon=coupon))
    if breakdown.coupon_issue == COUPON_MINIMUM_NOT_MET:
        raise CouponMinimumNotMet(minimum_subtotal=str(coupon.minimum_subtotal), currency=coupon.currency)
    if breakdown.coupon_issue is not None:
        raise coupon_error_for(breakdown.coupon_issue)
    locked.coupon = coupon
    locked.save(update_fields=["coupon", "updated_at"])
    return coupon


@transaction.atomic
def cart_coupon_remove(*, cart: Cart) -> None:
    locked = _lock(cart)
    locked.coupon = None
    locked.save(update_fields=["coupon", "updated_at"])


# --- destination and shipping method -------------------------------------------------------------


@transaction.atomic
def cart_shipping_set(*, cart: Cart | None, user=None, country=UNSET, region=UNSET, shipping_method_id=UNSET) -> Cart:
    """Choose where the cart ships (country, optional region) and how (a method id); each argument
    left UNSET keeps its value, None clears it.

    The destination sets the tax rate; the method must be active, serve the country and be able to
    carry the cart as it is. Changing the country drops a chosen method that does not serve it.
    Without a cart, one is created for `user` (or an anonymous one)."""
    locked = _lock(_cart_or_new(cart, user))
    if country is not UNSET:
        if country in (None, ""):
            locked.shipping_country, locked.shipping_region, locked.shipping_method = "", "", None
        else:
            normalized = normalize_country(country)
            if normalized is None:
                raise InvalidCountry()
            if normalized != locked.shipping_country:
                locked.shipping_region = ""
            locked.shipping_country = normalized
    if region is not UNSET:
        locked.shipping_region = (region or "").strip().upper()[:MAX_REGION_LENGTH]

    if shipping_method_id is not UNSET:
        locked.shipping_method = None if shipping_method_id is None else _method_for(locked, shipping_method_id)
    elif locked.shipping_method_id is not None and not shipping_method_serves(
        method=locked.shipping_method, country=locked.shipping_country
    ):
        locked.shipping_method = None

    locked.save(
        update_fields=["shipping_country", "shipping_region", "shipping_method", "updated_at"],
    )
    return locked


def _method_for(cart: Cart, method_id) -> ShippingMethod:
    method = ShippingMethod.objects.filter(pk=method_id, is_active=True).prefetch_related("rates").first()
    if method is None:
        raise ShippingMethodNotFound()
    if not cart.shipping_country:
        raise CountryRequired()
    if method.currency != cart.currency or not shipping_method_serves(method=method, country=cart.shipping_country):
        raise ShippingMethodUnavailable()
    lines = cart_lines(cart=cart)
    if lines:
        pricing_input = cart_pricing_input(cart=cart, lines=lines, coupon=None, shipping_method=None)
        breakdown = price_cart(_with_shipping(pricing_input, method))
        if breakdown.shipping_issue is not None:
            raise ShippingMethodUnavailable(
                detail="This shipping method cannot carry this cart (too heavy or too large)."
            )
    return method


def _with_shipping(pricing_input: PricingInput, method: ShippingMethod) -> PricingInput:
    return replace(pricing_input, shipping=shipping_rule_for(method))


# --- housekeeping --------------------------------------------------------------------------------


def cart_delete_expired(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Delete anonymous carts unchanged for CART_INACTIVITY_DAYS, in small batches so a large
    backlog never holds long locks. Customers' carts are kept. Returns how many carts went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CART_INACTIVITY_DAYS)
    removed = 0
    while True:
        batch = list(
            Cart.objects.filter(user__isnull=True, updated_at__lt=cutoff).values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return removed
        with transaction.atomic():
            # Re-checked inside the delete: a cart touched since the read is no longer expired.
            _, per_model = Cart.objects.filter(pk__in=batch, user__isnull=True, updated_at__lt=cutoff).delete()
        removed += per_model.get(Cart._meta.label, 0)
        if len(batch) < batch_size:
            return removed
