"""The fixed-SQL availability overlays answer exactly what the ORM rule of the list query says."""

import pytest
from django.db.models import Exists, F, OuterRef

from shop.models import Product, ProductVariant
from shop.selectors import products_in_stock, variants_available
from shop.tests.factories import ProductFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db

# (is_active, on hand, allocated) of each variant: every case the rule distinguishes.
VARIANT_STATES = [
    (True, 10, 0),  # sellable
    (True, 5, 5),  # all allocated
    (False, 10, 0),  # inactive
    (True, 0, 0),  # none on hand
]


@pytest.fixture
def catalog():
    products = []
    for states in ([VARIANT_STATES[0]], VARIANT_STATES[1:2], VARIANT_STATES[2:], VARIANT_STATES, []):
        product = ProductFactory(variants=0)
        for is_active, on_hand, allocated in states:
            ProductVariantFactory(
                product=product, is_active=is_active, quantity_on_hand=on_hand, quantity_allocated=allocated
            )
        products.append(product)
    return products


def test_products_in_stock_matches_the_orm_rule(catalog):
    sellable = ProductVariant.objects.filter(
        product=OuterRef("pk"), is_active=True, quantity_on_hand__gt=F("quantity_allocated")
    )
    expected = set(Product.objects.filter(Exists(sellable)).values_list("pk", flat=True))

    assert products_in_stock(product_ids=[product.pk for product in catalog]) == expected
    assert expected == {catalog[0].pk, catalog[3].pk}


def test_variants_available_reads_active_variants_only(catalog):
    variants = list(ProductVariant.objects.filter(product=catalog[3]).order_by("id"))

    available = variants_available(variant_ids=[variant.pk for variant in variants])

    assert available == {
        variant.pk: max(variant.quantity_on_hand - variant.quantity_allocated, 0)
        for variant in variants
        if variant.is_active
    }
    assert sorted(available.values()) == [0, 0, 10]


def test_empty_and_unknown_ids_need_no_rows(catalog, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert products_in_stock(product_ids=[]) == set()
        assert variants_available(variant_ids=[]) == {}
    assert products_in_stock(product_ids=[10**9]) == set()
