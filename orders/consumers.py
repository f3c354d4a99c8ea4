"""`/ws/orders/<order_id>/`: an order's status, live.

Who may listen: the order's customer or staff (the JWT as in chat: `?token=` or an Authorization
header), or anyone holding the guest order's secret (`?order_token=`). On connect the socket gets
the current status; then one frame per change: `{"type": "status", "status", "order_id", "at"}`.
Close codes as in chat (after accepting, so browsers see them): 4401 no credentials, or the JWT
expired while open; 4404 no such order for these credentials (another customer's order, a wrong
token and a malformed id are the same 4404). The socket is read-only: frames sent to it are ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from core.errors import DomainError

from . import live, selectors
from .models import Order

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


def _order_for(*, order_id: str, user, order_token: str | None) -> Order | None:
    """The order these credentials open, or None. A guest's secret opens its order alone; a user
    sees their own orders, staff every order."""
    try:
        if order_token:
            return selectors.order_get_by_token(order_id=order_id, order_token=order_token)
        orders = Order.objects.all() if user.is_staff else Order.objects.filter(user=user)
        return orders.filter(pk=order_id).first()
    except (DomainError, ValueError, ValidationError):  # not found, or not a UUID
        return None


class OrderStatusConsumer(AsyncWebsocketConsumer):
    group: str | None = None
    token_watch: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        query = parse_qs(self.scope.get("query_string", b"").decode())
        order_token = (query.get("order_token") or [None])[0]
        if not order_token and (user is None or not user.is_authenticated):
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        order = await database_sync_to_async(_order_for)(
            order_id=self.scope["url_route"]["kwargs"]["order_id"], user=user, order_token=order_token
        )
        if order is None:
            await self._refuse(CLOSE_NOT_FOUND)
            return
        # Join before reading the status we send: a change in between arrives as a frame.
        self.group = live.order_group(order.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send(live.status_payload(order))
        expires_at = self.scope.get("token_expires_at")
        if not order_token and expires_at is not None:
            self.token_watch = asyncio.create_task(self._close_when_token_expires(expires_at))

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def _close_when_token_expires(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self._send({"type": "error", "code": "token_expired", "detail": "Reconnect with a fresh token."})
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code: int) -> None:
        if self.token_watch is not None:
            self.token_watch.cancel()
        if self.group is not None:
            group, self.group = self.group, None
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.warning("orders: group_discard failed", exc_info=True, extra={"group": group})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Read-only: nothing a client sends changes anything."""

    async def order_status(self, event: dict[str, Any]) -> None:
        await self._send(event["payload"])

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))
