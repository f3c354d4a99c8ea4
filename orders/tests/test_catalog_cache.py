"""Checkout, payment, cancel and ship move stock (shop.stock) without invalidating the catalog cache,
and the cached pages show the new availability at once.

Each test first caches the pages in a real local-memory cache and renames a product behind the
services' back: while the old name shows, the page still comes from the cache. Availability
(`in_stock`, `available_quantity`) is overlaid from one fresh query on every read.
"""

import uuid

import pytest
from django.test import override_settings

from payment.services import payment_create
from shop.models import Product, ProductVariant

from .fixtures import ORDERS_URL, new_key, order_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def locmem_cache():
    config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"orders-{uuid.uuid4()}"}
    with override_settings(CACHES={"default": config}):
        from django.core.cache import caches

        assert type(caches["default"]).__name__ == "LocMemCache"
        yield
        caches["default"].clear()


def _shirt_page(client, shop) -> tuple[str, int]:
    body = client.get(f"/api/v1/products/{shop.shirt.product.slug}/").json()
    return body["name"], body["variants"][0]["available_quantity"]


def _list_page(client) -> dict[str, tuple[str, bool]]:
    results = client.get("/api/v1/products/").json()["results"]
    return {item["slug"]: (item["name"], item["in_stock"]) for item in results}


def _rename_behind_the_services_back(shop) -> None:
    Product.objects.filter(pk=shop.shirt.product_id).update(name="Renamed behind the services' back")
    Product.objects.filter(pk=shop.socks.product_id).update(name="Renamed behind the services' back")


def test_checkout_and_cancel_keep_the_cached_list_and_show_availability_at_once(
    locmem_cache, api_client, auth_client, user, shop, django_assert_num_queries
):
    shirt, socks = shop.shirt.product.slug, shop.socks.product.slug
    assert _list_page(api_client) == {shirt: ("Linen shirt", True), socks: ("Wool socks", True)}
    assert _shirt_page(api_client, shop) == ("Linen shirt", 10)
    _rename_behind_the_services_back(shop)
    shop.fill_cart(user, items=[(shop.shirt, 2), (shop.socks, 7)])  # the socks sell out

    placed = auth_client.post(ORDERS_URL, shop.body(user), format="json", HTTP_IDEMPOTENCY_KEY=new_key())

    assert placed.status_code == 201, placed.json()
    with django_assert_num_queries(1):  # a cache hit: only the availability overlay runs
        page = _list_page(api_client)
    assert page == {shirt: ("Linen shirt", True), socks: ("Wool socks", False)}
    with django_assert_num_queries(1):
        assert _shirt_page(api_client, shop) == ("Linen shirt", 8)

    cancelled = auth_client.post(order_url(placed.json()["id"], "cancel/"), format="json")

    assert cancelled.json()["status"] == "cancelled"
    assert _list_page(api_client) == {shirt: ("Linen shirt", True), socks: ("Wool socks", True)}
    assert _shirt_page(api_client, shop) == ("Linen shirt", 10)


def test_payment_and_shipping_keep_the_cached_page_and_show_availability_at_once(
    locmem_cache, api_client, staff_client, user, shop
):
    assert _shirt_page(api_client, shop) == ("Linen shirt", 10)
    _rename_behind_the_services_back(shop)
    order = shop.place(user)
    payment_create(user=user, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "paid"
    assert _shirt_page(api_client, shop) == ("Linen shirt", 8)

    shipped = staff_client.post(order_url(order.pk, "ship/"), {"carrier": "UPS", "tracking_number": "1"}, format="json")

    assert shipped.json()["status"] == "shipped"
    assert _shirt_page(api_client, shop) == ("Linen shirt", 8)  # on hand 8, nothing held
    assert ProductVariant.objects.get(pk=shop.shirt.pk).quantity_allocated == 0
