"""The one place that prices a cart (and, through the orders app, an order).

Pure: plain frozen dataclasses in, a `PriceBreakdown` out; no ORM, no settings, no clock. The caller
(`cart.selectors.cart_pricing_input`) gathers the facts; this module only does arithmetic, so the
cart page, the shipping-method list and checkout can never disagree about a total.

Order of operations (see docs/CART.md):

1. Line totals: `quantize(unit_price * quantity)` per line (half-up to the cent), summed into the
   subtotal.
2. Discount on the eligible lines (all lines, or those of the coupon's products/categories):
   - percentage: `quantize(line_total * percent / 100)` per eligible line;
   - fixed amount: `min(amount, eligible subtotal)`, spread over the eligible lines in proportion to
     their totals (largest remainder, so the cents add up exactly and no line goes below zero);
   - free shipping: no discount on goods, the shipping total becomes zero.
   The minimum subtotal of a coupon is compared with the whole cart's subtotal before discount.
3. Shipping for the chosen method, from the goods total after discount (price bands and the free-over
   threshold use it) and the total weight; nothing to ship (no lines) costs nothing.
4. Tax, exclusive of prices, on what the customer pays for: per line on the discounted line total,
   plus on shipping, each rounded half-up, then summed.
5. total = subtotal - discount_total + shipping_total + tax_total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from core.money import CENT, ZERO, quantize

HUNDRED = Decimal("100")

COUPON_NOT_APPLICABLE = "coupon_not_applicable"
COUPON_MINIMUM_NOT_MET = "coupon_minimum_not_met"
SHIPPING_METHOD_UNAVAILABLE = "shipping_method_unavailable"


class CouponKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    FREE_SHIPPING = "free_shipping"


class RateKind(StrEnum):
    FLAT = "flat"
    WEIGHT = "weight"
    PRICE = "price"


@dataclass(frozen=True)
class PricingLine:
    key: str
    """Whatever identifies the line to the caller (a cart line id); returned on `LinePrice`."""
    unit_price: Decimal
    quantity: int
    product_id: int
    category_ids: frozenset[int] = frozenset()
    """The product's category and all of its ancestors, so a coupon on a parent category matches."""
    unit_weight: Decimal = ZERO
    """Kilograms per unit."""


@dataclass(frozen=True)
class CouponRules:
    code: str
    kind: CouponKind
    value: Decimal = ZERO
    """Percent (0-100] for percentage coupons, an amount for fixed ones, ignored for free shipping."""
    currency: str = ""
    minimum_subtotal: Decimal | None = None
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    """Restriction: no ids means every line is eligible; else lines of these products or categories."""
    rejection: str | None = None
    """A reason found outside pricing (expired, inactive, usage limit...): the coupon then gives nothing
    and the breakdown reports this reason."""


@dataclass(frozen=True)
class RateBand:
    min_value: Decimal
    max_value: Decimal | None
    price: Decimal

    def covers(self, value: Decimal) -> bool:
        return self.min_value <= value and (self.max_value is None or value < self.max_value)


@dataclass(frozen=True)
class ShippingRule:
    method_id: str
    kind: RateKind
    currency: str
    flat_price: Decimal | None = None
    bands: tuple[RateBand, ...] = ()
    free_over: Decimal | None = None
    unavailable: bool = False
    """Decided outside pricing: the method is inactive or does not serve the destination."""


@dataclass(frozen=True)
class PricingInput:
    currency: str
    lines: tuple[PricingLine, ...]
    coupon: CouponRules | None = None
    shipping: ShippingRule | None = None
    tax_rate: Decimal = ZERO
    """Percent of the destination, 0-100."""


@dataclass(frozen=True)
class LinePrice:
    key: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    discount: Decimal
    tax: Decimal
    coupon_eligible: bool


@dataclass(frozen=True)
class PriceBreakdown:
    currency: str
    lines: tuple[LinePrice, ...]
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal
    weight: Decimal
    item_count: int
    coupon_code: str | None
    coupon_applied: bool
    coupon_issue: str | None
    """Why the cart's coupon gives nothing right now (a coupon error code), else None."""
    shipping_issue: str | None
    """`shipping_method_unavailable` when the chosen method cannot price this cart, else None."""


def price_cart(pricing_input: PricingInput) -> PriceBreakdown:
    _check_input(pricing_input)
    lines = pricing_input.lines
    line_totals = [quantize(line.unit_price * line.quantity) for line in lines]
    subtotal = sum(line_totals, ZERO)
    weight = sum((line.unit_weight * line.quantity for line in lines), ZERO)

    coupon = pricing_input.coupon
    eligible = [_is_eligible(line, coupon) for line in lines]
    coupon_issue = _coupon_issue(coupon, pricing_input.currency, subtotal, eligible)
    coupon_applied = coupon is not None and coupon_issue is None

    discounts = [ZERO] * len(lines)
    if coupon_applied and coupon.kind is not CouponKind.FREE_SHIPPING:
        discounts = _discounts(coupon, line_totals, eligible)
    discount_total = sum(discounts, ZERO)
    goods_total = subtotal - discount_total

    shipping_total, shipping_issue = ZERO, None
    if pricing_input.shipping is not None and lines:
        quote = shipping_quote(pricing_input.shipping, weight=weight, goods_total=goods_total)
        rule = pricing_input.shipping
        if quote is None or rule.unavailable or rule.currency != pricing_input.currency:
            shipping_issue = SHIPPING_METHOD_UNAVAILABLE
        elif not (coupon_applied and coupon.kind is CouponKind.FREE_SHIPPING):
            shipping_total = quote

    rate = pricing_input.tax_rate
    line_taxes = [
        quantize((total - discount) * rate / HUNDRED) for total, discount in zip(line_totals, discounts, strict=True)
    ]
    tax_total = sum(line_taxes, ZERO) + quantize(shipping_total * rate / HUNDRED)

    return PriceBreakdown(
        currency=pricing_input.currency,
        lines=tuple(
            LinePrice(
                key=line.key,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line_total,
                discount=discount,
                tax=tax,
                coupon_eligible=is_eligible,
            )
            for line, line_total, discount, tax, is_eligible in zip(
                lines, line_totals, discounts, line_taxes, eligible, strict=True
            )
        ),
        subtotal=subtotal,
        discount_total=discount_total,
        shipping_total=shipping_total,
        tax_total=tax_total,
        total=goods_total + shipping_total + tax_total,
        weight=weight,
        item_count=sum(line.quantity for line in lines),
        coupon_code=coupon.code if coupon else None,
        coupon_applied=coupon_applied,
        coupon_issue=coupon_issue,
        shipping_issue=shipping_issue,
    )


