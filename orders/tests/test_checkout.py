"""POST orders/: the cart becomes an order in pending_payment, all or nothing."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cart.models import Cart, CartLine
from core.models import IdempotencyKey
from coupons.models import CouponRedemption
from orders.models import Order, OrderEvent, OrderLine
from orders.services import order_place
from shop.models import ProductVariant

from .factories import AddressFactory, CouponFactory, ShippingMethodFactory, VariantFactory
from .fixtures import ORDERS_URL, new_key

pytestmark = pytest.mark.django_db

ADDRESS = {
    "first_name": "Cam",
    "last_name": "Buyer",
    "company": "",
    "line1": "1 Market Street",
    "line2": "",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
    "phone": "+14155550123",
}


def _stock(variant) -> tuple[int, int]:
    variant.refresh_from_db()
    return variant.quantity_on_hand, variant.quantity_allocated


def _post(client, body, key=None):
    return client.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key or new_key())


def test_place_order_snapshots_the_cart_and_holds_stock(auth_client, user, shop, settings):
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 45
    shop.fill_cart(user)
    before = timezone.now()

    response = _post(auth_client, shop.body(user, expected_total="32.45"))

    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    assert body["id"] == str(order.pk)
    assert re.fullmatch(r"\d{6}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", body["number"])
    assert body["status"] == "pending_payment"
    assert (body["subtotal"], body["discount_total"], body["shipping_total"], body["tax_total"], body["total"]) == (
        "24.50",
        "0.00",
        "5.00",
        "2.95",
        "32.45",
    )
    assert body["currency"] == "USD"
    assert body["coupon_code"] == ""
    assert [
        (line["product_name"], line["sku"], line["unit_price"], line["quantity"], line["line_total"])
        for line in body["lines"]
    ] == [("Linen shirt", "SHIRT-M", "10.00", 2, "20.00"), ("Wool socks", "SOCKS-1", "4.50", 1, "4.50")]
    assert body["shipping_address"] == ADDRESS
    assert body["billing_address"] == ADDRESS
    assert body["shipping_method"] == {
        "id": str(shop.method.pk),
        "name": "Standard",
        "description": "Ground shipping",
        "min_delivery_days": 2,
        "max_delivery_days": 5,
        "price": "5.00",
        "currency": "USD",
    }
    due = order.payment_due_by
    assert before + timedelta(minutes=45) <= due <= timezone.now() + timedelta(minutes=45)
    assert _stock(shop.shirt) == (10, 2)
    assert _stock(shop.socks) == (7, 1)
    assert CartLine.objects.filter(cart__user=user).count() == 0
    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.from_status, event.to_status, event.actor, event.actor_role) == (
        "placed",
        "",
        "pending_payment",
        user,
        "customer",
    )


def test_snapshots_do_not_follow_later_catalog_changes(auth_client, user, shop):
    shop.fill_cart(user)
    order_id = _post(auth_client, shop.body(user)).json()["id"]

    ProductVariant.objects.filter(pk=shop.shirt.pk).update(price=Decimal("99.00"), sku="RENAMED")
    shop.shirt.product.name = "Renamed shirt"
    shop.shirt.product.save()
    shop.method.flat_price = Decimal("50.00")
    shop.method.save()
    shop.address_of(user).delete()

    body = auth_client.get(f"{ORDERS_URL}{order_id}/").json()
    assert body["lines"][0]["product_name"] == "Linen shirt"
    assert body["lines"][0]["sku"] == "SHIRT-M"
    assert body["lines"][0]["unit_price"] == "10.00"
    assert body["shipping_method"]["price"] == "5.00"
    assert body["shipping_address"]["line1"] == "1 Market Street"
    assert body["total"] == "32.45"


def test_inline_shipping_address_and_separate_billing_address(auth_client, user, shop):
    shop.fill_cart(user)
    billing = AddressFactory(user=user, line1="9 Billing Road", city="Oakland")
    typed = {**ADDRESS, "line1": "500 Typed Avenue", "country": "us"}

    response = _post(
        auth_client,
        {"shipping_address": typed, "billing_address_id": str(billing.pk), "shipping_method_id": str(shop.method.pk)},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["shipping_address"] == {**ADDRESS, "line1": "500 Typed Avenue", "country": "US"}
    assert response.json()["billing_address"]["line1"] == "9 Billing Road"


def test_coupon_is_counted_and_priced(auth_client, user, shop):
    coupon = CouponFactory(code="TENOFF", value=Decimal("10"), usage_limit=5)
    shop.fill_cart(user, coupon=coupon)

    response = _post(auth_client, shop.body(user, expected_total="29.76"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["discount_total"], body["tax_total"], body["total"], body["coupon_code"]) == (
        "2.45",
        "2.71",
        "29.76",
        "TENOFF",
    )
    coupon.refresh_from_db()
    assert coupon.times_used == 1
    assert CouponRedemption.objects.get().order_id == Order.objects.get().pk
    assert Cart.objects.get(user=user).coupon is None


def _assert_nothing_written(shop, user, *, cart_lines: int, stock=((10, 0), (7, 0))):
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert _stock(shop.shirt) == stock[0]
    assert _stock(shop.socks) == stock[1]
    assert CartLine.objects.filter(cart__user=user).count() == cart_lines


def test_expected_total_mismatch_is_409_with_the_server_total(auth_client, user, shop):
    shop.fill_cart(user)

    response = _post(auth_client, shop.body(user, expected_total="30.00"))

    assert response.status_code == 409
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "total_mismatch",
                "detail": "The order total changed since you last saw it; review the cart and try again.",
                "attr": "expected_total",
                "total": "32.45",
                "currency": "USD",
            }
        ],
    }
    _assert_nothing_written(shop, user, cart_lines=2)


def test_insufficient_stock_is_409_and_writes_nothing(auth_client, user, shop):
    ProductVariant.objects.filter(pk=shop.socks.pk).update(quantity_on_hand=3, quantity_allocated=3)
    shop.fill_cart(user)

    response = _post(auth_client, shop.body(user))

    assert response.status_code == 409
    assert response.json()["errors"] == [
        {
            "code": "insufficient_stock",
            "detail": "Only 0 available.",
            "attr": None,
            "variant_id": shop.socks.pk,
            "available_quantity": 0,
            "requested": 1,
        }
    ]
    _assert_nothing_written(shop, user, cart_lines=2, stock=((10, 0), (3, 3)))


def test_unpublished_product_counts_as_out_of_stock(auth_client, user, shop):
    shop.socks.product.is_active = False
    shop.socks.product.save()
    shop.fill_cart(user)

    response = _post(auth_client, shop.body(user))

    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["variant_id"], error["available_quantity"], error["requested"]) == (
        "insufficient_stock",
        shop.socks.pk,
        0,
        1,
    )
    _assert_nothing_written(shop, user, cart_lines=2)


def test_coupon_used_up_fails_after_stock_was_held_and_rolls_everything_back(auth_client, user, shop):
    coupon = CouponFactory(usage_limit=1)
    coupon.times_used = 1
    coupon.save()
    shop.fill_cart(user, coupon=coupon)

    response = _post(auth_client, shop.body(user))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "coupon_usage_limit_reached"
    _assert_nothing_written(shop, user, cart_lines=2)
    coupon.refresh_from_db()
    assert coupon.times_used == 1
    assert CouponRedemption.objects.count() == 0


def test_coupon_minimum_not_met_is_refused(auth_client, user, shop):
    shop.fill_cart(user, coupon=CouponFactory(minimum_subtotal=Decimal("100.00")))

    response = _post(auth_client, shop.body(user))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "coupon_minimum_not_met"
    _assert_nothing_written(shop, user, cart_lines=2)


def test_someone_elses_address_is_refused(auth_client, user, other_user, shop):
    shop.fill_cart(user)
    theirs = AddressFactory(user=other_user)

    response = _post(auth_client, shop.body(user, shipping_address_id=str(theirs.pk)))

    assert response.status_code == 400
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "address_not_found",
        "detail": "",
        "attr": "shipping_address_id",
    }
    _assert_nothing_written(shop, user, cart_lines=2)


def test_shipping_method_that_does_not_serve_the_country_is_refused(auth_client, user, shop):
    shop.fill_cart(user)
    germany_only = ShippingMethodFactory(zone__countries=["DE"])

    response = _post(auth_client, shop.body(user, shipping_method_id=str(germany_only.pk)))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "shipping_method_unavailable"
    _assert_nothing_written(shop, user, cart_lines=2)


def test_empty_cart_is_refused(auth_client, user, shop):
    response = _post(auth_client, shop.body(user))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "cart_empty"
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "body_change,attr",
    [
        ({"shipping_address_id": None}, "shipping_address_id"),
        ({"shipping_address": ADDRESS}, "shipping_address_id"),
        ({"shipping_method_id": "not-a-uuid"}, "shipping_method_id"),
        ({"expected_total": "-1.00"}, "expected_total"),
    ],
)
def test_invalid_bodies_are_400(auth_client, user, shop, body_change, attr):
    shop.fill_cart(user)
    body = {**shop.body(user), **body_change}
    body = {name: value for name, value in body.items() if value is not None}

    response = _post(auth_client, body)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"][0]["attr"] == attr
    _assert_nothing_written(shop, user, cart_lines=2)


def test_idempotency_key_is_required(auth_client, user, shop):
    shop.fill_cart(user)

    response = auth_client.post(ORDERS_URL, shop.body(user), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "idempotency_key_missing"
    _assert_nothing_written(shop, user, cart_lines=2)


def test_same_key_replays_the_order_and_another_body_is_422(auth_client, user, shop):
    shop.fill_cart(user)
    body = shop.body(user)

    first = _post(auth_client, body, key="checkout-1")
    shop.fill_cart(user)  # even with a new cart, the replay must not place a second order
    second = _post(auth_client, body, key="checkout-1")
    third = _post(auth_client, {**body, "expected_total": "1.00"}, key="checkout-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert third.status_code == 422
    assert third.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_a_refusal_is_replayed_for_the_same_key(auth_client, user, shop):
    shop.fill_cart(user)
    body = shop.body(user, expected_total="1.00")

    first = _post(auth_client, body, key="mismatch")
    second = _post(auth_client, body, key="mismatch")

    assert first.status_code == second.status_code == 409
    assert first.json() == second.json()
    assert IdempotencyKey.objects.get(key="mismatch").response_status == 409


def test_anonymous_cannot_place_orders(api_client, shop):
    response = api_client.post(ORDERS_URL, {}, format="json", HTTP_IDEMPOTENCY_KEY="anon")

    assert response.status_code == 401


def _cart_of(user, shop, lines: int):
    variants = [VariantFactory(price=Decimal("3.00")) for _ in range(lines)]
    shop.fill_cart(user, [(variant, 1) for variant in variants])


@pytest.mark.parametrize("with_coupon", [False, True])
def test_placing_an_order_costs_the_same_queries_for_1_and_20_lines(user, shop, with_coupon):
    """Our budget is 25 queries whatever the size of the cart, savepoints included (24 with a
    coupon limited per customer, 16 without)."""
    address_id = shop.address_of(user).pk
    counts = []
    for size in (1, 20):
        _cart_of(user, shop, size)
        if with_coupon:
            Cart.objects.filter(user=user).update(coupon=CouponFactory(usage_limit=10, usage_limit_per_customer=2))
        with CaptureQueriesContext(connection) as queries:
            order = order_place(user=user, shipping_address_id=address_id, shipping_method_id=shop.method.pk)
        assert order.lines.count() == size
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert counts[0] <= 25, counts


def test_the_checkout_request_also_costs_the_same_for_1_and_20_lines(auth_client, user, shop):
    """The whole request: authentication, the idempotency claim, checkout and the answer."""
    body = shop.body(user)
    counts = []
    for size in (1, 20):
        _cart_of(user, shop, size)
        with CaptureQueriesContext(connection) as queries:
            assert _post(auth_client, body).status_code == 201
        counts.append(len(queries))

    assert counts[0] == counts[1]
