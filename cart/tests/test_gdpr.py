"""GDPR: the cart in the account export; erasure deletes it."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cart.gdpr import cart_anonymize_for_user
from cart.models import Cart, CartLine
from coupons.tests.factories import VariantFactory

from .factories import CartFactory, CartLineFactory

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/account/export/"
ME = "/api/v1/account/me/"
CREATED_AT = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
CHANGED_AT = datetime(2030, 5, 7, 8, 0, tzinfo=UTC)


def test_export_has_the_current_cart(auth_client, user, other_user, variant, other_variant):
    cart = CartFactory(user=user, shipping_country="DE", shipping_region="")
    shirt = CartLineFactory(cart=cart, variant=variant, quantity=2, unit_price_when_set=Decimal("21.00"))
    socks = CartLineFactory(cart=cart, variant=other_variant, quantity=1)
    CartLine.objects.filter(pk=shirt.pk).update(created_at=CREATED_AT)
    CartLine.objects.filter(pk=socks.pk).update(created_at=CHANGED_AT)
    Cart.objects.filter(pk=cart.pk).update(created_at=CREATED_AT, updated_at=CHANGED_AT)
    CartLineFactory(cart=CartFactory(user=other_user), variant=variant)

    body = auth_client.get(EXPORT).json()

    assert body["cart"] == {
        "id": str(cart.pk),
        "currency": "USD",
        "coupon_code": None,
        "shipping_country": "DE",
        "shipping_region": None,
        "shipping_method": None,
        "created_at": "2030-05-06T07:08:09Z",
        "updated_at": "2030-05-07T08:00:00Z",
        "items": [
            {
                "product_name": "Linen shirt",
                "variant_name": "M / White",
                "sku": "LIN-M",
                "quantity": 2,
                "unit_price_when_set": "21.00",
                "added_at": "2030-05-06T07:08:09Z",
            },
            {
                "product_name": "Wool socks",
                "variant_name": other_variant.name,
                "sku": "SOCK-1",
                "quantity": 1,
                "unit_price_when_set": "5.00",
                "added_at": "2030-05-07T08:00:00Z",
            },
        ],
    }


def test_export_without_a_cart_is_null(auth_client, other_user):
    CartFactory(user=other_user)

    assert auth_client.get(EXPORT).json()["cart"] is None


def test_export_query_count_does_not_grow_with_lines(auth_client, user):
    def export_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert auth_client.get(EXPORT).status_code == 200
        return len(context.captured_queries)

    cart = CartFactory(user=user)
    CartLineFactory(cart=cart)
    with_one = export_queries()
    CartLineFactory.create_batch(4, cart=cart)
    with_five = export_queries()

    assert len(auth_client.get(EXPORT).json()["cart"]["items"]) == 5
    assert with_five == with_one


def test_deleting_the_account_deletes_the_cart_only(auth_client, user, other_user, variant):
    CartLineFactory(cart=CartFactory(user=user), variant=variant, quantity=3)
    theirs = CartLineFactory(cart=CartFactory(user=other_user), variant=variant)
    anonymous = CartLineFactory(cart=CartFactory(user=None), variant=variant)

    response = auth_client.delete(ME, {"password": "correct-horse-battery"})

    assert response.status_code == 204
    assert set(CartLine.objects.values_list("pk", flat=True)) == {theirs.pk, anonymous.pk}
    assert set(Cart.objects.values_list("user_id", flat=True)) == {other_user.pk, None}
    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_allocated) == (10, 2)  # a cart never held stock


def test_a_refused_deletion_keeps_the_cart(auth_client, user):
    CartLineFactory(cart=CartFactory(user=user), variant=VariantFactory())

    assert auth_client.delete(ME, {"password": "wrong"}).status_code == 400

    assert CartLine.objects.filter(cart__user=user).count() == 1


def test_the_cart_anonymizer_can_run_twice(user):
    CartLineFactory(cart=CartFactory(user=user))

    cart_anonymize_for_user(user)
    cart_anonymize_for_user(user)

    assert Cart.objects.count() == 0
