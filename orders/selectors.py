"""Reads of the orders app: each returns what its serializer touches, in a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Order, OrderEvent


def order_queryset() -> QuerySet[Order]:
    """Orders with their lines (one extra query for any number of orders)."""
    return Order.objects.prefetch_related("lines").order_by("-created_at", "-id")


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return OrderEvent.objects.filter(order=order).order_by("created_at", "id")
