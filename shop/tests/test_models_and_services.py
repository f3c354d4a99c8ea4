import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shop import services, stock
from shop.errors import (
    InsufficientStock,
    LastVariant,
    ProductNeedsVariant,
    ReviewAlreadyExists,
    StockInconsistent,
)
from shop.models import Category, ProductPurchase, ProductVariant, Review
from shop.tests.factories import CategoryFactory, ProductFactory, ProductVariantFactory, ReviewFactory

pytestmark = pytest.mark.django_db


# --- category tree ------------------------------------------------------------------------------


def test_paths_and_depths_follow_the_tree_and_moves():
    root = CategoryFactory(slug="root")
    child = CategoryFactory(slug="child", parent=root)
    grandchild = CategoryFactory(slug="grandchild", parent=child)
    other = CategoryFactory(slug="other")

    assert (root.path, root.depth) == (f"/{root.pk}/", 0)
    assert (grandchild.path, grandchild.depth) == (f"/{root.pk}/{child.pk}/{grandchild.pk}/", 2)

    services.category_update(category=child, parent=other)

    grandchild.refresh_from_db()
    assert (grandchild.path, grandchild.depth) == (f"/{other.pk}/{child.pk}/{grandchild.pk}/", 2)
    services.category_update(category=child, parent=None)
    grandchild.refresh_from_db()
    assert (grandchild.path, grandchild.depth) == (f"/{child.pk}/{grandchild.pk}/", 1)
    subtree = Category.objects.filter(child.subtree_filter()).order_by("depth")
    assert list(subtree) == [child, grandchild]


def test_slugs_are_generated_unique():
    first = services.category_create(name="Hoodies & Sweats")
    second = services.category_create(name="Hoodies & Sweats")

    assert (first.slug, second.slug) == ("hoodies-sweats", "hoodies-sweats-2")
    product = services.product_create(name="Facets", category=first, variants=[{"sku": "F-1", "price": Decimal("1")}])
    assert product.slug == "facets-2"  # "facets" is an endpoint


# --- database constraints (the last line of defence) --------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"quantity_on_hand": -1},
        {"quantity_allocated": -1},
        {"quantity_on_hand": 2, "quantity_allocated": 3},
        {"price": Decimal("-0.01")},
        {"compare_at_price": Decimal("-1")},
    ],
)
def test_variant_checks_are_enforced_by_the_database(values):
    variant = ProductVariantFactory(quantity_on_hand=5)

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVariant.objects.filter(pk=variant.pk).update(**values)

    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_allocated, variant.price) == (5, 0, Decimal("10.00"))


@pytest.mark.parametrize("rating", [0, 6])
def test_review_rating_check_is_enforced_by_the_database(user, rating):
    review = ReviewFactory(user=user, rating=3)

    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.filter(pk=review.pk).update(rating=rating)


def test_one_review_per_user_and_product_is_enforced_by_the_database(user):
    review = ReviewFactory(user=user)

    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(product=review.product, user=user, rating=1)


def test_available_quantity():
    variant = ProductVariantFactory(quantity_on_hand=7)
    ProductVariant.objects.filter(pk=variant.pk).update(quantity_allocated=5)
    variant.refresh_from_db()

    assert (variant.available_quantity, variant.in_stock) == (2, True)


# --- products and variants ----------------------------------------------------------------------


def test_a_product_needs_a_variant_and_keeps_its_last_active_one():
    category = CategoryFactory()
    with pytest.raises(ProductNeedsVariant):
        services.product_create(name="Empty", category=category, variants=[])

    product = ProductFactory(category=category)
    variant = product.variants.get()
    with pytest.raises(LastVariant):
        services.variant_delete(variant=variant)
    with pytest.raises(LastVariant):
        services.variant_update(variant=variant, is_active=False)
    assert ProductVariant.objects.filter(pk=variant.pk, is_active=True).exists()


def test_price_summary_ignores_inactive_variants():
    product = ProductFactory(variants=0)
    cheap = ProductVariantFactory(product=product, price=Decimal("5.00"), compare_at_price=Decimal("8.00"))
    ProductVariantFactory(product=product, price=Decimal("9.00"))

    services.variant_update(variant=cheap, is_active=False)

    product.refresh_from_db()
    assert (product.lowest_price, product.lowest_price_compare_at) == (Decimal("9.00"), None)


# --- stock for orders (shop.stock) ----------------------------------------------------------------


def _allocate(quantities):
    """As checkout does: lock the variants in pk order, then hold the quantities."""
    locked = {
        variant.pk: variant
        for variant in ProductVariant.objects.select_for_update().filter(pk__in=quantities).order_by("pk")
    }
    stock.stock_allocate(quantities=quantities, variants=locked)


def _counters():
    return list(ProductVariant.objects.order_by("pk").values_list("quantity_on_hand", "quantity_allocated"))


def test_quantities_by_variant_sums_repeats_in_pk_order():
    assert stock.quantities_by_variant([(9, 1), (3, 2), (9, 4)]) == {3: 2, 9: 5}
    assert list(stock.quantities_by_variant([(9, 1), (3, 2)])) == [3, 9]


