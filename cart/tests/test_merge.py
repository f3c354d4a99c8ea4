"""Logging in with an anonymous cart merges it into the customer's cart, exactly once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from cart.models import Cart, CartLine
from cart.tests.factories import CartFactory, CartLineFactory
from cart.tests.helpers import CART_URL, token_headers
from conftest import bearer_for
from coupons.tests.factories import CouponFactory, VariantFactory
from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory
from shop.models import ProductVariant


def quantities(cart) -> dict[str, int]:
    return {line.variant.sku: line.quantity for line in CartLine.objects.filter(cart=cart).select_related("variant")}


def stock(variant, on_hand):
    ProductVariant.objects.filter(pk=variant.pk).update(quantity_on_hand=on_hand, quantity_allocated=0)


@pytest.mark.django_db
def test_login_merges_the_anonymous_cart_into_the_customers(auth_client, user):
    shared, only_anonymous, only_mine = VariantFactory(sku="A"), VariantFactory(sku="B"), VariantFactory(sku="C")
    mine = CartFactory(user=user)
    CartLineFactory(cart=mine, variant=shared, quantity=1)
    CartLineFactory(cart=mine, variant=only_mine, quantity=4)
    anonymous = CartFactory()
    CartLineFactory(cart=anonymous, variant=shared, quantity=2)
    CartLineFactory(cart=anonymous, variant=only_anonymous, quantity=3)

    response = auth_client.get(CART_URL, **token_headers(anonymous.pk))

    assert response.status_code == 200
    assert response.json()["id"] == str(mine.pk)
    assert response.headers["X-Cart-Token"] == str(mine.pk)
    assert quantities(mine) == {"A": 3, "B": 3, "C": 4}
    assert not Cart.objects.filter(pk=anonymous.pk).exists()
    assert CartLine.objects.filter(cart_id=anonymous.pk).count() == 0


@pytest.mark.django_db
def test_merge_creates_the_customers_cart_when_they_had_none(auth_client, user):
    anonymous = CartLineFactory(variant=VariantFactory(sku="A"), quantity=2).cart

    body = auth_client.get(CART_URL, **token_headers(anonymous.pk)).json()

    mine = Cart.objects.get(user=user)
    assert body["id"] == str(mine.pk)
    assert quantities(mine) == {"A": 2}
    assert Cart.objects.count() == 1


@pytest.mark.django_db
def test_merged_quantities_are_capped_at_availability(auth_client, user):
    variant = VariantFactory(sku="A")
    stock(variant, 4)
    mine = CartLineFactory(cart__user=user, variant=variant, quantity=3).cart
    anonymous = CartLineFactory(variant=variant, quantity=5).cart

    auth_client.get(CART_URL, **token_headers(anonymous.pk))

    assert quantities(mine) == {"A": 4}


@pytest.mark.django_db
@override_settings(CART_MAX_LINE_QUANTITY=6)
def test_merged_quantities_are_capped_at_the_line_maximum(auth_client, user):
    variant = VariantFactory(sku="A", quantity_on_hand=100)
    mine = CartLineFactory(cart__user=user, variant=variant, quantity=4).cart
    anonymous = CartLineFactory(variant=variant, quantity=4).cart

    auth_client.get(CART_URL, **token_headers(anonymous.pk))

    assert quantities(mine) == {"A": 6}


@pytest.mark.django_db
def test_merge_never_lowers_what_the_customer_already_had(auth_client, user):
    variant = VariantFactory(sku="A")
    mine = CartLineFactory(cart__user=user, variant=variant, quantity=5).cart
    anonymous = CartLineFactory(variant=variant, quantity=2).cart
    stock(variant, 3)  # stock fell below the customer's own line

    auth_client.get(CART_URL, **token_headers(anonymous.pk))

    assert quantities(mine) == {"A": 5}


@pytest.mark.django_db
def test_merge_drops_lines_that_cannot_be_bought(auth_client, user):
    sold_out, withdrawn, fine = VariantFactory(sku="OUT"), VariantFactory(sku="OFF"), VariantFactory(sku="OK")
    stock(sold_out, 0)
    anonymous = CartFactory()
    for variant in (sold_out, withdrawn, fine):
        CartLineFactory(cart=anonymous, variant=variant, quantity=1)
    withdrawn.product.is_active = False
    withdrawn.product.save()

    auth_client.get(CART_URL, **token_headers(anonymous.pk))

    assert quantities(Cart.objects.get(user=user)) == {"OK": 1}


@pytest.mark.django_db
def test_merge_keeps_the_customers_coupon_and_destination_else_takes_the_anonymous_ones(auth_client, user):
    method = ShippingMethodFactory(zone=ShippingZoneFactory(countries=["FR"]))
    coupon = CouponFactory(code="HELLO")
    anonymous = CartFactory(coupon=coupon, shipping_country="FR", shipping_method=method)
    CartLineFactory(cart=anonymous)
    mine = CartFactory(user=user)

    auth_client.get(CART_URL, **token_headers(anonymous.pk))

    mine.refresh_from_db()
    assert (mine.coupon, mine.shipping_country, mine.shipping_method) == (coupon, "FR", method)


@pytest.mark.django_db
def test_merge_leaves_the_customers_own_choices(auth_client, user):
    own_coupon, other_coupon = CouponFactory(code="MINE"), CouponFactory(code="THEIRS")
    mine = CartFactory(user=user, coupon=own_coupon, shipping_country="DE")
    anonymous = CartFactory(coupon=other_coupon, shipping_country="FR")

    auth_client.get(CART_URL, **token_headers(anonymous.pk))

    mine.refresh_from_db()
    assert (mine.coupon, mine.shipping_country) == (own_coupon, "DE")


@pytest.mark.django_db
def test_the_merged_token_sent_again_is_ignored(auth_client, user):
    anonymous = CartLineFactory(variant=VariantFactory(sku="A"), quantity=2).cart
    auth_client.get(CART_URL, **token_headers(anonymous.pk))

    again = auth_client.get(CART_URL, **token_headers(anonymous.pk))

    assert again.status_code == 200
    assert quantities(Cart.objects.get(user=user)) == {"A": 2}  # not merged a second time


@pytest.mark.django_db
def test_adding_with_an_anonymous_token_after_login_adds_to_the_merged_cart(auth_client, user):
    anonymous = CartLineFactory(variant=VariantFactory(sku="A"), quantity=1).cart
    other = VariantFactory(sku="B", price=Decimal("3.00"))

    response = auth_client.post(
        "/api/v1/cart/items/", {"variant_id": other.pk, "quantity": 2}, format="json", **token_headers(anonymous.pk)
    )

    assert response.status_code == 201
    assert quantities(Cart.objects.get(user=user)) == {"A": 1, "B": 2}
    assert Cart.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_merge_the_anonymous_cart_exactly_once(user):
    variant = VariantFactory(sku="A", quantity_on_hand=100)
    CartLineFactory(cart__user=user, variant=variant, quantity=1)
    anonymous = CartLineFactory(variant=variant, quantity=2).cart
    # Lines the customer does not have yet: a second merge would try to insert them again.
    for index in range(10):
        CartLineFactory(cart=anonymous, variant=VariantFactory(sku=f"N{index}", quantity_on_hand=100), quantity=2)
    assert _get_cart_concurrently(user, cart_token=anonymous.pk, racers=6) == [200] * 6
    assert quantities(Cart.objects.get(user=user)) == {"A": 3} | {f"N{index}": 2 for index in range(10)}
    assert not Cart.objects.filter(pk=anonymous.pk).exists()
    assert Cart.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_merges_into_a_customer_without_a_cart_create_one_cart(user):
    variant = VariantFactory(sku="A", quantity_on_hand=100)
    anonymous = CartLineFactory(variant=variant, quantity=2).cart
    assert _get_cart_concurrently(user, cart_token=anonymous.pk, racers=4) == [200] * 4
    assert quantities(Cart.objects.get(user=user)) == {"A": 2}
    assert Cart.objects.count() == 1


def _get_cart_concurrently(user, *, cart_token, racers: int) -> list[int | str]:
    """`racers` threads send GET cart/ as `user` with the anonymous `cart_token` at the same moment;
    returns each answer's status code, or the name of the exception a lost race raised."""
    bearer = bearer_for(user)
    barrier = threading.Barrier(racers)
    statuses: list[int | str] = []

    def request_cart():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer)
        try:
            barrier.wait(timeout=10)
            statuses.append(client.get(CART_URL, **token_headers(cart_token)).status_code)
        except Exception as exc:  # report it rather than hang the test
            statuses.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=request_cart) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses
