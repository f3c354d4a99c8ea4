"""The websocket side through Channels' WebsocketCommunicator and the project's real ASGI stack
(origin check, JWT middleware, router). Transactional: consumers reach the database from other
threads, which must see committed data."""

import contextlib
import json
import time
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from account.models import User
from account.tokens import tokens_for_user, user_refresh_tokens_revoke
from chat import consumers, events
from chat.models import Conversation, Message
from chat.presence import presence_is_connected
from ecommerce_api.asgi import application

from .factories import ConversationFactory, MessageFactory, StaffFactory, UserFactory
from .helpers import GroupListener

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
TIMEOUT = 3


def run(scenario):
    """Run an async scenario; database calls made through database_sync_to_async stay on this thread."""
    return async_to_sync(scenario)()


def token(user) -> str:
    return str(AccessToken.for_user(user))


def chat_path(conversation) -> str:
    return f"/ws/chat/{conversation.pk}/"


async def open_socket(path: str, user=None, *, via: str = "query", origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if user is not None and via == "query":
        path = f"{path}?token={token(user)}"
    elif user is not None:
        headers.append((b"authorization", f"{via} {token(user)}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def admitted(path: str, user=None, **kwargs) -> WebsocketCommunicator:
    """Open a socket and prove it was admitted with a round trip: an admitted socket answers a frame
    of an unknown type with an `unknown_type` error (no database work), a refused one is closed."""
    communicator = await open_socket(path, user, **kwargs)
    await communicator.send_json_to({"type": "probe"})
    answer = await communicator.receive_output(timeout=TIMEOUT)
    assert answer["type"] == "websocket.send", f"expected an admitted socket, got {answer}"
    assert json.loads(answer["text"])["code"] == "unknown_type"
    return communicator


async def close_code(path: str, user=None, **kwargs) -> int:
    communicator = await open_socket(path, user, **kwargs)
    closing = await communicator.receive_output(timeout=TIMEOUT)
    assert closing["type"] == "websocket.close"
    await communicator.disconnect()  # what the client's side of the close handshake sends
    return closing["code"]


async def next_frame(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=TIMEOUT)


# --- authentication and membership -------------------------------------------------------------


def test_unauthenticated_sockets_are_closed_4401(chat_on, user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        assert await close_code(chat_path(conversation)) == consumers.CLOSE_UNAUTHENTICATED
        assert await close_code(f"{chat_path(conversation)}?token=not-a-jwt") == consumers.CLOSE_UNAUTHENTICATED
        assert await close_code("/ws/support/") == consumers.CLOSE_UNAUTHENTICATED

    run(scenario)


def test_inactive_user_token_is_4401(chat_on, user):
    conversation = ConversationFactory(customer=user)
    stale = token(user)
    user.is_active = False
    user.save()

    async def scenario():
        return await close_code(f"{chat_path(conversation)}?token={stale}")

    assert run(scenario) == consumers.CLOSE_UNAUTHENTICATED


@pytest.mark.parametrize("via", ["query", "Bearer", "Token"])
def test_customer_and_staff_are_admitted_with_query_or_header_token(chat_on, user, staff_user, via):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        for member in (user, staff_user):
            communicator = await admitted(chat_path(conversation), member, via=via)
            await communicator.disconnect()

    run(scenario)


def test_non_members_get_4404_whether_or_not_the_conversation_exists(chat_on, user, other_user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        return [
            await close_code(chat_path(conversation), other_user),
            await close_code(f"/ws/chat/{uuid.uuid4()}/", other_user),
            await close_code("/ws/chat/42/", user),
            await close_code("/ws/elsewhere/", user),
        ]

    assert run(scenario) == [consumers.CLOSE_NOT_FOUND] * 4


def test_support_feed_is_staff_only(chat_on, user, staff_user):
    async def scenario():
        assert await close_code("/ws/support/", user) == consumers.CLOSE_FORBIDDEN
        communicator = await admitted("/ws/support/", staff_user)
        await communicator.disconnect()

    run(scenario)


def test_flag_off_refuses_every_socket_with_4404(chat_off, user, staff_user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        return [
            await close_code(chat_path(conversation), user),
            await close_code(chat_path(conversation), staff_user),
            await close_code("/ws/support/", staff_user),
        ]

    assert run(scenario) == [consumers.CLOSE_NOT_FOUND] * 3


@pytest.mark.parametrize("origin", [None, (b"origin", b"http://evil.example.com")])
def test_foreign_or_missing_origin_is_refused_at_the_handshake(chat_on, user, origin):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"{chat_path(conversation)}?token={token(user)}", headers=[origin] if origin else []
        )
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        return connected

    assert run(scenario) is False


@pytest.mark.parametrize("feed", [False, True])
def test_a_socket_closes_with_4401_when_its_token_expires(chat_on, user, staff_user, feed):
    conversation = ConversationFactory(customer=user)
    path, member = ("/ws/support/", staff_user) if feed else (chat_path(conversation), user)
    short_lived = AccessToken.for_user(member)
    short_lived.set_exp(lifetime=timedelta(seconds=5))  # exp is whole seconds: 4 to 5 s from now
    expires_at = short_lived["exp"]

    async def scenario():
        communicator = WebsocketCommunicator(application, f"{path}?token={short_lived}", headers=[ORIGIN])
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        error = await communicator.receive_json_from(timeout=10)
        error_at = time.time()
        closing = await communicator.receive_output(timeout=TIMEOUT)
        # Cleaned up at expiry, before the client's side of the close handshake.
        present = presence_is_connected(conversation_id=conversation.pk, user_id=user.pk)
        await communicator.disconnect()
        return error["code"], error_at, closing, present

    code, error_at, closing, present = run(scenario)
    assert code == "token_expired"
    assert expires_at - 0.05 <= error_at < expires_at + 3, "closed before the token expired, or long after"
    assert closing == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}
    assert present is False


# --- the protocol ------------------------------------------------------------------------------


def test_message_is_stored_then_delivered_to_customer_and_agent(chat_on, user, staff_user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        agent = await admitted(chat_path(conversation), staff_user, via="Bearer")

        await customer.send_json_to({"type": "message", "body": "  My parcel is late  "})
        at_agent = await next_frame(agent)
        echo = await next_frame(customer)
        # Delivered means committed: the row is there the moment the frame arrives.
        stored = await database_sync_to_async(Message.objects.get)(pk=at_agent["message"]["id"])

        await agent.send_json_to({"type": "message", "body": "Looking into it"})
        reply_at_customer = await next_frame(customer)
        reply_echo = await next_frame(agent)
        await customer.disconnect()
        await agent.disconnect()
        return at_agent, echo, stored, reply_at_customer, reply_echo

    at_agent, echo, stored, reply_at_customer, reply_echo = run(scenario)

    assert at_agent == echo
    assert at_agent == {"type": "message", "message": events.message_payload(stored)}
    assert at_agent["message"]["body"] == "My parcel is late"
    assert at_agent["message"]["sender"] == {"id": str(user.pk), "name": "Cam", "role": "customer"}
    assert reply_at_customer == reply_echo
    assert reply_at_customer["message"]["sender"] == {"id": str(staff_user.pk), "name": "Support", "role": "agent"}
    assert list(Message.objects.order_by("created_at").values_list("body", "sender_role")) == [
        ("My parcel is late", "customer"),
        ("Looking into it", "agent"),
    ]
    conversation.refresh_from_db()
    assert conversation.last_message_at == Message.objects.get(body="Looking into it").created_at


def test_typing_reaches_the_others_only_and_is_coalesced(chat_on, user, staff_user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        agent = await admitted(chat_path(conversation), staff_user)
        await customer.send_json_to({"type": "typing"})
        await customer.send_json_to({"type": "typing"})  # within the interval: dropped
        notice = await next_frame(agent)
        agent_got_one = await agent.receive_nothing(timeout=0.2)
        customer_got_none = await customer.receive_nothing(timeout=0.2)
        await customer.disconnect()
        await agent.disconnect()
        return notice, agent_got_one, customer_got_none

    notice, agent_got_one, customer_got_none = run(scenario)

    assert notice == {
        "type": "typing",
        "conversation_id": str(conversation.pk),
        "user": {"id": str(user.pk), "name": "Cam", "role": "customer"},
    }
    assert agent_got_one is True
    assert customer_got_none is True
    assert Message.objects.count() == 0


def test_read_receipt_is_stored_and_broadcast(chat_on, user, staff_user):
    conversation = ConversationFactory(customer=user)
    question = MessageFactory(conversation=conversation)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        agent = await admitted(chat_path(conversation), staff_user)
        await agent.send_json_to({"type": "read", "message_id": str(question.pk)})
        at_customer = await next_frame(customer)
        at_agent = await next_frame(agent)
        await customer.disconnect()
        await agent.disconnect()
        return at_customer, at_agent

    at_customer, at_agent = run(scenario)

    question.refresh_from_db()
    assert question.read_at is not None
    assert (
        at_customer
        == at_agent
        == {
            "type": "read",
            "conversation_id": str(conversation.pk),
            "message_id": str(question.pk),
            "reader": {"id": str(staff_user.pk), "role": "agent"},
            "read_at": events.iso(question.read_at),
        }
    )


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"body": "no type"}', "invalid_frame"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": "message"}', "message_empty"),
        ('{"type": "message", "body": "   "}', "message_empty"),
        ('{"type": "message", "body": 42}', "invalid_frame"),
        (json.dumps({"type": "message", "body": "x" * 21}), "message_too_long"),
        ('{"type": "read", "message_id": "nope"}', "invalid_frame"),
        (json.dumps({"type": "read", "message_id": str(uuid.UUID(int=7))}), "message_not_found"),
    ],
)
def test_bad_frames_get_an_error_and_change_nothing(chat_on, chat_settings, user, frame, code):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        await customer.send_to(text_data=frame)
        error = await next_frame(customer)
        # the socket stays usable after an error
        await customer.send_json_to({"type": "message", "body": "still here"})
        after = await next_frame(customer)
        await customer.disconnect()
        return error, after

    error, after = run(scenario)

    assert error["type"] == "error"
    assert error["code"] == code
    assert isinstance(error["detail"], str)
    assert error["detail"]
    assert after["message"]["body"] == "still here"
    assert list(Message.objects.values_list("body", flat=True)) == ["still here"]


def test_binary_frames_are_refused(chat_on, user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        await customer.send_to(bytes_data=b'{"type": "message", "body": "hi"}')
        error = await next_frame(customer)
        await customer.disconnect()
        return error

    assert run(scenario)["code"] == "invalid_frame"
    assert Message.objects.count() == 0


def test_too_long_error_names_the_limit(chat_on, chat_settings, user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        await customer.send_json_to({"type": "message", "body": "x" * 25})
        error = await next_frame(customer)
        await customer.disconnect()
        return error

    assert run(scenario) == {
        "type": "error",
        "code": "message_too_long",
        "detail": "The message body is 25 characters long; the limit is 20.",
        "max_length": 20,
    }


def test_rate_limit_is_per_connection(chat_on, user, settings):
    settings.CHAT_WS_RATE_LIMIT_MESSAGES = 3
    settings.CHAT_WS_RATE_LIMIT_SECONDS = 60
    conversation = ConversationFactory(customer=user)

    async def scenario():
        first = await admitted(chat_path(conversation), user)
        second = await admitted(chat_path(conversation), user)
        frames = []
        for i in range(4):
            await first.send_json_to({"type": "message", "body": f"burst {i}"})
            frames.append(await next_frame(first))
        await second.send_json_to({"type": "message", "body": "other socket"})
        # `second` also hears the first socket's three messages; the fourth frame is its own
        for _ in range(3):
            await next_frame(second)
        from_second = await next_frame(second)
        await first.disconnect()
        await second.disconnect()
        return frames, from_second

    frames, from_second = run(scenario)

    assert [frame["type"] for frame in frames] == ["message", "message", "message", "error"]
    assert frames[3]["code"] == "rate_limited"
    assert 0 < frames[3]["retry_after"] <= 20
    assert from_second["message"]["body"] == "other socket"
    assert sorted(Message.objects.values_list("body", flat=True)) == ["burst 0", "burst 1", "burst 2", "other socket"]


def test_closed_conversation_refuses_socket_messages(chat_on, user, staff_user):
    conversation = ConversationFactory(customer=user)
    staff_api = APIClient()
    staff_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token(staff_user)}")

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        response = await database_sync_to_async(staff_api.post)(f"/api/v1/chat/conversations/{conversation.pk}/close/")
        closed_event = await next_frame(customer)
        await customer.send_json_to({"type": "message", "body": "wait!"})
        error = await next_frame(customer)
        await customer.disconnect()
        return response.status_code, closed_event, error

    status_code, closed_event, error = run(scenario)

    assert status_code == 200
    assert closed_event["type"] == "conversation"
    assert closed_event["event"] == "closed"
    assert closed_event["conversation"]["status"] == "closed"
    assert error == {
        "type": "error",
        "code": "conversation_closed",
        "detail": "This conversation is closed; open a new one.",
    }
    assert Message.objects.count() == 0


# --- REST and the support feed -----------------------------------------------------------------


def test_rest_posted_message_reaches_the_room_and_the_feed(chat_on, user, staff_user):
    conversation = ConversationFactory(customer=user)
    customer_api = APIClient()
    customer_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token(user)}")

    async def scenario():
        agent = await admitted(chat_path(conversation), staff_user)
        feed = await admitted("/ws/support/", staff_user)
        response = await database_sync_to_async(customer_api.post)(
            f"/api/v1/chat/conversations/{conversation.pk}/messages/", {"body": "sent without a socket"}, format="json"
        )
        in_room = await next_frame(agent)
        in_feed = await next_frame(feed)
        await agent.disconnect()
        await feed.disconnect()
        return response, in_room, in_feed

    response, in_room, in_feed = run(scenario)

    assert response.status_code == 201
    assert in_room == in_feed == {"type": "message", "message": response.json()}


def test_support_feed_announces_new_conversations_and_is_read_only(chat_on, user, staff_user):
    customer_api = APIClient()
    customer_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token(user)}")

    async def scenario():
        feed = await admitted("/ws/support/", staff_user)
        response = await database_sync_to_async(customer_api.post)(
            "/api/v1/chat/conversations/", {"subject": "Refund", "body": "I want my money back"}, format="json"
        )
        created = await next_frame(feed)
        first_message = await next_frame(feed)
        await feed.send_json_to({"type": "message", "body": "nobody listens here"})
        refusal = await next_frame(feed)
        await feed.disconnect()
        return response.json(), created, first_message, refusal

    body, created, first_message, refusal = run(scenario)

    conversation = Conversation.objects.get()
    assert created["type"] == "conversation"
    assert created["event"] == "created"
    assert created["conversation"]["id"] == body["id"] == str(conversation.pk)
    assert created["conversation"]["subject"] == "Refund"
    assert first_message["message"]["body"] == "I want my money back"
    assert refusal["code"] == "unknown_type"
    assert Message.objects.count() == 1


# --- presence and the reply email --------------------------------------------------------------


def test_customer_socket_counts_as_presence_and_suppresses_the_email(chat_on, user, staff_user):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        agent = await admitted(chat_path(conversation), staff_user)
        present_while_open = presence_is_connected(conversation_id=conversation.pk, user_id=user.pk)
        await agent.send_json_to({"type": "message", "body": "while you are here"})
        await next_frame(customer)
        await next_frame(agent)
        emails_while_present = len(mail.outbox)

        await customer.disconnect()
        present_after = presence_is_connected(conversation_id=conversation.pk, user_id=user.pk)
        await agent.send_json_to({"type": "message", "body": "after you left"})
        await next_frame(agent)
        await agent.disconnect()
        return present_while_open, emails_while_present, present_after

    present_while_open, emails_while_present, present_after = run(scenario)

    assert (present_while_open, emails_while_present, present_after) == (True, 0, False)
    [email] = mail.outbox
    assert email.to == [user.email]
    assert "after you left" in email.body
    assert "while you are here" not in email.body


def test_staff_sockets_do_not_count_as_customer_presence(chat_on, user, staff_user):
    conversation = ConversationFactory(customer=user)
    colleague = StaffFactory()

    async def scenario():
        agent = await admitted(chat_path(conversation), staff_user)
        other_agent = await admitted(chat_path(conversation), colleague)
        await agent.send_json_to({"type": "message", "body": "hello?"})
        await next_frame(agent)
        await next_frame(other_agent)
        await agent.disconnect()
        await other_agent.disconnect()

    run(scenario)

    assert len(mail.outbox) == 1


def test_users_from_another_conversation_do_not_hear_it(chat_on, user, staff_user):
    mine = ConversationFactory(customer=user)
    theirs = ConversationFactory(customer=UserFactory())

    async def scenario():
        agent_elsewhere = await admitted(chat_path(theirs), staff_user)
        customer = await admitted(chat_path(mine), user)
        await customer.send_json_to({"type": "message", "body": "private"})
        await next_frame(customer)
        heard_nothing = await agent_elsewhere.receive_nothing(timeout=0.3)
        await customer.disconnect()
        await agent_elsewhere.disconnect()
        return heard_nothing

    assert run(scenario) is True


def test_messages_survive_reconnects_in_history(chat_on, user, staff_user, auth_client):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        agent = await admitted(chat_path(conversation), staff_user)
        await agent.send_json_to({"type": "message", "body": "reply while you were away"})
        await next_frame(agent)
        await agent.disconnect()

    run(scenario)

    history = auth_client.get(f"/api/v1/chat/conversations/{conversation.pk}/messages/").json()["results"]
    assert [m["body"] for m in history] == ["reply while you were away"]
    assert auth_client.get(f"/api/v1/chat/conversations/{conversation.pk}/").json()["unread_count"] == 1


# --- rights lost while a socket is open ----------------------------------------------------------

RIGHTS_REVOKED = {"type": "error", "code": "rights_revoked", "detail": "Your staff rights were removed."}
SESSION_ENDED = {
    "type": "error",
    "code": "session_ended",
    "detail": "This account was deactivated or signed out; sign in again.",
}


async def refused_and_closed(communicator: WebsocketCommunicator) -> tuple[dict, dict]:
    """The error frame and the close that follow a refusal, then the client's side of the close."""
    error = await next_frame(communicator)
    closing = await communicator.receive_output(timeout=TIMEOUT)
    await communicator.disconnect()
    return error, closing


def agent_frame(kind: str, question: Message) -> dict:
    return {
        "message": {"type": "message", "body": "still an agent?"},
        "read": {"type": "read", "message_id": str(question.pk)},
        "typing": {"type": "typing"},
    }[kind]


@pytest.mark.parametrize("kind", ["message", "read", "typing"])
def test_agent_frame_after_staff_rights_were_removed_is_refused_with_4403(chat_on, user, staff_user, kind):
    conversation = ConversationFactory(customer=user)
    question = MessageFactory(conversation=conversation)

    async def scenario():
        customer = await admitted(chat_path(conversation), user)
        agent = await admitted(chat_path(conversation), staff_user)
        # A bare UPDATE sends no signal: only the per-frame check can notice.
        await database_sync_to_async(User.objects.filter(pk=staff_user.pk).update)(is_staff=False)
        await agent.send_json_to(agent_frame(kind, question))
        refusal = await refused_and_closed(agent)
        # The customer heard nothing of the refused frame: the next thing it hears is its own echo.
        await customer.send_json_to({"type": "message", "body": "hello?"})
        after = await next_frame(customer)
        await customer.disconnect()
        return refusal, after

    (error, closing), after = run(scenario)

    assert error == RIGHTS_REVOKED
    assert closing == {"type": "websocket.close", "code": consumers.CLOSE_FORBIDDEN}
    assert after["message"]["body"] == "hello?"
    assert list(Message.objects.order_by("created_at").values_list("sender_role", "read_at")) == [
        ("customer", None),
        ("customer", None),
    ]


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"session_version": F("session_version") + 1}], ids=["deactivated", "signed_out"]
)
def test_agent_frame_after_deactivation_or_sign_out_is_refused_with_4401(chat_on, user, staff_user, change):
    conversation = ConversationFactory(customer=user)

    async def scenario():
        agent = await admitted(chat_path(conversation), staff_user)
        await database_sync_to_async(User.objects.filter(pk=staff_user.pk).update)(**change)
        await agent.send_json_to({"type": "message", "body": "still here?"})
        return await refused_and_closed(agent)

    error, closing = run(scenario)

    assert error == SESSION_ENDED
    assert closing == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}
    assert Message.objects.count() == 0


