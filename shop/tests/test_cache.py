"""Catalog pages are cached, and every write path makes the change visible on the next read.

Each test first proves the page is served from the cache (a change made behind the services' back
stays invisible), then makes a change through a real write path and expects it at once. They run
against a real local-memory cache and, when REDIS_URL is set, a real Redis.
"""

import os
import time
import uuid
from decimal import Decimal

import pytest
from django.test import override_settings
from waffle.testutils import override_flag

from shop import services, stock
from shop.cache import VERSION_KEY, catalog_cache_invalidate, catalog_version
from shop.models import Category, Product, ProductVariant
from shop.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _locmem():
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"shop-{uuid.uuid4()}"}


def _redis():
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", ""),
        "KEY_PREFIX": f"shop-test-{uuid.uuid4()}",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }


@pytest.fixture(params=[pytest.param("locmem"), pytest.param("redis", marks=pytest.mark.redis)])
def real_cache(request):
    config = _locmem() if request.param == "locmem" else _redis()
    with override_settings(CACHES={"default": config}):
        from django.core.cache import cache, caches

        expected = "LocMemCache" if request.param == "locmem" else "RedisCache"
        assert type(caches["default"]).__name__ == expected
        yield cache
        if request.param == "redis":
            cache.delete_pattern("*")
        else:
            cache.clear()


@pytest.fixture
def hoodie():
    category = CategoryFactory(name="Hoodies", slug="hoodies")
    return ProductFactory(
        slug="hoodie",
        name="Hoodie",
        category=category,
        variants__sku="HOOD-1",
        variants__price=Decimal("40.00"),
        variants__quantity_on_hand=1,
    )


def list_names(client):
    return [item["name"] for item in client.get("/api/v1/products/").json()["results"]]


def test_the_cache_is_really_used(real_cache, api_client, hoodie):
    assert list_names(api_client) == ["Hoodie"]
    Product.objects.filter(pk=hoodie.pk).update(name="Changed behind the services' back")

    assert list_names(api_client) == ["Hoodie"]
    assert api_client.get("/api/v1/products/hoodie/").json()["name"] == "Changed behind the services' back"
    assert api_client.get("/api/v1/products/hoodie/").json()["name"] == "Changed behind the services' back"
    assert real_cache.get(VERSION_KEY) == catalog_version()


def test_staff_api_edit_is_visible_at_once(real_cache, api_client, staff_client, hoodie):
    assert list_names(api_client) == ["Hoodie"]
    assert api_client.get("/api/v1/products/hoodie/").json()["name"] == "Hoodie"
    facets_before = api_client.get("/api/v1/products/facets/").json()

    staff_client.patch("/api/v1/products/hoodie/", {"name": "Zip Hoodie"}, format="json")
    staff_client.patch("/api/v1/products/hoodie/variants/HOOD-1/", {"price": "30.00"}, format="json")

    assert list_names(api_client) == ["Zip Hoodie"]
    detail = api_client.get("/api/v1/products/hoodie/").json()
    assert (detail["name"], detail["price"]) == ("Zip Hoodie", "30.00")
    assert facets_before["price"] == {"min": "40.00", "max": "40.00"}
    assert api_client.get("/api/v1/products/facets/").json()["price"] == {"min": "30.00", "max": "30.00"}


def test_stock_moves_keep_every_page_cached_and_show_fresh_availability(
    real_cache, api_client, staff_client, hoodie, django_assert_num_queries
):
    variant = hoodie.variants.get()
    version = catalog_version()
    assert list_names(api_client) == ["Hoodie"]
    assert api_client.get("/api/v1/products/hoodie/").json()["variants"][0]["available_quantity"] == 1
    # Renamed behind the services' back: while the name stays old, the page comes from the cache.
    Product.objects.filter(pk=hoodie.pk).update(name="Changed behind the services' back")

    stock.stock_allocate(quantities={variant.pk: 1}, variants={variant.pk: variant})

    with django_assert_num_queries(1):  # the availability overlay, nothing else
        item = api_client.get("/api/v1/products/").json()["results"][0]
    assert (item["name"], item["in_stock"]) == ("Hoodie", False)
    with django_assert_num_queries(1):
        detail = api_client.get("/api/v1/products/hoodie/").json()
    assert (detail["name"], detail["in_stock"]) == ("Hoodie", False)
    assert (detail["variants"][0]["in_stock"], detail["variants"][0]["available_quantity"]) == (False, 0)

    stock.stock_release(quantities={variant.pk: 1})
    assert api_client.get("/api/v1/products/").json()["results"][0]["in_stock"] is True
    stock.stock_allocate(quantities={variant.pk: 1}, variants={variant.pk: variant})
    staff_client.post("/api/v1/products/hoodie/variants/HOOD-1/stock/", {"delta": 4, "reason": "received"})
    assert api_client.get("/api/v1/products/hoodie/").json()["variants"][0]["available_quantity"] == 4
    stock.stock_ship(quantities={variant.pk: 1})
    services.stock_set(variant=variant, quantity_on_hand=2, reason="recount")

    detail = api_client.get("/api/v1/products/hoodie/").json()
    assert (detail["name"], detail["variants"][0]["available_quantity"]) == ("Hoodie", 2)
    assert list_names(api_client) == ["Hoodie"]
    assert catalog_version() == version


