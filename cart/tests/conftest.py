from decimal import Decimal

import pytest

from coupons.tests.factories import CategoryFactory, ProductFactory, VariantFactory


@pytest.fixture
def category():
    return CategoryFactory(name="Shirts", slug="shirts")


@pytest.fixture
def variant(category):
    product = ProductFactory(name="Linen shirt", slug="linen-shirt", category=category)
    return VariantFactory(
        product=product,
        sku="LIN-M",
        name="M / White",
        options={"size": "M", "colour": "white"},
        price=Decimal("19.99"),
        weight=Decimal("0.400"),
        quantity_on_hand=10,
        quantity_allocated=2,
    )


@pytest.fixture
def other_variant(category):
    product = ProductFactory(name="Wool socks", slug="wool-socks", category=category)
    return VariantFactory(product=product, sku="SOCK-1", price=Decimal("5.00"), weight=Decimal("0.100"))
