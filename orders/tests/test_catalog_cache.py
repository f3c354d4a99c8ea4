"""Checkout, cancel and ship move stock (shop.stock), and the cached product page shows it at once.

Each test first proves the page is served from a real local-memory cache (a change made behind the
services' back stays invisible), then moves stock through the orders API and expects the new
`available_quantity` on the very next read.
"""

import uuid

import pytest
from django.db.models import F
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


def test_checkout_and_cancel_show_on_the_cached_product_page_at_once(locmem_cache, api_client, auth_client, user, shop):
    assert _shirt_page(api_client, shop) == ("Linen shirt", 10)
    Product.objects.filter(pk=shop.shirt.product_id).update(name="Renamed behind the services' back")
    assert _shirt_page(api_client, shop) == ("Linen shirt", 10)
    shop.fill_cart(user)

    placed = auth_client.post(ORDERS_URL, shop.body(user), format="json", HTTP_IDEMPOTENCY_KEY=new_key())

    assert placed.status_code == 201, placed.json()
    assert _shirt_page(api_client, shop) == ("Renamed behind the services' back", 8)

    cancelled = auth_client.post(order_url(placed.json()["id"], "cancel/"), format="json")

    assert cancelled.json()["status"] == "cancelled"
    assert _shirt_page(api_client, shop) == ("Renamed behind the services' back", 10)


def test_shipping_shows_on_the_cached_product_page_at_once(locmem_cache, api_client, staff_client, user, shop):
    order = shop.place(user)
    payment_create(user=user, order_id=order.pk)
    assert _shirt_page(api_client, shop) == ("Linen shirt", 8)
    # Goods received behind the services' back: on hand 15, held 2; the cached page still says 8.
    ProductVariant.objects.filter(pk=shop.shirt.pk).update(quantity_on_hand=F("quantity_on_hand") + 5)
    assert _shirt_page(api_client, shop) == ("Linen shirt", 8)

    shipped = staff_client.post(order_url(order.pk, "ship/"), {"carrier": "UPS", "tracking_number": "1"}, format="json")

    assert shipped.json()["status"] == "shipped"
    assert _shirt_page(api_client, shop) == ("Linen shirt", 13)