def shipping_quote(rule: ShippingRule, *, weight: Decimal, goods_total: Decimal) -> Decimal | None:
    """The method's price for this weight (kg) and goods total (after discount), or None when none
    of its bands covers the cart (e.g. too heavy)."""
    price = _rate_price(rule, weight=weight, goods_total=goods_total)
    # The threshold makes an available method free; it does not make a cart the method cannot
    # carry (no band covers it) shippable.
    if price is not None and rule.free_over is not None and goods_total >= rule.free_over:
        return ZERO
    return price


def _rate_price(rule: ShippingRule, *, weight: Decimal, goods_total: Decimal) -> Decimal | None:
    if rule.kind is RateKind.FLAT:
        return quantize(rule.flat_price) if rule.flat_price is not None else None
    measured = weight if rule.kind is RateKind.WEIGHT else goods_total
    # Bands should not overlap (the admin and API refuse it); if they ever do, the lowest band wins.
    for band in sorted(rule.bands, key=lambda band: band.min_value):
        if band.covers(measured):
            return quantize(band.price)
    return None


def _check_input(pricing_input: PricingInput) -> None:
    for line in pricing_input.lines:
        if line.quantity < 1:
            raise ValueError(f"Line {line.key}: quantity must be at least 1.")
        if line.unit_price < 0 or line.unit_weight < 0:
            raise ValueError(f"Line {line.key}: price and weight must not be negative.")
    if not ZERO <= pricing_input.tax_rate <= HUNDRED:
        raise ValueError("The tax rate is a percentage from 0 to 100.")
    coupon = pricing_input.coupon
    if coupon is not None:
        if coupon.kind is CouponKind.PERCENTAGE and not ZERO < coupon.value <= HUNDRED:
            raise ValueError("A percentage coupon takes a value in (0, 100].")
        if coupon.kind is CouponKind.FIXED_AMOUNT and coupon.value <= 0:
            raise ValueError("A fixed-amount coupon takes a positive value.")


def _is_eligible(line: PricingLine, coupon: CouponRules | None) -> bool:
    if coupon is None:
        return False
    if not coupon.product_ids and not coupon.category_ids:
        return True
    return line.product_id in coupon.product_ids or not coupon.category_ids.isdisjoint(line.category_ids)


def _coupon_issue(coupon: CouponRules | None, currency: str, subtotal: Decimal, eligible: Sequence[bool]) -> str | None:
    if coupon is None:
        return None
    if coupon.rejection:
        return coupon.rejection
    needs_currency = coupon.kind is CouponKind.FIXED_AMOUNT or coupon.minimum_subtotal is not None
    if not any(eligible) or (needs_currency and coupon.currency != currency):
        return COUPON_NOT_APPLICABLE
    if coupon.minimum_subtotal is not None and subtotal < coupon.minimum_subtotal:
        return COUPON_MINIMUM_NOT_MET
    return None


def _discounts(coupon: CouponRules, line_totals: Sequence[Decimal], eligible: Sequence[bool]) -> list[Decimal]:
    if coupon.kind is CouponKind.PERCENTAGE:
        return [
            quantize(total * coupon.value / HUNDRED) if is_eligible else ZERO
            for total, is_eligible in zip(line_totals, eligible, strict=True)
        ]
    eligible_subtotal = sum(
        (total for total, is_eligible in zip(line_totals, eligible, strict=True) if is_eligible), ZERO
    )
    amount = min(quantize(coupon.value), eligible_subtotal)
    return _spread(
        amount, [total if is_eligible else ZERO for total, is_eligible in zip(line_totals, eligible, strict=True)]
    )


def _spread(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `amount` (<= sum(weights)) over the weights in proportion, in cents, summing exactly.

    Each share is first rounded down; the cents left go one by one to the largest remainders (ties to
    the earlier line). A share never exceeds its weight, because weights are whole cents."""
    whole = sum(weights, ZERO)
    if amount <= 0 or whole <= 0:
        return [ZERO] * len(weights)
    exact = [amount * weight / whole for weight in weights]
    shares = [share.quantize(CENT, rounding=ROUND_DOWN) for share in exact]
    cents_left = int((amount - sum(shares, ZERO)) / CENT)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[:cents_left]:
        shares[index] += CENT
    return shares
