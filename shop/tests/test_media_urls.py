"""Every media URL the API answers is absolute and the same wherever the image appears (core/media.py)."""

import pytest

from shop.tests.factories import ProductFactory, ProductImageFactory

pytestmark = pytest.mark.django_db


def _image_urls(client, product) -> dict[str, str]:
    slug = product.slug
    variant = product.variants.first()
    cart = client.post("/api/v1/cart/items/", {"variant_id": variant.pk, "quantity": 1}, format="json")
    assert cart.status_code == 201, cart.json()
    client.post("/api/v1/wishlist/", {"product_slug": slug}, format="json")
    detail = client.get(f"/api/v1/products/{slug}/").json()
    return {
        "list": client.get("/api/v1/products/").json()["results"][0]["image"],
        "search": client.get("/api/v1/products/", {"q": "lantern"}).json()["results"][0]["image"],
        "detail": detail["image"],
        "detail images": detail["images"][0]["url"],
        "suggest": client.get("/api/v1/products/suggest/", {"q": "lante"}).json()["products"][0]["image"],
        "wishlist": client.get("/api/v1/wishlist/").json()["results"][0]["image"],
        "cart": client.get("/api/v1/cart/").json()["items"][0]["product"]["image"],
    }


def test_every_endpoint_answers_the_same_absolute_url_based_on_public_url(auth_client, settings):
    settings.PUBLIC_URL = "https://api.example.com/"
    product = ProductFactory(name="Storm Lantern", slug="storm-lantern")
    image = ProductImageFactory(product=product)

    urls = _image_urls(auth_client, product)

    expected = f"https://api.example.com/media/{image.image.name}"
    assert image.image.name.startswith("products/")
    assert urls == dict.fromkeys(urls, expected)


def test_an_absolute_media_url_is_used_as_is_everywhere(auth_client, settings):
    settings.PUBLIC_URL = "https://api.example.com"
    settings.MEDIA_URL = "https://cdn.example.com/shop-media/"
    product = ProductFactory(name="Storm Lantern", slug="storm-lantern")
    image = ProductImageFactory(product=product)

    urls = _image_urls(auth_client, product)

    assert urls == dict.fromkeys(urls, f"https://cdn.example.com/shop-media/{image.image.name}")


def test_a_product_without_images_has_a_null_image(api_client):
    ProductFactory(slug="bare")

    assert api_client.get("/api/v1/products/").json()["results"][0]["image"] is None
    assert api_client.get("/api/v1/products/bare/").json()["image"] is None
