"""The Redis channel layer as configured in settings: a closed socket's pending receive must end when
it is cancelled. With a socket timeout, redis-py sends through asyncio.wait_for, which on Python
3.11 can swallow a cancellation that lands as a send completes; the receive then polls Redis
forever (seen as a hung event-loop shutdown in CI)."""

import asyncio
import random
import socket

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.redis

CANCELLED_RECEIVES = 400


def test_channel_layer_connections_have_no_socket_timeout_but_keepalive():
    """What finds a dead Redis instead of a socket timeout, read off a real connection's socket."""
    (host,) = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    assert host["socket_timeout"] is None

    async def socket_options():
        client = get_channel_layer().connection(0)
        await client.ping()
        connection = await client.connection_pool.get_connection()
        try:
            sock = connection._writer.get_extra_info("socket")
            return {
                name: sock.getsockopt(level, getattr(socket, name))
                for level, name in [
                    (socket.SOL_SOCKET, "SO_KEEPALIVE"),
                    (socket.IPPROTO_TCP, "TCP_KEEPIDLE"),
                    (socket.IPPROTO_TCP, "TCP_KEEPINTVL"),
                    (socket.IPPROTO_TCP, "TCP_KEEPCNT"),
                    (socket.IPPROTO_TCP, "TCP_USER_TIMEOUT"),
                ]
                if hasattr(socket, name)
            }
        finally:
            await client.connection_pool.release(connection)

    expected = {"SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 10, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3, "TCP_USER_TIMEOUT": 30_000}
    applied = async_to_sync(socket_options)()
    # Platforms without one of the TCP options (not Linux) simply lack it; SO_KEEPALIVE is everywhere.
    assert applied == {name: value for name, value in expected.items() if name in applied}


def test_cancelled_receives_always_end():
    layer = get_channel_layer()
    rng = random.Random(20261123)
    stuck = []

    async def scenario():
        for attempt in range(CANCELLED_RECEIVES):
            channel = await layer.new_channel()
            receive = asyncio.ensure_future(layer.receive(channel))
            # Cancel at a different point of the receive's Redis round trips each time.
            await asyncio.sleep(rng.random() * 0.004)
            receive.cancel()
            done, _ = await asyncio.wait([receive], timeout=2)
            if not done:
                stuck.append(attempt)
                # Cancel again (one more usually lands), so the failure is this assertion and not a
                # hung event-loop shutdown.
                receive.cancel()
                await asyncio.wait([receive], timeout=2)
                return

    async_to_sync(scenario)()
    assert stuck == [], f"a cancelled receive kept running (attempt {stuck})"
