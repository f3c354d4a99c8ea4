"""Websocket consumers. They authenticate, admit, parse frames, call chat.services (which store
and then broadcast) and forward group events; the rules live in the services.

Refusals are sent as a close frame with an application close code AFTER accepting the handshake,
because a close before accept reaches browsers as a bare HTTP 403 without any code:
4401 not authenticated, 4403 authenticated but not allowed (non-staff on the support feed),
4404 no such conversation for this user, unknown path, or the `support_chat` flag is off.
An admitted socket lives no longer than the access token that opened it: at the token's expiry
the client gets a `token_expired` error frame and a 4401 close, and reconnects with a fresh token.
Nor does it outlive the rights it was admitted with: when the account is deactivated or its
sessions are ended (`session_ended`, 4401), or a socket that acts as an agent loses staff rights
(`rights_revoked`, 4403). Pushed through the user's group (chat/receivers.py) to idle sockets, and
re-read from the database on each frame that acts as an agent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from core.errors import DomainError

from . import events, selectors, services
from .flags import support_chat_enabled
from .models import Message
from .presence import presence_join, presence_leave, presence_touch
from .ratelimit import TokenBucket

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


async def _cache_call(function, **kwargs) -> None:
    # Presence is cache I/O only: off the event loop, and not queued behind database calls.
    await sync_to_async(function, thread_sensitive=False)(**kwargs)


class _ChatSocket(AsyncWebsocketConsumer):
    token_watch: asyncio.Task | None = None
    user_group: str | None = None
    # Set once the server has decided to close: nothing more is sent (a send after the close frame
    # would raise in the server and kill the consumer before its clean-up).
    closing = False

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.token_watch is not None:
                self.token_watch.cancel()

    async def refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def admit(self) -> None:
        """Join the user's group, accept the handshake and start watching the token's expiry."""
        # The session the token belongs to (the authentication checked that they match).
        self.session_version = getattr(self.user, "session_version", 0)
        self.user_group = events.user_group(self.user.pk)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        expires_at = self.scope.get("token_expires_at")
        if expires_at is not None:
            self.token_watch = asyncio.create_task(self._close_when_token_expires(expires_at))

    async def leave_user_group(self) -> None:
        if self.user_group is None:
            return
        group, self.user_group = self.user_group, None
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            logger.warning("chat: group_discard failed", exc_info=True, extra={"group": group})

    async def end(self, *, code: int, error_code: str, detail: str) -> None:
        """Tell the client why, leave every group and presence, and close with `code`."""
        if self.closing:
            return
        await self.send_error(error_code, detail)
        self.closing = True
        # Leave now, not at the client's close handshake: events still queued here are dropped.
        await self.disconnect(code)
        await self.close(code=code)

    async def _close_when_token_expires(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        try:
            await self.end(
                code=CLOSE_UNAUTHENTICATED,
                error_code="token_expired",
                detail="The access token expired; reconnect with a fresh one.",
            )
        except Exception:
            logger.exception("chat: closing a socket whose token expired failed")

    def acts_as_agent(self) -> bool:
        """Whether this socket relies on staff rights (the support feed, an agent in a room)."""
        return False

    async def end_unless_access_holds(self, *, active: bool, is_staff: bool, session_version: int | None) -> bool:
        """Compare the account's current state with what the socket was admitted with; close the
        socket (and answer False) when it no longer holds."""
        if not active or session_version != self.session_version:
            await self.end(
                code=CLOSE_UNAUTHENTICATED,
                error_code="session_ended",
                detail="This account was deactivated or signed out; sign in again.",
            )
            return False
        if self.acts_as_agent() and not is_staff:
            await self.end(code=CLOSE_FORBIDDEN, error_code="rights_revoked", detail="Your staff rights were removed.")
            return False
        return True

    async def agent_rights_hold(self) -> bool:
        """Re-read the account before a frame that acts as an agent: one small query, and only for
        frames that already passed their rate limit, so a stale socket cannot act with rights the
        account has lost (also when the change sent no signal)."""
        if not self.acts_as_agent():
            return True
        try:
            rights = await database_sync_to_async(selectors.user_socket_rights)(user_id=self.user.pk)
        except Exception:  # refuse this frame, keep the socket: the next one checks again
            logger.exception("chat: reading the agent's rights failed", extra={"user_id": str(self.user.pk)})
            await self.send_error("server_error", "The frame could not be processed; try again.")
            return False
        is_staff, session_version = rights if rights is not None else (False, None)
        return await self.end_unless_access_holds(
            active=rights is not None, is_staff=is_staff, session_version=session_version
        )

    async def chat_access(self, event: dict[str, Any]) -> None:
        # Pushed by chat/receivers.py after the account changed.
        await self.end_unless_access_holds(
            active=event["active"], is_staff=event["is_staff"], session_version=event["session_version"]
        )

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        if not self.closing:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))

    async def send_error(self, code: str, detail: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})

    async def admit_user(self) -> bool:
        """Common gate: an authenticated user and the flag on for them; refuses otherwise."""
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return False
        if not await database_sync_to_async(support_chat_enabled)(user=self.user):
            await self.refuse(CLOSE_NOT_FOUND)
            return False
        return True

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def chat_conversation(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "conversation", "event": event["event"], "conversation": event["conversation"]})


class ConversationConsumer(_ChatSocket):
    """`/ws/chat/<conversation_id>/`: the conversation's customer and staff."""

    conversation_id: UUID | None = None
    room: str | None = None
    role: str | None = None

    async def connect(self) -> None:
        if not await self.admit_user():
            return
        try:
            conversation_id = UUID(self.scope["url_route"]["kwargs"]["conversation_id"])
        except ValueError:
            await self.refuse(CLOSE_NOT_FOUND)
            return
        conversation = await database_sync_to_async(selectors.conversation_get_for_member)(
            viewer=self.user, conversation_id=conversation_id
        )
        if conversation is None:  # unknown, or another customer's: indistinguishable on purpose
            await self.refuse(CLOSE_NOT_FOUND)
            return
        self.role = services.conversation_role_of(conversation=conversation, user=self.user)
        self.conversation_id = conversation.pk
        self.room = events.conversation_group(conversation.pk)
        self.bucket = TokenBucket(
            capacity=settings.CHAT_WS_RATE_LIMIT_MESSAGES, period=settings.CHAT_WS_RATE_LIMIT_SECONDS
        )
        self.last_typing_at = float("-inf")
        await self.channel_layer.group_add(self.room, self.channel_name)
        await _cache_call(presence_join, conversation_id=self.conversation_id, user_id=self.user.pk)
        await self.admit()

    def acts_as_agent(self) -> bool:
        return self.role == Message.SenderRole.AGENT

    async def disconnect(self, code: int) -> None:
        await self.leave_user_group()
        if self.room is None:
            return
        room, self.room = self.room, None
        # Presence first: a channel-layer hiccup must not leave the customer "connected" (and
        # unemailed) until the presence key expires. A missed discard only costs the layer a
        # few undeliverable messages until the group membership expires.
        await _cache_call(presence_leave, conversation_id=self.conversation_id, user_id=self.user.pk)
        try:
            await self.channel_layer.group_discard(room, self.channel_name)
        except Exception:
            logger.warning("chat: group_discard failed", exc_info=True, extra={"group": room})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.room is None:
            return
        await _cache_call(presence_touch, conversation_id=self.conversation_id, user_id=self.user.pk)
        if text_data is None:
            await self.send_error("invalid_frame", "Send JSON text frames.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error("invalid_json", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error("invalid_frame", 'A frame is a JSON object with a "type".')
            return
        handler = {"message": self.on_message, "typing": self.on_typing, "read": self.on_read}.get(frame["type"])
        if handler is None:
            await self.send_error("unknown_type", 'Known types: "message", "typing", "read".')
            return
        await handler(frame)

    async def _within_rate_limit(self) -> bool:
        if self.bucket.take():
            return True
        await self.send_error(
            "rate_limited",
            "Too many messages; slow down.",
            retry_after=round(self.bucket.retry_after(), 2),
        )
        return False

    async def _call_service(self, service, **kwargs) -> Any:
        try:
            return await database_sync_to_async(service)(**kwargs)
        except DomainError as error:
            await self.send_error(error.code, error.detail, **error.extra)
        except Exception:
            logger.exception("chat: frame failed", extra={"conversation_id": str(self.conversation_id)})
            await self.send_error("server_error", "The frame could not be processed; try again.")
        return None

    async def on_message(self, frame: dict[str, Any]) -> None:
        body = frame.get("body", "")
        if not isinstance(body, str):
            await self.send_error("invalid_frame", '"body" must be a string.')
            return
        if not await self._within_rate_limit() or not await self.agent_rights_hold():
            return
        # Stored (and committed) by the service first; the broadcast, echo included, follows.
        await self._call_service(
            services.message_send, conversation_id=self.conversation_id, sender=self.user, body=body
        )

    async def on_read(self, frame: dict[str, Any]) -> None:
        try:
            message_id = UUID(str(frame.get("message_id")))
        except ValueError:
            await self.send_error("invalid_frame", '"message_id" must be a message id.')
            return
        if not await self._within_rate_limit() or not await self.agent_rights_hold():
            return
        await self._call_service(
            services.messages_mark_read,
            conversation_id=self.conversation_id,
            reader=self.user,
            up_to_message_id=message_id,
        )

    async def on_typing(self, frame: dict[str, Any]) -> None:
        # Typing costs no database work; extra notices within the interval are dropped silently.
        now = time.monotonic()
        if now - self.last_typing_at < settings.CHAT_TYPING_MIN_INTERVAL_SECONDS:
            return
        self.last_typing_at = now
        if not await self.agent_rights_hold():  # at most once per interval, like the relay
            return
        name = (
            events.agent_display_name(self.user)
            if self.role == Message.SenderRole.AGENT
            else events.customer_display_name(self.user)
        )
        await self.channel_layer.group_send(
            self.room,
            {
                "type": "chat.typing",
                "conversation_id": str(self.conversation_id),
                "user": {"id": str(self.user.pk), "name": name, "role": self.role},
                "sender_channel": self.channel_name,
            },
        )

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["sender_channel"] == self.channel_name:
            return
        await self.send_json({"type": "typing", "conversation_id": event["conversation_id"], "user": event["user"]})

    async def chat_read(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "read",
                "conversation_id": event["conversation_id"],
                "message_id": event["message_id"],
                "reader": event["reader"],
                "read_at": event["read_at"],
            }
        )


class SupportFeedConsumer(_ChatSocket):
    """`/ws/support/`: staff only; every new conversation, assignment, closure and message."""

    joined = False

    async def connect(self) -> None:
        if not await self.admit_user():
            return
        if not (self.user.is_staff and self.user.is_active):
            await self.refuse(CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(events.SUPPORT_GROUP, self.channel_name)
        self.joined = True
        await self.admit()

    def acts_as_agent(self) -> bool:
        return True

    async def disconnect(self, code: int) -> None:
        await self.leave_user_group()
        if self.joined:
            self.joined = False
            await self.channel_layer.group_discard(events.SUPPORT_GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.joined:
            await self.send_error(
                "unknown_type", "The support feed only sends; talk in a conversation at /ws/chat/<id>/."
            )


class UnknownRouteConsumer(AsyncWebsocketConsumer):
    """Any other websocket path: refused with 4404 instead of an error in the server log."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)
