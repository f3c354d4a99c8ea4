"""Live order status over websockets: what is published, and to which group.

Every status change (`orders.services._transition`, the only status writer) publishes after its
transaction commits, to one group per order; `/ws/orders/<id>/` (orders/consumers.py) listens.
A channel-layer outage is logged, never raised: the status is stored and the REST order shows it.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from rest_framework.fields import DateTimeField

from .models import Order

logger = logging.getLogger(__name__)


# Datetimes rendered as the REST API renders them, so a socket and a GET agree to the character.
_as_rest = DateTimeField().to_representation


def order_group(order_id: UUID | str) -> str:
    return f"orders.order.{UUID(str(order_id)).hex}"


def status_payload(order: Order) -> dict[str, Any]:
    return {"type": "status", "status": order.status, "order_id": str(order.pk), "at": _as_rest(order.updated_at)}


def status_publish(payload: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(
            order_group(payload["order_id"]), {"type": "order.status", "payload": payload}
        )
    except Exception:
        logger.exception("orders: could not publish a status change", extra={"order_id": payload["order_id"]})


def status_publish_on_commit(order: Order) -> None:
    payload = status_payload(order)  # as of this change, whatever happens to `order` before commit
    transaction.on_commit(lambda: status_publish(payload))
