"""Periodic housekeeping for carts (scheduled in ecommerce_api/schedule.py)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from .services import cart_delete_expired

logger = logging.getLogger(__name__)


@shared_task(
    name="cart.tasks.cart_delete_expired_anonymous",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def cart_delete_expired_anonymous() -> int:
    """Delete anonymous carts idle for CART_INACTIVITY_DAYS. Safe to run twice: a second run finds
    nothing left to delete."""
    removed = cart_delete_expired()
    logger.info("deleted expired anonymous carts", extra={"count": removed})
    return removed
