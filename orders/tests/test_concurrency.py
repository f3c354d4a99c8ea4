"""Checkout under real concurrency, on PostgreSQL (row locks): threads with their own connections."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from conftest import bearer_for
from coupons.models import CouponRedemption
from orders.models import Order
from shop.models import ProductVariant

from .factories import AddressFactory, CartFactory, CartLineFactory, CouponFactory, VariantFactory
from .fixtures import ORDERS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _buyers(django_user_model, count: int, *, variant, coupon=None) -> list[tuple[str, dict]]:
    """`count` customers, each with the variant in their cart: (Authorization header, order body)."""
    buyers = []
    for index in range(count):
        buyer = django_user_model.objects.create_user(email=f"buyer{index}@example.com", password="x-unused-123")
        CartLineFactory(cart=CartFactory(user=buyer, coupon=coupon), variant=variant, quantity=1)
        address = AddressFactory(user=buyer)
        buyers.append((bearer_for(buyer), {"shipping_address_id": str(address.pk)}))
    return buyers


def _race(requests: list[tuple[str, dict, str]]) -> list[tuple[int, dict]]:
    """POST every (auth header, body, idempotency key) at once; each thread closes its connection."""
    start = threading.Barrier(len(requests))

    def send(request):
        header, body, key = request
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        try:
            start.wait()
            response = client.post(ORDERS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def test_fifty_buyers_for_the_last_unit_make_exactly_one_order(django_user_model, shop):
    last_unit = VariantFactory(sku="LAST-1", quantity_on_hand=1)
    buyers = _buyers(django_user_model, 50, variant=last_unit)
    method = str(shop.method.pk)

    results = _race([(header, {**body, "shipping_method_id": method}, "buy") for header, body in buyers])

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 49
    assert {body["errors"][0]["code"] for status, body in results if status == 409} == {"insufficient_stock"}
    assert Order.objects.count() == 1
    last_unit.refresh_from_db()
    assert (last_unit.quantity_on_hand, last_unit.quantity_allocated, last_unit.available_quantity) == (1, 1, 0)

    order = Order.objects.get()
    from orders.services import order_mark_paid, order_ship

    order_mark_paid(order_id=order.pk, amount=order.total, currency="USD", reference="race")
    order_ship(order_id=order.pk, actor=None, carrier="UPS", tracking_number="1")
    last_unit.refresh_from_db()
    assert (last_unit.quantity_on_hand, last_unit.quantity_allocated) == (0, 0)


def test_a_coupon_limited_to_one_use_is_used_once_by_twenty_concurrent_checkouts(django_user_model, shop):
    coupon = CouponFactory(code="ONLYONCE", usage_limit=1)
    buyers = _buyers(django_user_model, 20, variant=shop.shirt, coupon=coupon)
    method = str(shop.method.pk)

    results = _race([(header, {**body, "shipping_method_id": method}, "coupon") for header, body in buyers])

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [400] * 19
    assert {body["errors"][0]["code"] for status, body in results if status == 400} == {"coupon_usage_limit_reached"}
    assert Order.objects.count() == 1
    assert Order.objects.get().coupon_code == "ONLYONCE"
    coupon.refresh_from_db()
    assert coupon.times_used == 1
    assert CouponRedemption.objects.count() == 1
    assert ProductVariant.objects.get(pk=shop.shirt.pk).quantity_allocated == 1  # the refused ones held nothing


def test_the_same_idempotency_key_ten_times_concurrently_places_one_order(user, shop):
    shop.fill_cart(user)
    body = shop.body(user, expected_total="32.45")
    header = bearer_for(user)

    results = _race([(header, body, "same-key")] * 10)

    assert {status for status, _ in results} == {201}
    assert all(response == results[0][1] for _, response in results)
    assert Order.objects.count() == 1
    assert ProductVariant.objects.get(pk=shop.shirt.pk).quantity_allocated == 2


def test_the_same_idempotency_key_ten_times_in_a_row_places_one_order(user, shop):
    shop.fill_cart(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(user))

    responses = [
        client.post(ORDERS_URL, shop.body(user), format="json", HTTP_IDEMPOTENCY_KEY="again") for _ in range(10)
    ]

    assert {response.status_code for response in responses} == {201}
    assert all(response.json() == responses[0].json() for response in responses)
    assert Order.objects.count() == 1
    assert Order.objects.get().total == Decimal("32.45")
