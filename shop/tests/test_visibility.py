"""One visibility rule: a product is shown (and sold) only when it, its category and every ancestor
category are active. Cart and checkout have their own tests of the same rule."""

import uuid

import pytest
from waffle.testutils import override_flag

from shop import selectors
from shop.models import Review, WishlistItem
from shop.services import category_update, product_purchases_record
from shop.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


@pytest.fixture
def hidden_branch():
    """Clothing (inactive) > Shirts (active) > Linen shirt (active): hidden by its grandparent."""
    clothing = CategoryFactory(name="Clothing", slug="clothing", is_active=False)
    shirts = CategoryFactory(name="Shirts", slug="shirts", parent=clothing)
    product = ProductFactory(name="Linen shirt", slug="linen-shirt", category=shirts)
    return clothing, shirts, product


def test_the_rule_follows_every_ancestor(hidden_branch):
    clothing, shirts, product = hidden_branch
    visible_elsewhere = ProductFactory(slug="socks")

    assert list(selectors.product_visible_queryset()) == [visible_elsewhere]
    category_update(category=clothing, is_active=True)
    assert set(selectors.product_visible_queryset()) == {product, visible_elsewhere}
    category_update(category=shirts, is_active=False)
    assert list(selectors.product_visible_queryset()) == [visible_elsewhere]


def test_browsing_hides_products_under_an_inactive_ancestor(api_client, staff_client, hidden_branch):
    ProductFactory(slug="socks", name="Wool socks")

    listed = api_client.get(PRODUCTS).json()
    searched = api_client.get(PRODUCTS, {"q": "linen"}).json()
    facets = api_client.get(f"{PRODUCTS}facets/").json()
    suggested = api_client.get(f"{PRODUCTS}suggest/", {"q": "shirt"}).json()

    assert [item["slug"] for item in listed["results"]] == ["socks"]
    assert searched["count"] == 0
    assert facets["count"] == 1
    assert suggested == {"products": [], "categories": []}
    assert api_client.get(f"{PRODUCTS}linen-shirt/").status_code == 404
    assert api_client.get(f"{PRODUCTS}linen-shirt/related/").status_code == 404
    assert api_client.get(f"{PRODUCTS}linen-shirt/images/").status_code == 404
    assert staff_client.get(f"{PRODUCTS}linen-shirt/").status_code == 200  # staff still manage it


def test_a_hidden_product_cannot_be_reviewed(auth_client, user, hidden_branch):
    *_, product = hidden_branch
    product_purchases_record(user=user, order_id=uuid.uuid4(), product_ids=[product.pk])

    with override_flag("reviews", active=True):
        response = auth_client.post(f"{PRODUCTS}linen-shirt/reviews/", {"rating": 5}, format="json")
        listed = auth_client.get(f"{PRODUCTS}linen-shirt/reviews/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "product_not_found"
    assert listed.status_code == 404
    assert Review.objects.count() == 0


def test_a_hidden_product_cannot_be_wishlisted_and_leaves_the_wishlist(auth_client, user, hidden_branch):
    clothing, _, product = hidden_branch

    refused = auth_client.post("/api/v1/wishlist/", {"product_slug": "linen-shirt"}, format="json")
    assert refused.status_code == 404
    assert WishlistItem.objects.count() == 0

    category_update(category=clothing, is_active=True)
    assert auth_client.post("/api/v1/wishlist/", {"product_slug": "linen-shirt"}, format="json").status_code == 201
    category_update(category=clothing, is_active=False)
    assert auth_client.get("/api/v1/wishlist/").json()["count"] == 0
