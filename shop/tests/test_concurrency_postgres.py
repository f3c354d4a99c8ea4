"""Real concurrency on PostgreSQL: guarded updates and row locks under parallel writers."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from shop import services, stock
from shop.errors import InsufficientStock
from shop.models import Product, ProductVariant, Review
from shop.tests.factories import ProductFactory, ProductVariantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_parallel(functions):
    barrier = threading.Barrier(len(functions))
    outcomes = [None] * len(functions)

    def worker(index, function):
        try:
            barrier.wait()
            outcomes[index] = function()
        except Exception as error:  # collected and asserted by the caller
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def allocate(lines):
    """One checkout: lock the variants in pk order, then hold the merged quantities."""
    quantities = stock.quantities_by_variant(lines)
    with transaction.atomic():
        locked = {
            variant.pk: variant
            for variant in ProductVariant.objects.select_for_update().filter(pk__in=quantities).order_by("pk")
        }
        stock.stock_allocate(quantities=quantities, variants=locked)


def test_the_last_unit_is_sold_once():
    variant = ProductVariantFactory(quantity_on_hand=1)

    outcomes = run_in_parallel([lambda: allocate([(variant.pk, 1)])] * 4)

    assert sum(outcome is None for outcome in outcomes) == 1
    refusals = [outcome for outcome in outcomes if isinstance(outcome, InsufficientStock)]
    assert [refusal.extra for refusal in refusals] == [
        {"variant_id": variant.pk, "available_quantity": 0, "requested": 1}
    ] * 3
    variant.refresh_from_db()
    assert (variant.quantity_on_hand, variant.quantity_allocated) == (1, 1)


def test_orders_naming_variants_in_opposite_orders_queue_instead_of_deadlocking():
    first = ProductVariantFactory(quantity_on_hand=10)
    second = ProductVariantFactory(quantity_on_hand=12)

    outcomes = run_in_parallel(
        [
            lambda: allocate([(first.pk, 1), (second.pk, 2)]),
            lambda: allocate([(second.pk, 2), (first.pk, 1)]),
        ]
        * 3
    )

    assert outcomes == [None] * 6
    assert list(
        ProductVariant.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk").values_list("quantity_allocated")
    ) == [(6,), (12,)]


def test_parallel_reviews_leave_an_exact_rating(django_user_model):
    product = ProductFactory()
    customers = [django_user_model.objects.create_user(email=f"p{i}@example.com") for i in range(4)]
    for customer in customers:
        services.product_purchases_record(user=customer, order_id=uuid.uuid4(), product_ids=[product.pk])

    outcomes = run_in_parallel(
        [
            (
                lambda customer=customer, rating=rating: services.review_create(
                    user=customer, product=product, rating=rating
                )
            )
            for customer, rating in zip(customers, [5, 4, 2, 1], strict=True)
        ]
    )

    assert all(isinstance(outcome, Review) for outcome in outcomes)
    product = Product.objects.get(pk=product.pk)
    assert (product.rating_average, product.rating_count) == (Decimal("3.00"), 4)
    assert ProductVariant.objects.filter(product=product).count() == 1