def test_a_sold_out_product_is_never_purchasable_on_a_cached_page(real_cache, api_client, hoodie):
    variant = hoodie.variants.get()
    sibling = ProductFactory(slug="sweater", category=hoodie.category, variants__quantity_on_hand=3)
    assert api_client.get("/api/v1/products/").json()["count"] == 2
    assert api_client.get("/api/v1/products/", {"in_stock": "true"}).json()["count"] == 2
    assert api_client.get("/api/v1/products/hoodie/").json()["in_stock"] is True
    related = api_client.get("/api/v1/products/sweater/related/").json()["same_category"]
    assert [(item["slug"], item["in_stock"]) for item in related] == [("hoodie", True)]

    services.stock_set(variant=variant, quantity_on_hand=0, reason="damaged")

    in_stock = {item["slug"]: item["in_stock"] for item in api_client.get("/api/v1/products/").json()["results"]}
    assert in_stock == {"hoodie": False, "sweater": True}
    filtered = api_client.get("/api/v1/products/", {"in_stock": "true"}).json()
    # Still listed (membership may lag STOCK_CACHE_SECONDS), but never shown as purchasable.
    assert {item["slug"]: item["in_stock"] for item in filtered["results"]} == {"hoodie": False, "sweater": True}
    detail = api_client.get("/api/v1/products/hoodie/").json()
    assert (detail["in_stock"], detail["variants"][0]["in_stock"]) == (False, False)
    related = api_client.get("/api/v1/products/sweater/related/").json()["same_category"]
    assert [(item["slug"], item["in_stock"]) for item in related] == [("hoodie", False)]
    assert sibling.variants.get().in_stock


def test_stock_dependent_pages_lag_at_most_stock_cache_seconds(real_cache, api_client, hoodie):
    variant = hoodie.variants.get()
    with override_settings(STOCK_CACHE_SECONDS=1):
        assert api_client.get("/api/v1/products/", {"in_stock": "true"}).json()["count"] == 1
        assert api_client.get("/api/v1/products/facets/").json()["in_stock"] == 1
        assert api_client.get("/api/v1/products/", {"in_stock": "false"}).json()["count"] == 0

        stock.stock_allocate(quantities={variant.pk: 1}, variants={variant.pk: variant})

        # Within the bound the counts may be stale...
        assert api_client.get("/api/v1/products/facets/").json()["in_stock"] == 1
        time.sleep(1.2)
        # ...and past it they are not.
        assert api_client.get("/api/v1/products/", {"in_stock": "true"}).json()["count"] == 0
        assert api_client.get("/api/v1/products/facets/").json()["in_stock"] == 0
        assert api_client.get("/api/v1/products/", {"in_stock": "false"}).json()["count"] == 1


def test_a_paid_order_refreshes_bought_together_only(real_cache, api_client, user, hoodie):
    sweater = ProductFactory(slug="sweater", name="Sweater")
    version = catalog_version()
    assert list_names(api_client) == ["Sweater", "Hoodie"]
    assert api_client.get("/api/v1/products/hoodie/related/").json()["bought_together"] == []
    Product.objects.filter(pk=hoodie.pk).update(name="Changed behind the services' back")

    services.product_purchases_record(user=user, order_id=uuid.uuid4(), product_ids=[hoodie.pk, sweater.pk])

    together = api_client.get("/api/v1/products/hoodie/related/").json()["bought_together"]
    assert [(item["slug"], item["times_bought_together"]) for item in together] == [("sweater", 1)]
    assert list_names(api_client) == ["Sweater", "Hoodie"]  # the list was not invalidated
    assert catalog_version() == version


def test_reviews_are_visible_at_once(real_cache, api_client, auth_client, user, hoodie):
    services.product_purchases_record(user=user, order_id=uuid.uuid4(), product_ids=[hoodie.pk])
    assert api_client.get("/api/v1/products/").json()["results"][0]["rating_count"] == 0
    assert api_client.get("/api/v1/products/hoodie/").json()["rating"]["count"] == 0

    with override_flag("reviews", active=True):
        auth_client.post("/api/v1/products/hoodie/reviews/", {"rating": 4}, format="json")

    item = api_client.get("/api/v1/products/").json()["results"][0]
    assert (item["rating_average"], item["rating_count"]) == ("4.00", 1)
    assert api_client.get("/api/v1/products/hoodie/").json()["rating"]["distribution"]["4"] == 1


