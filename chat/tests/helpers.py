"""Listening to channel-layer groups from synchronous tests."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


class GroupListener:
    """A channel subscribed to groups, so a test can read what services broadcast. Drain it once:
    its queue belongs to the event loop that first waits on it, and each drain runs in a new loop."""

    def __init__(self, *groups: str) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        for group in groups:
            async_to_sync(self.layer.group_add)(group, self.channel)

    def drain(self, timeout: float = 0.3) -> list[dict]:
        async def collect() -> list[dict]:
            received = []
            while True:
                try:
                    received.append(await asyncio.wait_for(self.layer.receive(self.channel), timeout))
                except TimeoutError:
                    return received

        return async_to_sync(collect)()
