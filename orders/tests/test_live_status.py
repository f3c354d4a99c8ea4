"""`/ws/orders/<id>/` through the project's real ASGI stack (origin check, JWT middleware, router):
who is admitted, the status on connect, a frame per change. Transactional, as in chat: the consumer
reads from other threads, and status frames are published after commit."""

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from ecommerce_api.asgi import application
from orders.models import Order, order_token_hash
from orders.services import order_cancel

from .fixtures import shop  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
TIMEOUT = 3


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    # Each test runs its own event loop; a layer kept from another test is bound to that loop.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def run(scenario):
    return async_to_sync(scenario)()


async def connect(path: str, user=None) -> WebsocketCommunicator:
    if user is not None:
        path += ("&" if "?" in path else "?") + f"token={AccessToken.for_user(user)}"
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def close_code(path: str, user=None) -> int:
    communicator = await connect(path, user)
    closing = await communicator.receive_output(timeout=TIMEOUT)
    assert closing["type"] == "websocket.close", closing
    await communicator.disconnect()
    return closing["code"]


async def frame(communicator: WebsocketCommunicator) -> dict:
    return json.loads(await communicator.receive_from(timeout=TIMEOUT))


@pytest.fixture
def order(shop, user):  # noqa: F811
    return shop.place(user)


def test_the_customer_gets_the_status_on_connect_and_on_every_change(order, user):
    async def scenario():
        socket = await connect(f"/ws/orders/{order.pk}/", user)
        first = await frame(socket)
        assert first == {
            "type": "status",
            "status": "pending_payment",
            "order_id": str(order.pk),
            "at": first["at"],
        }
        await database_sync_to_async(order_cancel)(order_id=order.pk, actor=user, reason="changed my mind")
        change = await frame(socket)
        assert (change["type"], change["status"], change["order_id"]) == ("status", "cancelled", str(order.pk))
        stored = await database_sync_to_async(Order.objects.get)(pk=order.pk)
        assert change["at"].startswith(stored.updated_at.strftime("%Y-%m-%dT%H:%M:%S"))
        assert change["at"] > first["at"]
        await socket.disconnect()

    run(scenario)


def test_staff_may_watch_any_order(order, staff_user):
    async def scenario():
        socket = await connect(f"/ws/orders/{order.pk}/", staff_user)
        assert (await frame(socket))["status"] == "pending_payment"
        await socket.disconnect()

    run(scenario)


def test_a_guest_watches_with_the_order_token_and_nothing_else(order):
    Order.objects.filter(pk=order.pk).update(user=None, guest_token_hash=order_token_hash("the-guest-secret"))

    async def scenario():
        socket = await connect(f"/ws/orders/{order.pk}/?order_token=the-guest-secret")
        assert (await frame(socket))["order_id"] == str(order.pk)
        await socket.disconnect()
        assert await close_code(f"/ws/orders/{order.pk}/?order_token=a-wrong-secret") == 4404

    run(scenario)


def test_refusals_use_the_chat_close_codes(order, other_user):
    async def scenario():
        assert await close_code(f"/ws/orders/{order.pk}/") == 4401  # no credentials
        assert await close_code(f"/ws/orders/{order.pk}/", other_user) == 4404  # another customer's
        assert await close_code("/ws/orders/not-a-uuid/", other_user) == 4404
        assert await close_code("/ws/orders/00000000-0000-0000-0000-000000000000/", other_user) == 4404

    run(scenario)


def test_frames_from_the_client_change_nothing(order, user):
    async def scenario():
        socket = await connect(f"/ws/orders/{order.pk}/", user)
        await frame(socket)
        await socket.send_to(text_data=json.dumps({"type": "status", "status": "paid"}))
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    run(scenario)
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_a_socket_closes_4401_when_its_token_expires(order, user):

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=1))

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/orders/{order.pk}/?token={token}", headers=[ORIGIN])
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await frame(socket)  # the status on connect
        assert (await frame(socket))["code"] == "token_expired"
        closing = await socket.receive_output(timeout=TIMEOUT)
        assert (closing["type"], closing["code"]) == ("websocket.close", 4401)
        await socket.disconnect()

    run(scenario)