def test_removing_staff_rights_closes_idle_agent_sockets_but_not_their_own_conversation(chat_on, user, staff_user):
    theirs = ConversationFactory(customer=user)
    own = ConversationFactory(customer=staff_user)  # the staff member is this one's customer

    async def scenario():
        agent = await admitted(chat_path(theirs), staff_user)
        feed = await admitted("/ws/support/", staff_user)
        as_customer = await admitted(chat_path(own), staff_user)
        staff_user.is_staff = False
        await database_sync_to_async(staff_user.save)()
        # No frame from the agent sockets: the account change itself closes them.
        closed = [await refused_and_closed(agent), await refused_and_closed(feed)]
        await as_customer.send_json_to({"type": "message", "body": "my own question"})
        echo = await next_frame(as_customer)
        await as_customer.disconnect()
        return closed, echo

    closed, echo = run(scenario)

    assert closed == [(RIGHTS_REVOKED, {"type": "websocket.close", "code": consumers.CLOSE_FORBIDDEN})] * 2
    assert echo["message"]["sender"]["role"] == "customer"
    assert list(Message.objects.values_list("conversation_id", "body")) == [(own.pk, "my own question")]


@pytest.mark.parametrize("how", ["deactivated", "signed_out"])
def test_deactivation_or_sign_out_closes_every_idle_socket_with_4401(chat_on, user, staff_user, how):
    conversation = ConversationFactory(customer=staff_user)
    elsewhere = ConversationFactory(customer=user)

    def change() -> None:
        if how == "deactivated":
            staff_user.is_active = False
            staff_user.save()
        else:  # what a password change or reset does
            user_refresh_tokens_revoke(staff_user)

    async def scenario():
        sockets = [
            await admitted(chat_path(conversation), staff_user),
            await admitted(chat_path(elsewhere), staff_user),
            await admitted("/ws/support/", staff_user),
        ]
        await database_sync_to_async(change)()
        closed = [await refused_and_closed(socket) for socket in sockets]
        present = presence_is_connected(conversation_id=conversation.pk, user_id=staff_user.pk)
        return closed, present

    closed, present = run(scenario)

    assert closed == [(SESSION_ENDED, {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED})] * 3
    assert present is False


