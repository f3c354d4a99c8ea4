"""Cart endpoints for anonymous and logged-in customers: lines, flags, scoping, errors."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings

from cart.models import Cart, CartLine
from cart.tests.factories import CartFactory, CartLineFactory
from cart.tests.helpers import CART_URL, ITEMS_URL, item_url, token_headers
from coupons.tests.factories import ProductFactory, VariantFactory
from shop.models import ProductImage

pytestmark = pytest.mark.django_db


def add(client, variant, quantity=1, token=None):
    headers = token_headers(token) if token else {}
    return client.post(ITEMS_URL, {"variant_id": variant.pk, "quantity": quantity}, format="json", **headers)


def error(response) -> dict:
    return response.json()["errors"][0]


# --- anonymous carts -----------------------------------------------------------------------------


def test_anonymous_get_without_token_shows_an_empty_cart_and_creates_nothing(api_client):
    response = api_client.get(CART_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] is None
    assert body["items"] == []
    assert (body["subtotal"], body["discount_total"], body["shipping_total"], body["tax_total"], body["total"]) == (
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
    )
    assert body["item_count"] == 0
    assert body["currency"] == "USD"
    assert "X-Cart-Token" not in response.headers
    assert Cart.objects.count() == 0


def test_first_item_creates_an_anonymous_cart_and_returns_its_token(api_client, variant):
    response = add(api_client, variant, 3)

    assert response.status_code == 201
    body = response.json()
    cart = Cart.objects.get()
    assert cart.user is None
    assert body["id"] == str(cart.pk)
    assert response.headers["X-Cart-Token"] == str(cart.pk)
    line = cart.lines.get()
    assert body["items"] == [
        {
            "id": str(line.pk),
            "variant": {
                "id": variant.pk,
                "sku": "LIN-M",
                "name": "M / White",
                "options": {"size": "M", "colour": "white"},
            },
            "product": {"slug": "linen-shirt", "name": "Linen shirt", "image": None},
            "quantity": 3,
            "unit_price": "19.99",
            "line_total": "59.97",
            "discount": "0.00",
            "previous_unit_price": "19.99",
            "available_quantity": 8,
            "is_available": True,
            "price_changed": False,
            "insufficient_stock": False,
        }
    ]
    assert body["subtotal"] == "59.97"
    assert body["total"] == "59.97"
    assert body["item_count"] == 3
    assert body["weight"] == "1.200"
    assert body["coupon_code"] is None
    assert body["shipping_method"] is None
    assert body["shipping_country"] is None


def test_anonymous_cart_is_found_again_by_its_token(api_client, variant):
    token = add(api_client, variant, 2).headers["X-Cart-Token"]

    response = api_client.get(CART_URL, **token_headers(token))

    assert response.status_code == 200
    assert response.json()["id"] == token
    assert response.json()["item_count"] == 2
    assert response.headers["X-Cart-Token"] == token


def test_adding_the_same_variant_again_sums_into_one_line(api_client, variant):
    token = add(api_client, variant, 2).headers["X-Cart-Token"]

    response = add(api_client, variant, 3, token=token)

    assert response.status_code == 201
    assert [item["quantity"] for item in response.json()["items"]] == [5]
    assert CartLine.objects.count() == 1


def test_the_database_refuses_two_lines_for_one_variant(variant):
    line = CartLineFactory(variant=variant)

    with pytest.raises(IntegrityError), transaction.atomic():
        CartLine.objects.create(cart=line.cart, variant=variant, quantity=1, unit_price_when_set=Decimal("1"))


def test_the_database_refuses_a_zero_quantity(variant):
    cart = CartFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        CartLine.objects.create(cart=cart, variant=variant, quantity=0, unit_price_when_set=Decimal("1"))


@pytest.mark.parametrize("raw", ["not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g"])
def test_malformed_token_is_404(api_client, variant, raw):
    CartLineFactory(variant=variant)

    for response in (api_client.get(CART_URL, **token_headers(raw)), add(api_client, variant, token=raw)):
        assert response.status_code == 404
        assert error(response)["code"] == "cart_not_found"
    assert CartLine.objects.count() == 1


def test_unknown_token_is_404_for_an_anonymous_caller(api_client, variant):
    response = add(api_client, variant, token="6f1f0d1e-8a39-4c55-9a0f-0c4e8e0c2f11")

    assert response.status_code == 404
    assert error(response)["code"] == "cart_not_found"
    assert Cart.objects.count() == 0


def test_anonymous_caller_cannot_reach_a_customers_cart_by_its_token(api_client, user, variant):
    cart = CartLineFactory(cart__user=user, variant=variant, quantity=2).cart

    get = api_client.get(CART_URL, **token_headers(cart.pk))
    post = add(api_client, variant, token=cart.pk)

    assert get.status_code == post.status_code == 404
    assert CartLine.objects.get().quantity == 2


def test_customer_cannot_reach_another_customers_cart(auth_client, other_user, variant):
    foreign = CartLineFactory(cart__user=other_user, variant=variant, quantity=2).cart

    get = auth_client.get(CART_URL, **token_headers(foreign.pk))
    post = add(auth_client, variant, token=foreign.pk)

    assert get.status_code == post.status_code == 404
    assert error(get)["code"] == "cart_not_found"
    assert Cart.objects.count() == 1
    assert CartLine.objects.get().quantity == 2


def test_lines_of_another_cart_are_404(api_client, auth_client, user, variant):
    foreign_line = CartLineFactory(cart__user=user, variant=variant, quantity=2)
    token = add(api_client, VariantFactory()).headers["X-Cart-Token"]

    patch = api_client.patch(item_url(foreign_line.pk), {"quantity": 1}, format="json", **token_headers(token))
    delete = api_client.delete(item_url(foreign_line.pk), **token_headers(token))

    assert patch.status_code == delete.status_code == 404
    assert error(patch)["code"] == "cart_item_not_found"
    foreign_line.refresh_from_db()
    assert foreign_line.quantity == 2


def test_item_urls_without_any_cart_are_404(api_client, variant):
    line = CartLineFactory(variant=variant)

    assert api_client.patch(item_url(line.pk), {"quantity": 1}, format="json").status_code == 404
    assert api_client.delete(item_url(line.pk)).status_code == 404
    assert CartLine.objects.filter(pk=line.pk).exists()


# --- logged-in customers -------------------------------------------------------------------------


def test_customer_cart_is_theirs_alone(auth_client, other_client, user, variant):
    add(auth_client, variant, 2)

    mine = auth_client.get(CART_URL).json()
    theirs = other_client.get(CART_URL).json()

    assert Cart.objects.get().user == user
    assert mine["item_count"] == 2
    assert theirs["id"] is None
    assert theirs["items"] == []


def test_a_customer_has_one_cart(user):
    CartFactory(user=user)

    with pytest.raises(IntegrityError), transaction.atomic():
        CartFactory(user=user)


def test_customer_may_send_their_own_cart_token(auth_client, user, variant):
    cart = CartLineFactory(cart__user=user, variant=variant).cart

    response = auth_client.get(CART_URL, **token_headers(cart.pk))

    assert response.status_code == 200
    assert response.json()["id"] == str(cart.pk)


# --- quantities and stock ------------------------------------------------------------------------


def test_more_than_available_is_409_with_the_available_quantity(api_client, variant):
    response = add(api_client, variant, 9)

    assert response.status_code == 409
    assert error(response) == {
        "code": "insufficient_stock",
        "detail": "Only 8 available.",
        "attr": "quantity",
        "variant_id": variant.pk,
        "available_quantity": 8,
        "requested": 9,
    }
    assert Cart.objects.count() == 0  # the refused first item leaves no empty cart behind


def test_sum_over_available_is_409_and_keeps_the_line(api_client, variant):
    token = add(api_client, variant, 6).headers["X-Cart-Token"]

    response = add(api_client, variant, 3, token=token)

    assert response.status_code == 409
    assert (error(response)["available_quantity"], error(response)["requested"]) == (8, 9)
    assert CartLine.objects.get().quantity == 6


@override_settings(CART_MAX_LINE_QUANTITY=5)
def test_more_than_the_line_maximum_is_400(api_client, variant):
    variant.quantity_on_hand = 100
    variant.save()

    response = add(api_client, variant, 6)

    assert response.status_code == 400
    assert error(response)["code"] == "quantity_too_large"
    assert error(response)["max_quantity"] == 5
    assert Cart.objects.count() == 0


@pytest.mark.parametrize("quantity", [0, -1, "two"])
def test_quantity_must_be_a_positive_integer(api_client, variant, quantity):
    response = add(api_client, variant, quantity)

    assert response.status_code == 400
    assert error(response)["attr"] == "quantity"
    assert Cart.objects.count() == 0


def test_unknown_variant_is_400(api_client):
    response = api_client.post(ITEMS_URL, {"variant_id": 987654, "quantity": 1}, format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "variant_not_found"
    assert error(response)["attr"] == "variant_id"


def test_variant_id_beyond_the_database_range_is_400_not_500(api_client):
    response = api_client.post(ITEMS_URL, {"variant_id": 2**70, "quantity": 1}, format="json")

    assert response.status_code == 400
    assert error(response)["attr"] == "variant_id"


@pytest.mark.parametrize("inactive", ["product", "variant"])
def test_products_not_for_sale_cannot_be_added(api_client, variant, inactive):
    target = variant.product if inactive == "product" else variant
    target.is_active = False
    target.save()

    response = add(api_client, variant)

    assert response.status_code == 409
    assert error(response)["code"] == "variant_unavailable"
    assert Cart.objects.count() == 0


def test_variant_in_another_currency_cannot_be_added(api_client):
    response = add(api_client, VariantFactory(currency="EUR"))

    assert response.status_code == 409
    assert error(response)["code"] == "currency_mismatch"


def test_patch_sets_the_quantity(api_client, variant):
    created = add(api_client, variant, 1)
    token, line_id = created.headers["X-Cart-Token"], created.json()["items"][0]["id"]

    response = api_client.patch(item_url(line_id), {"quantity": 4}, format="json", **token_headers(token))

    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 4
    assert response.json()["subtotal"] == "79.96"


def test_patch_over_stock_is_409_and_changes_nothing(api_client, variant):
    created = add(api_client, variant, 1)
    token, line_id = created.headers["X-Cart-Token"], created.json()["items"][0]["id"]

    response = api_client.patch(item_url(line_id), {"quantity": 9}, format="json", **token_headers(token))

    assert response.status_code == 409
    assert error(response) == {
        "code": "insufficient_stock",
        "detail": "Only 8 available.",
        "attr": "quantity",
        "variant_id": variant.pk,
        "available_quantity": 8,
        "requested": 9,
    }
    assert CartLine.objects.get().quantity == 1


def test_delete_item_returns_the_cart_without_it(api_client, variant, other_variant):
    token = add(api_client, variant).headers["X-Cart-Token"]
    response = add(api_client, other_variant, 2, token=token)
    line_id = response.json()["items"][0]["id"]

    response = api_client.delete(item_url(line_id), **token_headers(token))

    assert response.status_code == 200
    assert [item["variant"]["sku"] for item in response.json()["items"]] == ["SOCK-1"]
    assert response.json()["subtotal"] == "10.00"
    assert api_client.delete(item_url(line_id), **token_headers(token)).status_code == 404


def test_delete_cart_empties_it_and_keeps_the_token(api_client, variant):
    token = add(api_client, variant, 2).headers["X-Cart-Token"]

    response = api_client.delete(CART_URL, **token_headers(token))

    assert response.status_code == 204
    assert CartLine.objects.count() == 0
    again = api_client.get(CART_URL, **token_headers(token))
    assert again.status_code == 200
    assert again.json()["id"] == token
    assert again.json()["items"] == []


# --- flags ---------------------------------------------------------------------------------------


def test_price_change_is_flagged_and_priced_at_the_new_price(api_client, variant):
    created = add(api_client, variant, 2)
    token, line_id = created.headers["X-Cart-Token"], created.json()["items"][0]["id"]
    variant.price = Decimal("17.50")
    variant.save()

    item = api_client.get(CART_URL, **token_headers(token)).json()["items"][0]

    assert item["price_changed"] is True
    assert item["unit_price"] == "17.50"
    assert item["previous_unit_price"] == "19.99"
    assert item["line_total"] == "35.00"
    # Setting the quantity again means the customer saw the new price: the flag clears.
    patched = api_client.patch(item_url(line_id), {"quantity": 2}, format="json", **token_headers(token))
    assert patched.json()["items"][0]["price_changed"] is False


def test_stock_that_no_longer_covers_a_line_is_flagged(api_client, variant):
    token = add(api_client, variant, 5).headers["X-Cart-Token"]
    variant.quantity_on_hand = 5  # 2 allocated, so 3 left
    variant.save()

    item = api_client.get(CART_URL, **token_headers(token)).json()["items"][0]

    assert item["insufficient_stock"] is True
    assert item["available_quantity"] == 3
    assert item["quantity"] == 5


def test_product_withdrawn_from_sale_is_flagged(api_client, variant):
    token = add(api_client, variant).headers["X-Cart-Token"]
    variant.product.is_active = False
    variant.product.save()

    item = api_client.get(CART_URL, **token_headers(token)).json()["items"][0]

    assert item["is_available"] is False


def test_line_shows_the_products_first_image(api_client, variant, settings):
    image = SimpleUploadedFile("shirt.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif")
    ProductImage.objects.create(product=variant.product, image=image, sort_order=1)
    second = SimpleUploadedFile("back.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif")
    ProductImage.objects.create(product=variant.product, image=second, sort_order=2)

    settings.PUBLIC_URL = "https://api.example.com"
    token = add(api_client, variant).headers["X-Cart-Token"]
    image_url = api_client.get(CART_URL, **token_headers(token)).json()["items"][0]["product"]["image"]

    # PUBLIC_URL, not the request's host: the same absolute URL as the catalog's (core/media.py).
    assert image_url.startswith("https://api.example.com/media/products/")
    assert "shirt" in image_url


# --- query budget --------------------------------------------------------------------------------


def _full_cart(size, user=None):
    from coupons.tests.factories import CouponFactory
    from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory

    zone = ShippingZoneFactory(countries=["DE"])
    method = ShippingMethodFactory(
        zone=zone, rate_type="weight", flat_price=None, bands=[("0", "5", "4.90"), ("5", None, "9.90")]
    )
    TaxRateFactory(country="DE", rate=Decimal("19"))
    coupon = CouponFactory(code="TEN", categories=[ProductFactory().category])
    cart = CartFactory(user=user, coupon=coupon, shipping_country="DE", shipping_method=method)
    for index in range(size):
        product = ProductFactory()
        ProductImage.objects.create(product=product, image=f"products/{index}.jpg")
        CartLineFactory(cart=cart, variant=VariantFactory(product=product))
    return cart


@pytest.mark.parametrize("size", [1, 20])
def test_cart_page_query_budget_for_anonymous_carts(api_client, django_assert_num_queries, size):
    cart = _full_cart(size)

    with django_assert_num_queries(4):  # exact, whatever the number of lines
        response = api_client.get(CART_URL, **token_headers(cart.pk))

    assert response.status_code == 200
    assert len(response.json()["items"]) == size


@pytest.mark.parametrize("size", [1, 20])
def test_cart_page_query_budget_for_customers(auth_client, user, django_assert_num_queries, size):
    cart = _full_cart(size, user=user)

    with django_assert_num_queries(5):  # exact: the anonymous four plus the user lookup
        response = auth_client.get(CART_URL, **token_headers(cart.pk))

    assert response.status_code == 200
    assert len(response.json()["items"]) == size
