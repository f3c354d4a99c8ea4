"""Reads: the cart with everything its page needs, and the facts `cart.pricing` prices.

`cart_pricing_input(cart=...)` is the bridge between the database and the pure pricing module; the
orders app calls it (with the order's destination and method) and then `cart.pricing.price_cart`, so
checkout prices exactly as the cart page does.

Query budget of a cart page: the cart (with user, coupon, method, tax rate and the customer's
coupon uses in one query), its lines (with variant, product, category and first image in one
query), the method's rate bands when it is not flat, and the coupon's restrictions when there is a
coupon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower

from core.money import ZERO, default_currency
from coupons.models import Coupon, CouponRedemption
from coupons.selectors import coupon_restriction_ids, coupon_unusable_reason
from shipping.models import ShippingMethod, ShippingZoneCountry
from shipping.selectors import shipping_method_serves, shipping_methods_for_country, tax_rate_for, tax_rate_subquery
from shop.models import PATH_SEPARATOR
from shop.selectors import product_first_image, product_sellable_annotation

from .models import Cart, CartLine
from .pricing import (
    CouponKind,
    CouponRules,
    LinePrice,
    PriceBreakdown,
    PricingInput,
    PricingLine,
    RateBand,
    RateKind,
    ShippingRule,
    price_cart,
    shipping_quote,
)

_UNSET = object()


def cart_queryset() -> QuerySet[Cart]:
    # The customer's uses: their account's, and those of guest orders placed with their email
    # (coupons.selectors.coupon_customer_uses, the rule checkout applies).
    by_email = Q(email=Lower(OuterRef("user__email"))) & ~Q(email="")  # phone-only accounts have none
    by_customer = Q(user_id=OuterRef("user_id")) | by_email
    customer_uses = (
        CouponRedemption.objects.filter(by_customer, coupon_id=OuterRef("coupon_id"))
        .order_by()
        .values("coupon_id")
        .annotate(uses=Count("id"))
        .values("uses")[:1]
    )
    method_serves_country = Exists(
        ShippingZoneCountry.objects.filter(
            zone_id=OuterRef("shipping_method__zone_id"), country=OuterRef("shipping_country")
        )
    )
    return Cart.objects.select_related("user", "coupon", "shipping_method").annotate(
        destination_tax_rate=tax_rate_subquery(country_ref="shipping_country", region_ref="shipping_region"),
        coupon_customer_uses=Subquery(customer_uses),
        shipping_method_serves_country=method_serves_country,
    )


def cart_get(*, cart_id) -> Cart | None:
    return cart_queryset().filter(pk=cart_id).first()


def cart_for_user(*, user) -> Cart | None:
    return cart_queryset().filter(user=user).first()


def cart_anonymous_get(*, cart_id) -> Cart | None:
    return cart_queryset().filter(pk=cart_id, user__isnull=True).first()


def cart_lines(*, cart: Cart) -> list[CartLine]:
    return list(
        CartLine.objects.filter(cart=cart)
        .select_related("variant__product__category")
        .annotate(
            product_image=product_first_image(product_ref="variant__product_id"),
            product_sellable=product_sellable_annotation(prefix="variant__product__"),
        )
        .order_by("created_at", "id")
    )


def cart_line_is_available(line: CartLine) -> bool:
    """For sale: an active variant of a product customers may see (shop's `product_sellable`, read
    from the `product_sellable` column of `cart_lines`, so the rule needs no query per line)."""
    return line.variant.is_active and line.product_sellable


def shipping_rule_for(method: ShippingMethod, *, available: bool = True) -> ShippingRule:
    bands: tuple[RateBand, ...] = ()
    if method.rate_type != ShippingMethod.RateType.FLAT:
        bands = tuple(RateBand(rate.min_value, rate.max_value, rate.price) for rate in method.rates.all())
    return ShippingRule(
        method_id=str(method.pk),
        kind=RateKind(method.rate_type),
        currency=method.currency,
        flat_price=method.flat_price,
        bands=bands,
        free_over=method.free_over,
        unavailable=not available,
    )


def coupon_rules_for(coupon: Coupon, *, rejection: str | None = None) -> CouponRules:
    product_ids, category_ids = coupon_restriction_ids(coupon_id=coupon.pk)
    return CouponRules(
        code=coupon.code,
        kind=CouponKind(coupon.kind),
        value=coupon.value,
        currency=coupon.currency,
        minimum_subtotal=coupon.minimum_subtotal,
        product_ids=product_ids,
        category_ids=category_ids,
        rejection=rejection,
    )


def cart_pricing_input(
    *,
    cart: Cart,
    lines: Sequence[CartLine] | None = None,
    country: str | None = None,
    region: str | None = None,
    shipping_method: ShippingMethod | None | object = _UNSET,
    coupon: Coupon | None | object = _UNSET,
    now: datetime | None = None,
) -> PricingInput:
    """What `price_cart` needs for `cart`, with its own destination, method and coupon unless given.

    The orders app passes the order's `country`/`region` and `shipping_method`; the cart passes a
    `coupon` it is about to apply. A coupon that may not be used now (inactive, outside its window,
    limits reached) is passed with its `rejection`, so the breakdown says why it gives nothing. A
    method that is inactive or does not serve the destination is passed as unavailable."""
    lines = cart_lines(cart=cart) if lines is None else lines
    destination_given = country is not None
    country = (country if destination_given else cart.shipping_country).upper()
    region = ((region or "") if destination_given else cart.shipping_region).upper()

    tax_rate = getattr(cart, "destination_tax_rate", _UNSET) if not destination_given else _UNSET
    if tax_rate is _UNSET:
        tax_rate = tax_rate_for(country=country, region=region)

    method = cart.shipping_method if shipping_method is _UNSET else shipping_method
    shipping = None
    if method is not None:
        if method is cart.shipping_method and not destination_given and hasattr(cart, "shipping_method_serves_country"):
            serves = method.is_active and cart.shipping_method_serves_country
        else:
            serves = bool(country) and shipping_method_serves(method=method, country=country)
        shipping = shipping_rule_for(method, available=serves)

    chosen_coupon = cart.coupon if coupon is _UNSET else coupon
    coupon_rules = None
    if chosen_coupon is not None:
        customer_uses = None
        if chosen_coupon.pk == cart.coupon_id and hasattr(cart, "coupon_customer_uses"):
            # Annotated by cart_queryset(); NULL there means no redemption yet.
            customer_uses = cart.coupon_customer_uses or 0
        reason = coupon_unusable_reason(
            coupon=chosen_coupon, user=cart.user if cart.user_id else None, now=now, customer_uses=customer_uses
        )
        coupon_rules = coupon_rules_for(chosen_coupon, rejection=reason.code if reason else None)

    return PricingInput(
        currency=cart.currency,
        lines=tuple(_pricing_line(line) for line in lines),
        coupon=coupon_rules,
        shipping=shipping,
        tax_rate=tax_rate if tax_rate is not None else ZERO,
    )


def _pricing_line(line: CartLine) -> PricingLine:
    product = line.variant.product
    return PricingLine(
        key=str(line.pk),
        unit_price=line.variant.price,
        quantity=line.quantity,
        product_id=product.pk,
        category_ids=_category_and_ancestors(product.category.path, product.category_id),
        unit_weight=line.variant.weight or ZERO,
    )


def _category_and_ancestors(path: str, category_id: int | None) -> frozenset[int]:
    ids = {int(part) for part in path.split(PATH_SEPARATOR) if part}
    if category_id is not None:
        ids.add(category_id)
    return frozenset(ids)


@dataclass(frozen=True)
class CartItemView:
    line: CartLine
    price: LinePrice


@dataclass(frozen=True)
class CartSummary:
    """A cart page: the cart (None when the customer has none yet), its lines and their prices."""

    cart: Cart | None
    lines: list[CartLine]
    pricing: PriceBreakdown
    tax_rate: Decimal

    @property
    def items(self) -> list[CartItemView]:
        return [
            CartItemView(line=line, price=price) for line, price in zip(self.lines, self.pricing.lines, strict=True)
        ]

    @property
    def id(self):
        return self.cart.pk if self.cart else None

    @property
    def shipping_country(self) -> str | None:
        return (self.cart.shipping_country or None) if self.cart else None

    @property
    def shipping_region(self) -> str | None:
        return (self.cart.shipping_region or None) if self.cart else None

    @property
    def shipping_method(self) -> ShippingMethod | None:
        return self.cart.shipping_method if self.cart else None

    @property
    def updated_at(self) -> datetime | None:
        return self.cart.updated_at if self.cart else None


def cart_summary(*, cart: Cart | None) -> CartSummary:
    if cart is None:
        return CartSummary(
            cart=None, lines=[], pricing=price_cart(PricingInput(currency=default_currency(), lines=())), tax_rate=ZERO
        )
    lines = cart_lines(cart=cart)
    pricing_input = cart_pricing_input(cart=cart, lines=lines)
    return CartSummary(cart=cart, lines=lines, pricing=price_cart(pricing_input), tax_rate=pricing_input.tax_rate)


@dataclass(frozen=True)
class ShippingOption:
    method: ShippingMethod
    price: Decimal
    currency: str


def cart_shipping_options(*, cart: Cart | None, country: str, now: datetime | None = None) -> list[ShippingOption]:
    """Each active method serving `country`, priced for the cart as it stands (its lines and coupon;
    an empty cart when there is none). Methods that cannot carry the cart are left out."""
    currency = cart.currency if cart is not None else default_currency()
    methods = list(shipping_methods_for_country(country=country, currency=currency))
    if cart is None:
        base = PricingInput(currency=currency, lines=())
    else:
        base = cart_pricing_input(
            cart=cart, country=country, region=cart.shipping_region, shipping_method=None, now=now
        )
    options = []
    for method in methods:
        priced = price_cart(replace(base, shipping=shipping_rule_for(method)))
        quote = priced.shipping_total
        if not base.lines:
            # An empty cart ships nothing, but a customer still wants the method's starting price.
            quote = shipping_quote(shipping_rule_for(method), weight=ZERO, goods_total=ZERO)
        if priced.shipping_issue is None and quote is not None:
            options.append(ShippingOption(method=method, price=quote, currency=method.currency))
    return options
