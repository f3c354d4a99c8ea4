"""`cart_pricing_input` as other apps call it: with plain carts and explicit overrides."""

import uuid
from decimal import Decimal

import pytest

from cart.models import Cart
from cart.pricing import SHIPPING_METHOD_UNAVAILABLE, price_cart
from cart.selectors import cart_pricing_input
from cart.tests.factories import CartFactory, CartLineFactory
from coupons.models import CouponRedemption
from coupons.tests.factories import CouponFactory, VariantFactory
from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plain_cart(user):
    """A customer's cart read without the cart page's annotations, as checkout reads it."""
    cart = CartFactory(user=user, coupon=CouponFactory(code="TEN", value=Decimal("10")))
    CartLineFactory(cart=cart, variant=VariantFactory(price=Decimal("25.00")), quantity=2)
    return Cart.objects.get(pk=cart.pk)


def test_prices_a_plain_cart_with_the_orders_destination_and_method(plain_cart):
    method = ShippingMethodFactory(zone=ShippingZoneFactory(countries=["FR"]), flat_price=Decimal("6.00"))
    TaxRateFactory(country="FR", rate=Decimal("20"))

    breakdown = price_cart(cart_pricing_input(cart=plain_cart, country="fr", region="", shipping_method=method))

    # 50.00 - 5.00 = 45.00; shipping 6.00; tax 9.00 + 1.20.
    assert (breakdown.discount_total, breakdown.shipping_total, breakdown.tax_total, breakdown.total) == (
        Decimal("5.00"),
        Decimal("6.00"),
        Decimal("10.20"),
        Decimal("61.20"),
    )
    assert breakdown.coupon_code == "TEN"


def test_a_method_that_does_not_serve_the_destination_is_unavailable(plain_cart):
    method = ShippingMethodFactory(zone=ShippingZoneFactory(countries=["FR"]))

    breakdown = price_cart(cart_pricing_input(cart=plain_cart, country="US", shipping_method=method))

    assert breakdown.shipping_issue == SHIPPING_METHOD_UNAVAILABLE
    assert breakdown.shipping_total == Decimal("0.00")


def test_a_used_up_coupon_is_reported_for_a_plain_cart(plain_cart, user):
    plain_cart.coupon.usage_limit_per_customer = 1
    plain_cart.coupon.save()
    CouponRedemption.objects.create(coupon=plain_cart.coupon, user=user, order_id=uuid.uuid4())

    breakdown = price_cart(cart_pricing_input(cart=plain_cart))

    assert breakdown.coupon_issue == "coupon_usage_limit_reached"
    assert breakdown.discount_total == Decimal("0.00")


def test_coupon_override_none_prices_without_the_carts_coupon(plain_cart):
    breakdown = price_cart(cart_pricing_input(cart=plain_cart, coupon=None))

    assert breakdown.coupon_code is None
    assert breakdown.total == Decimal("50.00")
