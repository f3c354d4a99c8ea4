"""Reads of the orders app: each returns what its serializer touches, in a fixed number of queries."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from .models import Order, OrderEvent


def order_queryset() -> QuerySet[Order]:
    """Orders with their lines (one extra query for any number of orders)."""
    return Order.objects.prefetch_related("lines").order_by("-created_at", "-id")


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).order_by("created_at", "id")


def order_get_by_token(*, order_id: object, order_token: str | None, queryset: QuerySet[Order] | None = None) -> Order:
    """The order a guest's secret opens. A wrong or missing token, a malformed id and an order
    without a token are all the same 404, so nobody learns that an order exists. The stored hash
    is compared in constant time."""
    from .errors import OrderNotFound

    if not order_token:
        raise OrderNotFound()
    try:
        order = (queryset if queryset is not None else Order.objects.all()).filter(pk=order_id).first()
    except (ValueError, ValidationError):
        order = None
    if order is None or not order.order_token_matches(order_token):
        raise OrderNotFound()
    return order
