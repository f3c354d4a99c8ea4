"""Checkout applies the catalog's visibility rule: a product whose category or an ancestor category
is inactive is out of stock, like an unpublished product. The rule is a column of the locked
cart-lines query, so test_checkout's query budgets cover its cost."""

import pytest

from orders.models import Order, OrderLine
from orders.services import order_place
from shop.errors import InsufficientStock
from shop.models import Category, ProductVariant
from shop.services import category_update

pytestmark = pytest.mark.django_db


def hide_under_an_inactive_parent(variant) -> Category:
    """Move the variant's category under a new parent, then switch only the parent off."""
    category = variant.product.category
    parent = Category.objects.create(name="Seasonal", slug="seasonal")
    category_update(category=category, parent=parent)
    category_update(category=parent, is_active=False)
    return parent


def test_a_product_under_an_inactive_ancestor_counts_as_out_of_stock(user, shop):
    shop.fill_cart(user)
    hide_under_an_inactive_parent(shop.socks)

    with pytest.raises(InsufficientStock) as refusal:
        order_place(user=user, shipping_address_id=shop.address_of(user).pk, shipping_method_id=shop.method.pk)

    assert refusal.value.extra == {"variant_id": shop.socks.pk, "available_quantity": 0, "requested": 1}
    assert (Order.objects.count(), OrderLine.objects.count()) == (0, 0)
    assert list(ProductVariant.objects.order_by("pk").values_list("quantity_allocated", flat=True)) == [0, 0]
