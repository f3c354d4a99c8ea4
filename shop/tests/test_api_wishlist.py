import pytest

from shop.models import WishlistItem
from shop.tests.factories import ProductFactory, WishlistItemFactory

pytestmark = pytest.mark.django_db

WISHLIST = "/api/v1/wishlist/"


def test_add_list_and_remove(auth_client, user):
    ProductFactory(slug="hoodie", name="Hoodie")
    ProductFactory(slug="boots", name="Boots")

    first = auth_client.post(WISHLIST, {"product_slug": "hoodie"}, format="json")
    again = auth_client.post(WISHLIST, {"product_slug": "hoodie"}, format="json")
    auth_client.post(WISHLIST, {"product_slug": "boots"}, format="json")

    assert first.status_code == 201
    assert first.json()["slug"] == "hoodie" and first.json()["added_at"]
    assert again.status_code == 200
    assert WishlistItem.objects.filter(user=user).count() == 2
    listing = auth_client.get(WISHLIST).json()
    assert listing["count"] == 2
    assert [item["slug"] for item in listing["results"]] == ["boots", "hoodie"]
    assert set(listing["results"][0]) >= {"price", "in_stock", "image", "category", "added_at"}

    assert auth_client.delete(f"{WISHLIST}hoodie/").status_code == 204
    assert [item["slug"] for item in auth_client.get(WISHLIST).json()["results"]] == ["boots"]


def test_wishlists_are_owner_scoped(auth_client, other_client, other_user):
    WishlistItemFactory(user=other_user, product=ProductFactory(slug="theirs"))

    assert auth_client.get(WISHLIST).json()["count"] == 0
    assert auth_client.delete(f"{WISHLIST}theirs/").status_code == 404
    assert WishlistItem.objects.filter(user=other_user).count() == 1
    assert other_client.get(WISHLIST).json()["count"] == 1


def test_unknown_or_inactive_products_cannot_be_added(auth_client):
    ProductFactory(slug="off", is_active=False)

    missing = auth_client.post(WISHLIST, {"product_slug": "nope"}, format="json")
    inactive = auth_client.post(WISHLIST, {"product_slug": "off"}, format="json")

    assert missing.status_code == 404
    assert missing.json()["errors"] == [
        {"code": "product_not_found", "detail": "No such product.", "attr": "product_slug"}
    ]
    assert inactive.status_code == 404
    assert WishlistItem.objects.count() == 0


def test_products_switched_off_later_drop_out_of_the_list(auth_client, user):
    product = ProductFactory(slug="soon-off")
    WishlistItemFactory(user=user, product=product)
    product.is_active = False
    product.save()

    assert auth_client.get(WISHLIST).json()["count"] == 0


def test_anonymous_gets_401(api_client):
    assert api_client.get(WISHLIST).status_code == 401
    assert api_client.post(WISHLIST, {"product_slug": "x"}, format="json").status_code == 401


def test_wishlist_query_count_does_not_grow(auth_client, user, django_assert_max_num_queries):
    for index in range(3):
        WishlistItemFactory(user=user, product=ProductFactory(slug=f"few-{index}"))
    with django_assert_max_num_queries(3):
        assert auth_client.get(WISHLIST).json()["count"] == 3
    for index in range(30):
        WishlistItemFactory(user=user, product=ProductFactory(slug=f"many-{index}"))
    with django_assert_max_num_queries(3):
        assert auth_client.get(WISHLIST, {"page_size": 50}).json()["count"] == 33
