"""Applying coupons to a cart: every rule, every refusal code, and what the cart shows afterwards."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cart.models import Cart
from cart.tests.factories import CartFactory, CartLineFactory
from cart.tests.helpers import CART_URL, COUPON_URL, token_headers
from coupons.models import Coupon, CouponRedemption
from coupons.tests.factories import CategoryFactory, CouponFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart():
    """An anonymous cart: 2 x 20.00 shirts + 1 x 10.00 socks = 50.00."""
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=VariantFactory(sku="SHIRT", price=Decimal("20.00")), quantity=2)
    CartLineFactory(cart=cart, variant=VariantFactory(sku="SOCKS", price=Decimal("10.00")), quantity=1)
    return cart


@pytest.fixture
def customer_cart(user):
    cart = CartFactory(user=user)
    CartLineFactory(cart=cart, variant=VariantFactory(price=Decimal("30.00")), quantity=1)
    return cart


def apply(client, cart, code):
    return client.post(COUPON_URL, {"code": code}, format="json", **token_headers(cart.pk))


def refused(response) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["errors"][0]["attr"] == "code"
    return body["errors"][0]["code"]


def coupon_of(cart) -> Coupon | None:
    return Cart.objects.get(pk=cart.pk).coupon


# --- kinds ---------------------------------------------------------------------------------------


def test_percentage_coupon_with_any_case_code(api_client, cart):
    CouponFactory(code="WELCOME10", kind="percentage", value=Decimal("10"))

    response = apply(api_client, cart, "  welcome10 ")

    assert response.status_code == 200
    body = response.json()
    assert body["coupon_code"] == "WELCOME10"
    assert body["coupon_issue"] is None
    assert [item["discount"] for item in body["items"]] == ["4.00", "1.00"]
    assert body["discount_total"] == "5.00"
    assert body["total"] == "45.00"
    assert coupon_of(cart).code == "WELCOME10"


def test_fixed_amount_coupon(api_client, cart):
    CouponFactory(code="FIVE", kind="fixed_amount", value=Decimal("7.50"))

    body = apply(api_client, cart, "five").json()

    assert body["discount_total"] == "7.50"
    assert [item["discount"] for item in body["items"]] == ["6.00", "1.50"]
    assert body["total"] == "42.50"


def test_free_shipping_coupon_leaves_goods_at_full_price(api_client, cart):
    CouponFactory(code="FREESHIP", kind="free_shipping", value=Decimal("0"))

    body = apply(api_client, cart, "FreeShip").json()

    assert body["coupon_code"] == "FREESHIP"
    assert body["discount_total"] == "0.00"
    assert body["total"] == "50.00"


def test_a_new_coupon_replaces_the_old_one(api_client, cart):
    CouponFactory(code="ONE", value=Decimal("10"))
    CouponFactory(code="TWO", value=Decimal("20"))
    apply(api_client, cart, "ONE")

    body = apply(api_client, cart, "TWO").json()

    assert body["coupon_code"] == "TWO"
    assert body["discount_total"] == "10.00"


def test_removing_the_coupon(api_client, cart):
    cart.coupon = CouponFactory(code="ONE")
    cart.save()

    response = api_client.delete(COUPON_URL, **token_headers(cart.pk))

    assert response.status_code == 200
    assert response.json()["coupon_code"] is None
    assert response.json()["discount_total"] == "0.00"
    assert coupon_of(cart) is None


# --- refusals ------------------------------------------------------------------------------------


def test_unknown_code(api_client, cart):
    assert refused(apply(api_client, cart, "NOPE")) == "coupon_not_found"
    assert coupon_of(cart) is None


def test_inactive_coupon(api_client, cart):
    CouponFactory(code="OFF", is_active=False)

    assert refused(apply(api_client, cart, "OFF")) == "coupon_inactive"
    assert coupon_of(cart) is None


def test_expired_coupon(api_client, cart):
    CouponFactory(code="OLD", ends_at=timezone.now() - timedelta(minutes=1))

    assert refused(apply(api_client, cart, "OLD")) == "coupon_expired"
    assert coupon_of(cart) is None


def test_coupon_not_valid_yet(api_client, cart):
    CouponFactory(code="SOON", starts_at=timezone.now() + timedelta(hours=1))

    assert refused(apply(api_client, cart, "SOON")) == "coupon_not_yet_valid"
    assert coupon_of(cart) is None


def test_coupon_inside_its_window(api_client, cart):
    now = timezone.now()
    CouponFactory(code="NOW", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))

    assert apply(api_client, cart, "NOW").status_code == 200


def test_minimum_subtotal_not_met_says_the_minimum(api_client, cart):
    CouponFactory(code="BIG", minimum_subtotal=Decimal("50.01"))

    response = apply(api_client, cart, "BIG")

    assert refused(response) == "coupon_minimum_not_met"
    assert response.json()["errors"][0]["minimum_subtotal"] == "50.01"
    assert coupon_of(cart) is None


def test_minimum_subtotal_met_exactly(api_client, cart):
    CouponFactory(code="BIG", minimum_subtotal=Decimal("50.00"))

    assert apply(api_client, cart, "BIG").status_code == 200


def test_global_usage_limit_reached(api_client, cart):
    coupon = CouponFactory(code="LIMITED", usage_limit=2)
    Coupon.objects.filter(pk=coupon.pk).update(times_used=2)

    assert refused(apply(api_client, cart, "LIMITED")) == "coupon_usage_limit_reached"
    assert coupon_of(cart) is None


def test_per_customer_limit_reached(auth_client, user, customer_cart):
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    CouponRedemption.objects.create(coupon=coupon, user=user, order_id=uuid.uuid4())

    response = auth_client.post(COUPON_URL, {"code": "once"}, format="json")

    assert refused(response) == "coupon_usage_limit_reached"
    assert coupon_of(customer_cart) is None


def test_per_customer_limit_counts_only_this_customer(auth_client, other_user, customer_cart):
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    CouponRedemption.objects.create(coupon=coupon, user=other_user, order_id=uuid.uuid4())

    response = auth_client.post(COUPON_URL, {"code": "once"}, format="json")

    assert response.status_code == 200
    assert coupon_of(customer_cart) == coupon


def test_per_customer_limit_counts_guest_orders_placed_with_the_customers_email(auth_client, user, customer_cart):
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    CouponRedemption.objects.create(coupon=coupon, user=None, email=user.email.lower(), order_id=uuid.uuid4())

    response = auth_client.post(COUPON_URL, {"code": "once"}, format="json")

    assert refused(response) == "coupon_usage_limit_reached"


def test_an_account_without_email_is_not_matched_to_other_uses_without_email(auth_client, user, customer_cart):
    type(user).objects.filter(pk=user.pk).update(email="")
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    CouponRedemption.objects.create(coupon=coupon, user=None, email="", order_id=uuid.uuid4())

    response = auth_client.post(COUPON_URL, {"code": "once"}, format="json")

    assert response.status_code == 200


def test_per_customer_limit_waits_for_checkout_on_an_anonymous_cart(api_client, cart):
    """Guest checkout counts the uses by the guest's email (orders/tests/test_guest_checkout.py);
    an anonymous cart does not know it yet, so the coupon applies and the limit is checked then."""
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)

    response = apply(api_client, cart, "ONCE")

    assert response.status_code == 200
    assert coupon_of(cart) == coupon


def test_coupon_for_other_products_is_not_applicable(api_client, cart):
    CouponFactory(code="OTHER", products=[ProductFactory()])

    assert refused(apply(api_client, cart, "OTHER")) == "coupon_not_applicable"
    assert coupon_of(cart) is None


def test_coupon_on_an_empty_or_missing_cart_is_not_applicable(api_client):
    CouponFactory(code="TEN")
    empty = CartFactory()

    assert refused(apply(api_client, empty, "TEN")) == "coupon_not_applicable"
    assert refused(api_client.post(COUPON_URL, {"code": "TEN"}, format="json")) == "coupon_not_applicable"
    assert Cart.objects.count() == 1


def test_restriction_to_a_product_discounts_only_its_lines(api_client):
    shirt, socks = VariantFactory(price=Decimal("20.00")), VariantFactory(price=Decimal("10.00"))
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=shirt, quantity=2)
    CartLineFactory(cart=cart, variant=socks, quantity=1)
    CouponFactory(code="SOCKS", value=Decimal("50"), products=[socks.product])

    body = apply(api_client, cart, "socks").json()

    assert [item["discount"] for item in body["items"]] == ["0.00", "5.00"]
    assert body["total"] == "45.00"


def test_restriction_to_a_category_includes_its_sub_categories(api_client):
    clothing = CategoryFactory(slug="clothing")
    shirts = CategoryFactory(slug="shirts", parent=clothing)
    linen = CategoryFactory(slug="linen", parent=shirts)
    toys = CategoryFactory(slug="toys")
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=VariantFactory(product__category=linen, price=Decimal("40.00")))
    CartLineFactory(cart=cart, variant=VariantFactory(product__category=toys, price=Decimal("60.00")))
    CouponFactory(code="CLOTHES", value=Decimal("25"), categories=[clothing])

    body = apply(api_client, cart, "CLOTHES").json()

    assert [item["discount"] for item in body["items"]] == ["10.00", "0.00"]
    assert body["total"] == "90.00"


def test_restriction_to_a_sub_category_does_not_cover_its_parent(api_client):
    clothing = CategoryFactory(slug="clothing")
    shirts = CategoryFactory(slug="shirts", parent=clothing)
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=VariantFactory(product__category=clothing))
    CouponFactory(code="SHIRTS", categories=[shirts])

    assert refused(apply(api_client, cart, "SHIRTS")) == "coupon_not_applicable"


def test_applying_is_throttled(api_client, cart, settings, throttle_rates):
    # The "coupons" scope (COUPON_THROTTLE_RATE, 20/minute by default) refuses guesses beyond it;
    # counted per hour here, so no minute boundary resets the fixed window mid-test.
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["coupons"].split("/")[0])
    throttle_rates(coupons=f"{allowed}/hour")
    CouponFactory(code="REAL")

    statuses = [apply(api_client, cart, f"GUESS{attempt}").status_code for attempt in range(allowed)]
    blocked = apply(api_client, cart, "REAL")

    assert statuses == [400] * allowed
    assert blocked.status_code == 429
    assert blocked.json()["errors"][0]["code"] == "throttled"
    assert coupon_of(cart) is None


def test_removing_is_not_throttled(api_client, cart):
    statuses = [api_client.delete(COUPON_URL, **token_headers(cart.pk)).status_code for _ in range(25)]

    assert set(statuses) == {200}


# --- a coupon that stops applying after it was accepted ------------------------------------------


def test_cart_explains_a_coupon_that_no_longer_meets_its_minimum(api_client, cart):
    CouponFactory(code="BIG", minimum_subtotal=Decimal("40.00"))
    body = apply(api_client, cart, "BIG").json()
    shirts = next(item for item in body["items"] if item["variant"]["sku"] == "SHIRT")

    body = api_client.delete(f"/api/v1/cart/items/{shirts['id']}/", **token_headers(cart.pk)).json()

    assert body["coupon_code"] == "BIG"
    assert body["coupon_issue"] == "coupon_minimum_not_met"
    assert body["discount_total"] == "0.00"
    assert body["total"] == "10.00"


def test_cart_explains_a_coupon_that_expired_after_it_was_applied(api_client, cart):
    coupon = CouponFactory(code="BRIEF", ends_at=timezone.now() + timedelta(hours=1))
    apply(api_client, cart, "BRIEF")
    Coupon.objects.filter(pk=coupon.pk).update(ends_at=timezone.now() - timedelta(seconds=1))

    body = api_client.get(CART_URL, **token_headers(cart.pk)).json()

    assert body["coupon_issue"] == "coupon_expired"
    assert body["discount_total"] == "0.00"
    assert body["total"] == "50.00"


def test_cart_explains_a_coupon_used_up_by_the_customer_meanwhile(auth_client, user, customer_cart):
    coupon = CouponFactory(code="ONCE", usage_limit_per_customer=1)
    auth_client.post(COUPON_URL, {"code": "ONCE"}, format="json")
    CouponRedemption.objects.create(coupon=coupon, user=user, order_id=uuid.uuid4())

    body = auth_client.get(CART_URL).json()

    assert body["coupon_issue"] == "coupon_usage_limit_reached"
    assert body["discount_total"] == "0.00"
