"""Query budgets: the number of queries of a page does not grow with the page size."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from waffle.testutils import override_flag

from shop.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    ProductVariantFactory,
    ReviewFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    parent = CategoryFactory(slug="parent")
    categories = [CategoryFactory(slug=f"leaf-{index}", parent=parent) for index in range(4)]
    for index in range(110):
        product = ProductFactory(slug=f"product-{index}", category=categories[index % 4], variants=2)
        if index % 3:
            ProductImageFactory(product=product)
    return categories


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"category": "parent", "in_stock": "true", "ordering": "price"},
        {"q": "product", "min_price": "1", "max_price": "100", "rating_min": "0", "ordering": "-rating"},
    ],
)
def test_product_list_stays_within_four_queries(
    api_client, auth_client, catalog, django_assert_max_num_queries, params
):
    for page_size in (10, 24, 100):
        for client in (api_client, auth_client):  # an authenticated caller adds the user lookup
            cache.clear()
            with django_assert_max_num_queries(4):
                response = client.get("/api/v1/products/", {**params, "page_size": page_size})
            assert response.status_code == 200
            assert response.json()["count"] == 110
            assert len(response.json()["results"]) == page_size


def test_product_detail_stays_within_six_queries(
    api_client, auth_client, user, django_user_model, django_assert_max_num_queries
):
    deep = CategoryFactory(slug="c", parent=CategoryFactory(slug="b", parent=CategoryFactory(slug="a")))
    product = ProductFactory(slug="big", category=deep, variants=5)
    for _ in range(6):
        ProductImageFactory(product=product)
    for index in range(8):
        ReviewFactory(product=product, user=django_user_model.objects.create_user(email=f"r{index}@example.com"))
    ProductVariantFactory(product=product, price=Decimal("1.00"))

    for client in (api_client, auth_client):
        cache.clear()
        with django_assert_max_num_queries(6):
            response = client.get("/api/v1/products/big/")
        assert response.status_code == 200
        assert len(response.json()["variants"]) == 6
        assert len(response.json()["images"]) == 6
        assert response.json()["rating"]["count"] == 8


def test_facets_related_and_suggest_have_fixed_budgets(api_client, catalog, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert api_client.get("/api/v1/products/facets/", {"category": "parent"}).json()["count"] == 110
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/products/product-1/related/").json()["same_category"]) == 8
    with django_assert_max_num_queries(2):
        assert len(api_client.get("/api/v1/products/suggest/", {"q": "product"}).json()["products"]) == 8


def test_review_list_does_not_grow_with_its_size(api_client, django_user_model, django_assert_max_num_queries):
    product = ProductFactory(slug="reviewed")
    for index in range(30):
        ReviewFactory(product=product, user=django_user_model.objects.create_user(email=f"q{index}@example.com"))

    with override_flag("reviews", active=True), django_assert_max_num_queries(5):
        response = api_client.get("/api/v1/products/reviewed/reviews/", {"page_size": 30})

    assert len(response.json()["results"]) == 30


@pytest.fixture
def page_of_products():
    """A full page of 24 and a few more, with images, in two sub-categories."""
    parent = CategoryFactory(slug="parent")
    leaves = [CategoryFactory(slug=f"leaf-{index}", parent=parent) for index in range(2)]
    for index in range(30):
        product = ProductFactory(slug=f"product-{index}", category=leaves[index % 2], variants=2)
        ProductImageFactory(product=product)


@pytest.mark.parametrize(
    ("path", "params", "cold", "warm"),
    [
        # warm = 1: the availability overlay (in_stock, available_quantity read fresh), nothing else.
        ("/api/v1/products/", {"page_size": 24}, 2, 1),
        ("/api/v1/products/", {"page_size": 24, "q": "product", "category": "parent"}, 2, 1),
        ("/api/v1/products/", {"page_size": 24, "in_stock": "true", "ordering": "price"}, 2, 1),
        ("/api/v1/products/product-1/", {}, 5, 1),
        ("/api/v1/products/product-1/related/", {}, 3, 1),
        ("/api/v1/products/facets/", {"category": "parent"}, 3, 0),
        ("/api/v1/products/suggest/", {"q": "product"}, 2, 0),
        ("/api/v1/categories/", {}, 1, 0),
        ("/api/v1/categories/parent/", {}, 2, 0),
    ],
)
def test_cold_and_warm_pages_have_exact_query_counts(
    api_client, page_of_products, django_assert_num_queries, path, params, cold, warm
):
    cache.clear()
    with django_assert_num_queries(cold):
        first = api_client.get(path, params)
    with django_assert_num_queries(warm):
        second = api_client.get(path, params)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
