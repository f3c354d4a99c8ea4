"""Fixtures shared by the orders and payment tests (payment/tests/conftest.py re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count

import pytest

from orders.services import order_place

from .factories import (
    AddressFactory,
    CartFactory,
    CartLineFactory,
    ShippingMethodFactory,
    TaxRateFactory,
    VariantFactory,
)

ORDERS_URL = "/api/v1/orders/"
_keys = count(1)


def order_url(order_id, suffix: str = "") -> str:
    return f"{ORDERS_URL}{order_id}/{suffix}"


def new_key() -> str:
    return f"test-key-{next(_keys)}"


@dataclass
class Shop:
    """A small shop: two variants, a US flat-rate method (5.00) and 10 % US sales tax.

    A cart of 2 x shirt (10.00) + 1 x socks (4.50) costs 24.50 + 5.00 shipping + 2.95 tax = 32.45."""

    shirt: object
    socks: object
    method: object
    tax: object
    addresses: dict = field(default_factory=dict)

    def address_of(self, user):
        if user.pk not in self.addresses:
            self.addresses[user.pk] = AddressFactory(user=user)
        return self.addresses[user.pk]

    def fill_cart(self, user, items=None, coupon=None):
        """Put (variant, quantity) pairs in the user's cart; by default the 32.45 cart."""
        from cart.models import Cart

        cart = Cart.objects.filter(user=user).first() or CartFactory(user=user)
        if coupon is not None:
            cart.coupon = coupon
            cart.save(update_fields=["coupon"])
        for variant, quantity in items if items is not None else [(self.shirt, 2), (self.socks, 1)]:
            CartLineFactory(cart=cart, variant=variant, quantity=quantity)
        return cart

    def body(self, user, **overrides) -> dict:
        body = {"shipping_address_id": str(self.address_of(user).pk), "shipping_method_id": str(self.method.pk)}
        body.update(overrides)
        return body

    def place(self, user, items=None, coupon=None, **overrides):
        """Checkout through the service, for tests that start with an order."""
        self.fill_cart(user, items, coupon)
        return order_place(
            user=user,
            shipping_address_id=self.address_of(user).pk,
            shipping_method_id=self.method.pk,
            **overrides,
        )


def paid_order(shop: Shop, user):
    """An order placed through checkout and paid with the configured gateway (the dummy one)."""
    from payment.services import payment_create

    order = shop.place(user)
    payment_create(user=user, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "paid"
    return order


@pytest.fixture
def shop(db) -> Shop:
    return Shop(
        shirt=VariantFactory(product__name="Linen shirt", name="M / White", sku="SHIRT-M", price=Decimal("10.00")),
        socks=VariantFactory(
            product__name="Wool socks", name="One size", sku="SOCKS-1", price=Decimal("4.50"), quantity_on_hand=7
        ),
        method=ShippingMethodFactory(name="Standard", flat_price=Decimal("5.00")),
        tax=TaxRateFactory(country="US", rate=Decimal("10")),
    )