def test_allocation_is_all_or_nothing():
    plenty = ProductVariantFactory(quantity_on_hand=10)
    scarce = ProductVariantFactory(quantity_on_hand=1)

    with pytest.raises(InsufficientStock) as refused:
        _allocate({plenty.pk: 3, scarce.pk: 2})

    assert (refused.value.code, refused.value.status_code, refused.value.attr) == (
        "insufficient_stock",
        409,
        None,  # checkout has no quantity field to point at; the cart passes attr="quantity"
    )
    assert refused.value.extra == {"variant_id": scarce.pk, "available_quantity": 1, "requested": 2}
    assert refused.value.detail == "Only 1 available."
    assert _counters() == [(10, 0), (1, 0)]


def test_allocate_release_and_ship():
    variant = ProductVariantFactory(quantity_on_hand=10)

    _allocate({variant.pk: 4})
    stock.stock_release(quantities={variant.pk: 1})
    stock.stock_ship(quantities={variant.pk: 2})

    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_allocated, variant.available_quantity) == (8, 1, 7)


def test_allocation_costs_the_same_queries_for_one_line_or_many(django_assert_num_queries):
    variants = ProductVariantFactory.create_batch(6, quantity_on_hand=5)
    locked = {variant.pk: variant for variant in variants}

    with django_assert_num_queries(1):
        stock.stock_allocate(quantities={variants[0].pk: 1}, variants=locked)
    with django_assert_num_queries(1):
        stock.stock_allocate(quantities={variant.pk: 2 for variant in variants[1:]}, variants=locked)

    assert _counters() == [(5, 1)] + [(5, 2)] * 5


@pytest.mark.parametrize("move", ["release", "ship"])
def test_releasing_or_shipping_more_than_held_is_refused_and_changes_nothing(move):
    held = ProductVariantFactory(quantity_on_hand=10, quantity_allocated=3)
    short = ProductVariantFactory(quantity_on_hand=10, quantity_allocated=1)
    function = stock.stock_release if move == "release" else stock.stock_ship

    with pytest.raises(StockInconsistent), transaction.atomic():
        function(quantities={held.pk: 2, short.pk: 2})

    assert _counters() == [(10, 3), (10, 1)]


def test_release_and_ship_skip_variants_deleted_since():
    kept = ProductVariantFactory(quantity_on_hand=10, quantity_allocated=4)
    deleted_id = kept.pk + 1000

    stock.stock_release(quantities={kept.pk: 1, deleted_id: 3})
    stock.stock_ship(quantities={kept.pk: 2, deleted_id: 3})
    stock.stock_release(quantities={deleted_id: 3})

    assert _counters() == [(8, 1)]


def test_inactive_variants_cannot_be_allocated():
    variant = ProductVariantFactory(quantity_on_hand=10, is_active=False)

    with pytest.raises(InsufficientStock) as refused:
        _allocate({variant.pk: 1})

    assert refused.value.extra == {"variant_id": variant.pk, "available_quantity": 0, "requested": 1}
    assert _counters() == [(10, 0)]


def test_a_stale_snapshot_without_lock_still_cannot_oversell():
    first = ProductVariantFactory(quantity_on_hand=5)
    second = ProductVariantFactory(quantity_on_hand=5)
    snapshot = {variant.pk: variant for variant in ProductVariant.objects.filter(pk__in=[first.pk, second.pk])}
    # Another order took four of the second variant after the snapshot was read (no lock held).
    ProductVariant.objects.filter(pk=second.pk).update(quantity_allocated=4)

    with pytest.raises(InsufficientStock) as refused, transaction.atomic():
        stock.stock_allocate(quantities={first.pk: 2, second.pk: 2}, variants=snapshot)

    assert refused.value.extra == {"variant_id": second.pk, "available_quantity": 1, "requested": 2}
    # The first variant's share of the UPDATE went with the caller's transaction.
    assert _counters() == [(5, 0), (5, 4)]


# --- purchases and reviews ----------------------------------------------------------------------


def test_recording_purchases_is_idempotent_and_skips_unknown_products(user):
    first, second = ProductFactory(), ProductFactory()
    order_id = uuid.uuid4()

    added = services.product_purchases_record(
        user=user, order_id=order_id, product_ids=[first.pk, second.pk, first.pk, 999999]
    )
    again = services.product_purchases_record(user=user, order_id=order_id, product_ids=[first.pk, second.pk])

    assert (added, again) == (2, 0)
    assert ProductPurchase.objects.filter(order_id=order_id).count() == 2
    assert services.customer_has_purchased(user=user, product=first) is True


def test_review_create_race_ends_in_one_review(user):
    product = ProductFactory()
    services.product_purchases_record(user=user, order_id=uuid.uuid4(), product_ids=[product.pk])
    services.review_create(user=user, product=product, rating=5)

    with pytest.raises(ReviewAlreadyExists):
        services.review_create(user=user, product=product, rating=1)

    product.refresh_from_db()
    assert (product.rating_average, product.rating_count) == (Decimal("5.00"), 1)
