"""End to end: the project's real ASGI application served by uvicorn on a local port, real
websocket clients (the `websockets` library) for a customer and an agent, channels-redis between
them, and the database the server threads write to."""

import asyncio
import json

import pytest
import requests
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect

from chat.models import Message
from ecommerce_api.asgi import application
from tests.support.live_server import LiveAsgiServer

from .factories import ConversationFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_server_db(monkeypatch):
    # The server's worker threads open their own connections; close them after every call so
    # none is left behind when the test database is flushed.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)


def test_customer_and_agent_talk_through_a_real_server(chat_on, live_server_db, user, staff_user):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    conversation = ConversationFactory(customer=user)
    customer_token = str(AccessToken.for_user(user))
    agent_token = str(AccessToken.for_user(staff_user))

    async def next_event(ws, kind: str) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            if frame["type"] == kind:
                return frame

    async def scenario(base: str, origin: str) -> dict:
        path = f"/ws/chat/{conversation.pk}/"
        async with (
            connect(f"ws://{base}{path}?token={customer_token}", origin=origin) as customer,
            connect(
                f"ws://{base}{path}", origin=origin, additional_headers={"Authorization": f"Bearer {agent_token}"}
            ) as agent,
        ):
            await customer.send(json.dumps({"type": "message", "body": "Hello, is anyone there?"}))
            question_at_agent = await next_event(agent, "message")
            question_echo = await next_event(customer, "message")

            await agent.send(json.dumps({"type": "typing"}))
            typing_at_customer = await next_event(customer, "typing")
            await agent.send(json.dumps({"type": "message", "body": "Yes, how can I help?"}))
            answer_at_customer = await next_event(customer, "message")
            await next_event(agent, "message")

            # A client without websockets posts over HTTP to the same server; the room hears it.
            response = await asyncio.to_thread(
                requests.post,
                f"http://{base}/api/v1/chat/conversations/{conversation.pk}/messages/",
                json={"body": "Sent over REST"},
                headers={"Authorization": f"Bearer {customer_token}"},
                timeout=10,
            )
            rest_at_agent = await next_event(agent, "message")

            await customer.send(json.dumps({"type": "read", "message_id": answer_at_customer["message"]["id"]}))
            receipt_at_agent = await next_event(agent, "read")
        return {
            "question_at_agent": question_at_agent,
            "question_echo": question_echo,
            "typing_at_customer": typing_at_customer,
            "answer_at_customer": answer_at_customer,
            "rest_status": response.status_code,
            "rest_at_agent": rest_at_agent,
            "receipt_at_agent": receipt_at_agent,
        }

    with LiveAsgiServer(application) as server:
        seen = asyncio.run(scenario(f"127.0.0.1:{server.port}", origin=f"http://127.0.0.1:{server.port}"))

    stored = list(
        Message.objects.order_by("created_at").values_list("id", "body", "sender_id", "sender_role", "read_at")
    )
    assert [(body, sender, role) for _, body, sender, role, _ in stored] == [
        ("Hello, is anyone there?", user.pk, "customer"),
        ("Yes, how can I help?", staff_user.pk, "agent"),
        ("Sent over REST", user.pk, "customer"),
    ]
    question_id, answer_id, rest_id = (str(row[0]) for row in stored)
    assert seen["question_at_agent"] == seen["question_echo"]
    assert seen["question_at_agent"]["message"]["id"] == question_id
    assert seen["question_at_agent"]["message"]["sender"]["role"] == "customer"
    assert seen["typing_at_customer"]["user"] == {"id": str(staff_user.pk), "name": "Support", "role": "agent"}
    assert seen["answer_at_customer"]["message"]["id"] == answer_id
    assert seen["answer_at_customer"]["message"]["body"] == "Yes, how can I help?"
    assert seen["rest_status"] == 201
    assert seen["rest_at_agent"]["message"]["id"] == rest_id
    assert seen["receipt_at_agent"]["message_id"] == answer_id
    assert stored[1][4] is not None  # the agent's answer is marked read by the customer


def test_an_idle_socket_survives_the_redis_read_timeout(chat_on, live_server_db, user, staff_user):
    """channels-redis waits for group messages with a blocking Redis pop of 5 s; redis-py's default
    socket timeout is also 5 s, and when it wins the race the consumer dies. The layer's hosts
    carry no socket timeout (settings; TCP keepalive finds a dead Redis), so a quiet room stays open."""
    conversation = ConversationFactory(customer=user)
    customer_token = str(AccessToken.for_user(user))
    agent_token = str(AccessToken.for_user(staff_user))

    async def scenario(base: str, origin: str) -> dict:
        path = f"ws://{base}/ws/chat/{conversation.pk}/"
        async with (
            connect(f"{path}?token={customer_token}", origin=origin) as customer,
            connect(f"{path}?token={agent_token}", origin=origin) as agent,
        ):
            await asyncio.sleep(12)  # more than two blocking pops with nothing to receive
            await agent.send(json.dumps({"type": "message", "body": "still there?"}))
            return json.loads(await asyncio.wait_for(customer.recv(), timeout=10))

    with LiveAsgiServer(application) as server:
        frame = asyncio.run(scenario(f"127.0.0.1:{server.port}", origin=f"http://127.0.0.1:{server.port}"))

    assert frame["type"] == "message"
    assert frame["message"]["body"] == "still there?"
