"""Stock held by orders, on `shop.ProductVariant`:

- allocate (order placed): `quantity_allocated += q` where `on_hand - allocated >= q`;
- release (order cancelled or expired): `quantity_allocated -= q`;
- ship (order shipped): the allocation leaves the warehouse, `on_hand -= q` and `allocated -= q`.

Each is ONE guarded UPDATE over all the order's variants whatever the number of lines (a CASE per
variant), and the row count is checked: a row whose guard fails is not updated, so a short count
means another order got there first and the caller's transaction is rolled back. The variant rows
are locked in ascending pk (the one lock order of the shop) before any UPDATE, so two orders
touching the same variants queue instead of deadlocking: checkout (`orders.services.order_place`)
locks them with its cart lines (`select_for_update(of=("variant",))` ordered by variant) and passes
them to `stock_allocate`; release and ship lock them here (`_lock_existing`). The CHECK constraints
on the variant (`0 <= allocated <= on_hand`) are the last line of defence.

No move invalidates the catalog cache: cached pages overlay `in_stock` and `available_quantity` from
a fresh query on every read, and the few pages that depend on stock (the `in_stock` filter, facet
counts) live `STOCK_CACHE_SECONDS` at most (shop.cache). A sale therefore never empties the cache.
Staff counts (`stock_set`, `stock_adjust`) stay in `shop.services`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Value, When

from shop.errors import InsufficientStock, StockInconsistent
from shop.models import ProductVariant


def quantities_by_variant(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Merge (variant_id, quantity) pairs; a variant appearing twice is held once for the sum."""
    merged: dict[int, int] = {}
    for variant_id, quantity in lines:
        merged[variant_id] = merged.get(variant_id, 0) + quantity
    return dict(sorted(merged.items()))


def _lock_existing(quantities: Mapping[int, int]) -> set[int]:
    """Lock the variants still in the catalog, in pk order; deleted ones are skipped by callers."""
    locked = (
        ProductVariant.objects.select_for_update()
        .filter(pk__in=sorted(quantities))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return set(locked)


def _delta(quantities: Mapping[int, int]) -> Case:
    return Case(
        *(When(pk=variant_id, then=Value(quantity)) for variant_id, quantity in quantities.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def _guarded(quantities: Mapping[int, int], guard) -> Q:
    return reduce(or_, (Q(pk=variant_id) & guard(quantity) for variant_id, quantity in quantities.items()))


def _refuse_first_shortfall(quantities: Mapping[int, int], variants: Mapping[int, ProductVariant]) -> None:
    """Raise `InsufficientStock` for the first variant (pk order) that cannot cover its quantity;
    a variant missing from `variants` or inactive has nothing available."""
    for variant_id, quantity in quantities.items():
        variant = variants.get(variant_id)
        available = variant.available_quantity if variant is not None and variant.is_active else 0
        if available < quantity:
            raise InsufficientStock(variant_id=variant_id, available_quantity=available, requested=quantity)


def stock_allocate(*, quantities: Mapping[int, int], variants: Mapping[int, ProductVariant]) -> None:
    """Hold `quantities` for an order; all or nothing. `variants` are the rows locked by the caller,
    used to name the first variant that falls short; that refusal writes nothing and leaves the
    caller's transaction usable."""
    if not quantities:
        return
    _refuse_first_shortfall(quantities, variants)
    # No savepoint (checkout's query budget): a short count dooms the caller's transaction, so a
    # partial UPDATE is never committed.
    with transaction.atomic(savepoint=False):
        updated = ProductVariant.objects.filter(
            _guarded(
                quantities,
                lambda quantity: Q(is_active=True, quantity_on_hand__gte=F("quantity_allocated") + quantity),
            )
        ).update(quantity_allocated=F("quantity_allocated") + _delta(quantities))
        if updated != len(quantities):
            # Unreachable while callers hold the row locks; kept so a missing lock fails loudly, not
            # oversells. Best effort naming: rows the UPDATE did hold already show less available.
            current = ProductVariant.objects.in_bulk(list(quantities))
            _refuse_first_shortfall(quantities, current)
            variant_id, quantity = next(iter(quantities.items()))
            available = current[variant_id].available_quantity if variant_id in current else 0
            raise InsufficientStock(variant_id=variant_id, available_quantity=available, requested=quantity)


# Release and ship run inside the caller's transaction without a savepoint of their own: a
# `StockInconsistent` must roll the whole cancel or shipment back, never be caught and skipped.
@transaction.atomic(savepoint=False)
def stock_release(*, quantities: Mapping[int, int]) -> None:
    """Give back what a cancelled or expired order held. Variants deleted since are skipped."""
    if not quantities:
        return
    existing = _lock_existing(quantities)
    held = {variant_id: quantity for variant_id, quantity in quantities.items() if variant_id in existing}
    if not held:
        return
    updated = ProductVariant.objects.filter(
        _guarded(held, lambda quantity: Q(quantity_allocated__gte=quantity))
    ).update(quantity_allocated=F("quantity_allocated") - _delta(held))
    if updated != len(held):
        raise StockInconsistent()


@transaction.atomic(savepoint=False)
def stock_ship(*, quantities: Mapping[int, int]) -> None:
    """The held units leave the warehouse: on hand and allocated both drop by the quantity."""
    if not quantities:
        return
    existing = _lock_existing(quantities)
    held = {variant_id: quantity for variant_id, quantity in quantities.items() if variant_id in existing}
    if not held:
        return
    delta = _delta(held)
    updated = ProductVariant.objects.filter(
        _guarded(held, lambda quantity: Q(quantity_allocated__gte=quantity, quantity_on_hand__gte=quantity))
    ).update(quantity_allocated=F("quantity_allocated") - delta, quantity_on_hand=F("quantity_on_hand") - delta)
    if updated != len(held):
        raise StockInconsistent()
