"""The pure pricing module: exact values for each rule, then properties over random carts."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cart.pricing import (
    COUPON_MINIMUM_NOT_MET,
    COUPON_NOT_APPLICABLE,
    SHIPPING_METHOD_UNAVAILABLE,
    CouponKind,
    CouponRules,
    PricingInput,
    PricingLine,
    RateBand,
    RateKind,
    ShippingRule,
    price_cart,
    shipping_quote,
)


def line(key="a", price="10.00", quantity=1, product_id=1, categories=(), weight="0"):
    return PricingLine(
        key=key,
        unit_price=D(price),
        quantity=quantity,
        product_id=product_id,
        category_ids=frozenset(categories),
        unit_weight=D(weight),
    )


def flat(price="4.99", free_over=None, currency="USD"):
    return ShippingRule(
        method_id="m",
        kind=RateKind.FLAT,
        currency=currency,
        flat_price=D(price),
        free_over=D(free_over) if free_over else None,
    )


def banded(kind, bands, free_over=None):
    return ShippingRule(
        method_id="m",
        kind=kind,
        currency="USD",
        bands=tuple(RateBand(D(low), D(high) if high else None, D(price)) for low, high, price in bands),
        free_over=D(free_over) if free_over else None,
    )


def coupon(kind=CouponKind.PERCENTAGE, value="10", **kwargs):
    kwargs.setdefault("currency", "USD")
    return CouponRules(code="SAVE", kind=kind, value=D(value), **kwargs)


def priced(lines, **kwargs):
    return price_cart(PricingInput(currency="USD", lines=tuple(lines), **kwargs))


# --- lines and rounding --------------------------------------------------------------------------


def test_line_totals_round_half_up_per_line_before_summing():
    result = priced([line("a", "0.125"), line("b", "0.125")])

    # 0.125 rounds to 0.13 on each line; rounding the sum (0.25) would give 0.25 instead.
    assert [p.line_total for p in result.lines] == [D("0.13"), D("0.13")]
    assert result.subtotal == D("0.26")
    assert result.total == D("0.26")


def test_plain_cart_sums_lines_weight_and_items():
    result = priced([line("a", "19.99", 3, weight="0.250"), line("b", "5.00", 2, weight="1.5")])

    assert result.subtotal == D("69.97")
    assert result.discount_total == D("0.00")
    assert result.shipping_total == D("0.00")
    assert result.tax_total == D("0.00")
    assert result.total == D("69.97")
    assert result.weight == D("3.750")
    assert result.item_count == 5
    assert result.coupon_code is None
    assert result.coupon_issue is None


def test_empty_cart_costs_nothing_even_with_shipping_and_tax():
    result = priced([], shipping=flat("4.99"), tax_rate=D("20"))

    assert (result.subtotal, result.shipping_total, result.tax_total, result.total) == (D("0"),) * 4
    assert result.shipping_issue is None


# --- order of operations: discount, shipping, tax ------------------------------------------------


def test_percentage_discount_then_shipping_then_tax_exact_values():
    result = priced(
        [line("a", "19.99", 3), line("b", "10.00", 1)],
        coupon=coupon(value="10"),
        shipping=flat("4.99"),
        tax_rate=D("20"),
    )

    # Discount per line: 59.97 * 10 % = 5.997 -> 6.00; 10.00 -> 1.00.
    assert [p.discount for p in result.lines] == [D("6.00"), D("1.00")]
    assert result.discount_total == D("7.00")
    assert result.shipping_total == D("4.99")
    # Tax per line on the discounted totals: 53.97 * 20 % = 10.794 -> 10.79; 9.00 -> 1.80;
    # shipping 4.99 * 20 % = 0.998 -> 1.00.
    assert [p.tax for p in result.lines] == [D("10.79"), D("1.80")]
    assert result.tax_total == D("13.59")
    assert result.total == D("81.55")  # 69.97 - 7.00 + 4.99 + 13.59
    assert result.coupon_applied is True


def test_fractional_tax_rate_rounds_per_line():
    result = priced([line("a", "9.99", 1), line("b", "0.05", 1)], tax_rate=D("8.875"))

    # 9.99 * 8.875 % = 0.8866... -> 0.89; 0.05 * 8.875 % = 0.0044... -> 0.00.
    assert [p.tax for p in result.lines] == [D("0.89"), D("0.00")]
    assert result.tax_total == D("0.89")
    assert result.total == D("10.93")


def test_fixed_discount_is_spread_by_largest_remainder_and_adds_up():
    result = priced(
        [line("a", "10.00"), line("b", "20.00"), line("c", "30.01")],
        coupon=coupon(CouponKind.FIXED_AMOUNT, "10.00"),
    )

    # Exact shares 1.6664, 3.3328, 5.0008: floors 1.66 + 3.33 + 5.00 = 9.99, the last cent goes to
    # the largest remainder (line a).
    assert [p.discount for p in result.lines] == [D("1.67"), D("3.33"), D("5.00")]
    assert result.discount_total == D("10.00")
    assert result.total == D("50.01")


def test_fixed_discount_never_exceeds_the_eligible_subtotal():
    result = priced([line("a", "12.50", 2)], coupon=coupon(CouponKind.FIXED_AMOUNT, "50.00"), shipping=flat("5.00"))

    assert result.discount_total == D("25.00")
    assert result.shipping_total == D("5.00")
    assert result.total == D("5.00")


def test_free_shipping_coupon_zeroes_shipping_but_not_goods():
    result = priced(
        [line("a", "30.00")], coupon=coupon(CouponKind.FREE_SHIPPING, "0"), shipping=flat("7.50"), tax_rate=D("10")
    )

    assert result.discount_total == D("0.00")
    assert result.shipping_total == D("0.00")
    assert result.tax_total == D("3.00")
    assert result.total == D("33.00")
    assert result.coupon_applied is True


# --- coupon rules --------------------------------------------------------------------------------


def test_coupon_restricted_to_a_category_matches_lines_under_its_subcategories():
    # Category 1 is the parent of 5; line "a" is in 5 (ancestors {1, 5}), line "b" in 7.
    result = priced(
        [line("a", "40.00", product_id=10, categories={1, 5}), line("b", "60.00", product_id=11, categories={7})],
        coupon=coupon(value="25", category_ids=frozenset({1})),
    )

    assert [p.coupon_eligible for p in result.lines] == [True, False]
    assert [p.discount for p in result.lines] == [D("10.00"), D("0.00")]
    assert result.total == D("90.00")


def test_coupon_restricted_to_products_or_categories_matches_either():
    result = priced(
        [line("a", "10.00", product_id=10, categories={3}), line("b", "10.00", product_id=11, categories={4})],
        coupon=coupon(CouponKind.FIXED_AMOUNT, "30", product_ids=frozenset({11}), category_ids=frozenset({3})),
    )

    assert result.discount_total == D("20.00")


def test_coupon_without_eligible_lines_is_not_applicable():
    result = priced([line("a", "10.00", product_id=10)], coupon=coupon(product_ids=frozenset({99})))

    assert result.coupon_issue == COUPON_NOT_APPLICABLE
    assert result.coupon_applied is False
    assert result.discount_total == D("0.00")
    assert result.total == D("10.00")


def test_coupon_on_empty_cart_is_not_applicable():
    assert priced([], coupon=coupon()).coupon_issue == COUPON_NOT_APPLICABLE


def test_minimum_subtotal_is_compared_with_the_whole_subtotal_before_discount():
    below = priced([line("a", "49.99")], coupon=coupon(minimum_subtotal=D("50.00")))
    at = priced([line("a", "50.00")], coupon=coupon(minimum_subtotal=D("50.00")))

    assert below.coupon_issue == COUPON_MINIMUM_NOT_MET
    assert below.discount_total == D("0.00")
    assert at.coupon_issue is None
    assert at.discount_total == D("5.00")


def test_free_shipping_coupon_below_minimum_keeps_shipping():
    result = priced(
        [line("a", "20.00")],
        coupon=coupon(CouponKind.FREE_SHIPPING, "0", minimum_subtotal=D("25")),
        shipping=flat("4.00"),
    )

    assert result.coupon_issue == COUPON_MINIMUM_NOT_MET
    assert result.shipping_total == D("4.00")


def test_fixed_coupon_in_another_currency_is_not_applicable():
    result = priced([line("a", "20.00")], coupon=coupon(CouponKind.FIXED_AMOUNT, "5", currency="EUR"))

    assert result.coupon_issue == COUPON_NOT_APPLICABLE
    assert result.discount_total == D("0.00")


def test_rejection_decided_outside_pricing_is_reported_and_gives_nothing():
    result = priced([line("a", "20.00")], coupon=coupon(rejection="coupon_expired"), shipping=flat("3.00"))

    assert result.coupon_issue == "coupon_expired"
    assert result.coupon_code == "SAVE"
    assert result.discount_total == D("0.00")
    assert result.total == D("23.00")


# --- shipping ------------------------------------------------------------------------------------


WEIGHT_BANDS = [("0", "1", "4.00"), ("1", "5", "9.00"), ("5", "20", "19.00")]


@pytest.mark.parametrize(
    ("weight", "expected"),
    [("0.999", D("4.00")), ("1.000", D("9.00")), ("4.999", D("9.00")), ("5", D("19.00")), ("20", None)],
)
def test_weight_bands_are_half_open(weight, expected):
    rule = banded(RateKind.WEIGHT, WEIGHT_BANDS)

    assert shipping_quote(rule, weight=D(weight), goods_total=D("10")) == expected


def test_weight_based_method_uses_total_weight():
    result = priced([line("a", "10.00", 3, weight="0.400")], shipping=banded(RateKind.WEIGHT, WEIGHT_BANDS))

    assert result.weight == D("1.200")
    assert result.shipping_total == D("9.00")
    assert result.total == D("39.00")


def test_price_based_method_uses_goods_total_after_discount():
    rule = banded(RateKind.PRICE, [("0", "50", "8.00"), ("50", None, "3.00")])

    full = priced([line("a", "55.00")], shipping=rule)
    discounted = priced([line("a", "55.00")], shipping=rule, coupon=coupon(value="10"))

    assert full.shipping_total == D("3.00")
    # 55.00 - 5.50 = 49.50 falls in the lower band.
    assert discounted.shipping_total == D("8.00")
    assert discounted.total == D("57.50")


def test_free_over_threshold_uses_goods_total_after_discount():
    rule = flat("6.00", free_over="100.00")

    assert priced([line("a", "100.00")], shipping=rule).shipping_total == D("0.00")
    assert priced([line("a", "99.99")], shipping=rule).shipping_total == D("6.00")
    assert priced([line("a", "100.00")], shipping=rule, coupon=coupon(value="5")).shipping_total == D("6.00")


def test_free_over_does_not_make_an_uncovered_cart_shippable():
    rule = banded(RateKind.WEIGHT, [("0", "2", "5.00")], free_over="10")

    result = priced([line("a", "50.00", weight="3")], shipping=rule)

    assert result.shipping_issue == SHIPPING_METHOD_UNAVAILABLE
    assert result.shipping_total == D("0.00")


def test_method_in_another_currency_is_unavailable():
    result = priced([line("a", "10.00")], shipping=flat("5.00", currency="EUR"))

    assert result.shipping_issue == SHIPPING_METHOD_UNAVAILABLE
    assert result.shipping_total == D("0.00")


# --- refused input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pricing_input",
    [
        PricingInput(currency="USD", lines=(line(quantity=0),)),
        PricingInput(currency="USD", lines=(line(price="-1.00"),)),
        PricingInput(currency="USD", lines=(), tax_rate=D("100.01")),
        PricingInput(currency="USD", lines=(), coupon=coupon(value="101")),
        PricingInput(currency="USD", lines=(), coupon=coupon(CouponKind.FIXED_AMOUNT, "0")),
    ],
)
def test_nonsense_input_is_refused(pricing_input):
    with pytest.raises(ValueError):
        price_cart(pricing_input)


# --- properties ----------------------------------------------------------------------------------

money = st.decimals(min_value=D("0"), max_value=D("5000"), places=2)
pricing_lines = st.lists(
    st.builds(
        PricingLine,
        key=st.uuids().map(str),
        unit_price=st.decimals(min_value=D("0"), max_value=D("2000"), places=3),
        quantity=st.integers(min_value=1, max_value=99),
        product_id=st.integers(min_value=1, max_value=6),
        category_ids=st.frozensets(st.integers(min_value=1, max_value=6), max_size=3),
        unit_weight=st.decimals(min_value=D("0"), max_value=D("50"), places=3),
    ),
    max_size=8,
)
coupons = st.one_of(
    st.none(),
    st.builds(
        CouponRules,
        code=st.just("X"),
        kind=st.just(CouponKind.PERCENTAGE),
        value=st.decimals(min_value=D("0.01"), max_value=D("100"), places=2),
        currency=st.just("USD"),
        minimum_subtotal=st.one_of(st.none(), money),
        product_ids=st.frozensets(st.integers(min_value=1, max_value=6), max_size=2),
        category_ids=st.frozensets(st.integers(min_value=1, max_value=6), max_size=2),
    ),
    st.builds(
        CouponRules,
        code=st.just("X"),
        kind=st.just(CouponKind.FIXED_AMOUNT),
        value=st.decimals(min_value=D("0.01"), max_value=D("10000"), places=2),
        currency=st.just("USD"),
        product_ids=st.frozensets(st.integers(min_value=1, max_value=6), max_size=2),
    ),
    st.builds(CouponRules, code=st.just("X"), kind=st.just(CouponKind.FREE_SHIPPING)),
)
rules = st.one_of(
    st.none(),
    st.builds(
        ShippingRule, method_id=st.just("m"), kind=st.just(RateKind.FLAT), currency=st.just("USD"), flat_price=money
    ),
    st.builds(
        ShippingRule,
        method_id=st.just("m"),
        kind=st.sampled_from([RateKind.WEIGHT, RateKind.PRICE]),
        currency=st.just("USD"),
        bands=st.just((RateBand(D("0"), D("10"), D("5.00")), RateBand(D("10"), None, D("12.50")))),
        free_over=st.one_of(st.none(), money),
    ),
)
tax_rates = st.decimals(min_value=D("0"), max_value=D("100"), places=4)


@settings(max_examples=300, deadline=None)
@given(lines=pricing_lines, coupon_rules=coupons, shipping=rules, tax_rate=tax_rates)
def test_totals_are_never_negative_and_add_up(lines, coupon_rules, shipping, tax_rate):
    result = price_cart(
        PricingInput(currency="USD", lines=tuple(lines), coupon=coupon_rules, shipping=shipping, tax_rate=tax_rate)
    )

    amounts = [result.subtotal, result.discount_total, result.shipping_total, result.tax_total, result.total]
    assert all(amount >= 0 for amount in amounts)
    assert all(amount.as_tuple().exponent == -2 for amount in amounts)
    assert result.total == result.subtotal - result.discount_total + result.shipping_total + result.tax_total
    assert result.discount_total <= result.subtotal
    assert sum((p.line_total for p in result.lines), D("0")) == result.subtotal
    assert sum((p.discount for p in result.lines), D("0")) == result.discount_total
    assert all(D("0") <= p.discount <= p.line_total for p in result.lines)


@settings(max_examples=300, deadline=None)
@given(
    lines=pricing_lines.filter(bool),
    value=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    restricted_to=st.frozensets(st.integers(min_value=1, max_value=6), max_size=3),
)
def test_fixed_discount_never_exceeds_the_subtotal(lines, value, restricted_to):
    rules_ = CouponRules(code="X", kind=CouponKind.FIXED_AMOUNT, value=value, currency="USD", product_ids=restricted_to)

    result = price_cart(PricingInput(currency="USD", lines=tuple(lines), coupon=rules_))

    eligible_subtotal = sum((p.line_total for p in result.lines if p.coupon_eligible), D("0"))
    assert result.discount_total <= result.subtotal
    if result.coupon_applied:
        assert result.discount_total == min(value, eligible_subtotal)
    else:
        assert result.discount_total == D("0")
    assert result.total >= 0