def test_category_changes_are_visible_at_once(real_cache, api_client, staff_client, hoodie):
    assert [node["name"] for node in api_client.get("/api/v1/categories/").json()] == ["Hoodies"]
    assert api_client.get("/api/v1/categories/hoodies/").json()["name"] == "Hoodies"

    staff_client.patch("/api/v1/categories/hoodies/", {"name": "Sweats"}, format="json")

    assert [node["name"] for node in api_client.get("/api/v1/categories/").json()] == ["Sweats"]
    assert api_client.get("/api/v1/categories/hoodies/").json()["name"] == "Sweats"
    assert api_client.get("/api/v1/products/").json()["results"][0]["category"]["name"] == "Sweats"


def test_admin_edits_are_visible_at_once(real_cache, api_client, staff_user, client, hoodie):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    variant = hoodie.variants.get()
    assert list_names(api_client) == ["Hoodie"]
    assert api_client.get("/api/v1/products/hoodie/").json()["price"] == "40.00"

    response = client.post(
        f"/admin/shop/product/{hoodie.pk}/change/",
        {
            "name": "Admin Hoodie",
            "slug": "hoodie",
            "description": "",
            "category": hoodie.category_id,
            "brand": "Acme",
            "attributes": "{}",
            "is_active": "on",
            "seo_title": "",
            "seo_description": "",
            "variants-TOTAL_FORMS": "1",
            "variants-INITIAL_FORMS": "1",
            "variants-MIN_NUM_FORMS": "1",
            "variants-MAX_NUM_FORMS": "1000",
            "variants-0-id": variant.pk,
            "variants-0-product": hoodie.pk,
            "variants-0-sku": "HOOD-1",
            "variants-0-name": "Default",
            "variants-0-options": "{}",
            "variants-0-price": "35.00",
            "variants-0-currency": "USD",
            "variants-0-weight": "0",
            "variants-0-quantity_on_hand": "1",
            "variants-0-is_active": "on",
            "variants-0-sort_order": "0",
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
            "images-MIN_NUM_FORMS": "0",
            "images-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list_names(api_client) == ["Admin Hoodie"]
    assert api_client.get("/api/v1/products/hoodie/").json()["price"] == "35.00"
    assert Product.objects.get(pk=hoodie.pk).lowest_price == Decimal("35.00")


def test_admin_category_edit_and_review_moderation_invalidate(real_cache, api_client, staff_user, client, user, hoodie):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    services.product_purchases_record(user=user, order_id=uuid.uuid4(), product_ids=[hoodie.pk])
    created = services.review_create(user=user, product=hoodie, rating=2)
    assert api_client.get("/api/v1/products/").json()["results"][0]["rating_count"] == 1
    category = Category.objects.get(slug="hoodies")
    assert api_client.get("/api/v1/categories/").json()[0]["name"] == "Hoodies"

    client.post(
        "/admin/shop/review/",
        {"action": "hide_reviews", "_selected_action": [created.pk]},
    )
    client.post(
        f"/admin/shop/category/{category.pk}/change/",
        {"name": "Renamed", "slug": "hoodies", "description": "", "is_active": "on", "sort_order": "0"},
    )

    assert api_client.get("/api/v1/products/").json()["results"][0]["rating_count"] == 0
    assert api_client.get("/api/v1/categories/").json()[0]["name"] == "Renamed"


def test_the_version_survives_a_lost_counter(real_cache):
    first = catalog_version()
    real_cache.delete(VERSION_KEY)

    catalog_cache_invalidate()

    assert catalog_version() != first


def test_variant_save_never_writes_back_a_stale_allocation(hoodie):
    stale = ProductVariant.objects.get(product=hoodie)
    ProductVariant.objects.filter(pk=stale.pk).update(quantity_allocated=1)

    stale.name = "Renamed"
    stale.save()

    fresh = ProductVariant.objects.get(pk=stale.pk)
    assert (fresh.name, fresh.quantity_allocated) == ("Renamed", 1)


def test_a_zero_cache_timeout_turns_the_catalog_cache_off(real_cache, settings, api_client):
    """SHOP_CACHE_TIMEOUT=0 (the benchmark's cold pages, or an operator switching it off) reads the
    database every time, even where another process cached the page with a longer timeout."""
    ProductFactory(name="Lamp")
    assert api_client.get("/api/v1/products/").status_code == 200  # cached with the default timeout
    Product.objects.update(name="Renamed behind the services' back")

    settings.SHOP_CACHE_TIMEOUT = 0
    body = api_client.get("/api/v1/products/").json()

    assert [item["name"] for item in body["results"]] == ["Renamed behind the services' back"]
