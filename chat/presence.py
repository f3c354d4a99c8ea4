"""Who has a chat socket open, counted per (conversation, user) in the shared cache.

Each open socket adds one to the counter when it joins and takes one away when it leaves. The key
expires CHAT_PRESENCE_TTL_SECONDS after the user's last sign of life (joining, or a frame sent on
the socket), so a server that dies without running `leave` cannot mark someone present forever,
and a user silent for that long counts as away. Across several server processes this needs a
shared cache (Redis); with the local-memory cache it only sees the sockets of its own process.
If the cache is down, nobody is present (the safe side: the customer gets the email).
"""

from __future__ import annotations

import contextlib
from uuid import UUID

from django.conf import settings
from django.core.cache import cache


def _key(conversation_id: UUID, user_id: UUID) -> str:
    return f"chat:presence:{conversation_id}:{user_id}"


def presence_join(*, conversation_id: UUID, user_id: UUID) -> None:
    key = _key(conversation_id, user_id)
    ttl = settings.CHAT_PRESENCE_TTL_SECONDS
    cache.add(key, 0, ttl)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, ttl)
    cache.touch(key, ttl)


def presence_touch(*, conversation_id: UUID, user_id: UUID) -> None:
    key = _key(conversation_id, user_id)
    ttl = settings.CHAT_PRESENCE_TTL_SECONDS
    if not cache.touch(key, ttl):
        # Expired while this socket sat idle: it is alive after all, count it again.
        cache.add(key, 1, ttl)


def presence_leave(*, conversation_id: UUID, user_id: UUID) -> None:
    # Never delete at zero: a socket joining at the same moment would lose its count.
    key = _key(conversation_id, user_id)
    with contextlib.suppress(ValueError):  # already expired
        remaining = cache.decr(key)
        if remaining is not None and remaining < 0:
            # More leaves than joins since the key last expired. Adding the deficit back (rather
            # than setting 0) keeps any join that landed in between.
            cache.incr(key, -remaining)


def presence_is_connected(*, conversation_id: UUID, user_id: UUID) -> bool:
    return (cache.get(_key(conversation_id, user_id)) or 0) > 0