def test_account_changes_reach_the_users_group_only_when_rights_change(chat_on, staff_user):
    listener = GroupListener(events.user_group(staff_user.pk))

    staff_user.first_name = "Renamed"
    staff_user.save()
    staff_user.last_login = timezone.now()
    staff_user.save(update_fields=["last_login"])
    with contextlib.suppress(RuntimeError), transaction.atomic():
        staff_user.is_staff = False
        staff_user.save()
        raise RuntimeError("rolled back: nobody is told")
    staff_user.refresh_from_db()
    staff_user.is_staff = False
    staff_user.save()

    # One event, from the last save: the others changed nothing watched, or were rolled back.
    assert listener.drain() == [{"type": "chat.access", "active": True, "is_staff": False, "session_version": 0}]


def test_a_socket_opened_after_the_sign_out_survives_the_push(chat_on, user):
    """The push carries the current session_version: of two sockets hearing the same push, the one
    opened with a token from before the sign-out closes, the one with a token issued after it (a
    password change hands out a new pair) stays."""
    conversation = ConversationFactory(customer=user)

    async def scenario():
        old = await admitted(chat_path(conversation), user)
        # The sign-out's own UPDATE, without its push yet, so both sockets hear the same one.
        await database_sync_to_async(User.objects.filter(pk=user.pk).update)(session_version=F("session_version") + 1)
        await database_sync_to_async(user.refresh_from_db)()
        fresh_token = (await database_sync_to_async(tokens_for_user)(user))["access"]
        fresh = await admitted(f"{chat_path(conversation)}?token={fresh_token}")
        await database_sync_to_async(events.publish_user_access)(user_id=user.pk, rights=(False, 1))
        closed = await refused_and_closed(old)
        await fresh.send_json_to({"type": "message", "body": "new session"})
        echo = await next_frame(fresh)
        await fresh.disconnect()
        return closed, echo

    (error, closing), echo = run(scenario)

    assert error == SESSION_ENDED
    assert closing["code"] == consumers.CLOSE_UNAUTHENTICATED
    assert echo["message"]["body"] == "new session"
