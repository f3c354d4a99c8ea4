import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from chat import events
from chat.models import Conversation, Message
from chat.tests.conftest import make_order

from .factories import ConversationFactory, MessageFactory, StaffFactory
from .helpers import GroupListener

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/chat/conversations/"


def detail_url(conversation) -> str:
    return f"{LIST_URL}{conversation.pk}/"


def messages_url(conversation) -> str:
    return f"{LIST_URL}{conversation.pk}/messages/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()["results"]]


# --- the feature flag ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", "{detail}"),
        ("get", "{detail}messages/"),
        ("post", "{detail}messages/"),
        ("post", "{detail}assign/"),
        ("post", "{detail}close/"),
        ("post", "{detail}read/"),
    ],
)
def test_flag_off_every_endpoint_is_404(chat_off, user, staff_client, method, path):
    conversation = ConversationFactory(customer=user)
    url = path.format(detail=detail_url(conversation))

    response = getattr(staff_client, method)(url, {"body": "hi"}, format="json")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert Message.objects.count() == 0
    assert Conversation.objects.get().status == "open"


def test_missing_flag_counts_as_off(db, auth_client):
    assert auth_client.get(LIST_URL).status_code == 404


def test_anonymous_is_401(chat_on, api_client):
    assert api_client.get(LIST_URL).status_code == 401


# --- listing and scoping -----------------------------------------------------------------------


def test_customer_lists_only_their_own(chat_on, user, auth_client):
    mine = ConversationFactory(customer=user)
    ConversationFactory()

    response = auth_client.get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert ids(response) == [str(mine.pk)]


def test_list_item_shape(chat_on, user, staff_user, product, auth_client):
    order = make_order(user)
    conversation = ConversationFactory(customer=user, subject="Sizes", product=product, order=order)
    conversation.assigned_agent = staff_user
    conversation.save()
    MessageFactory(conversation=conversation, sender=staff_user, sender_role="agent")
    MessageFactory(conversation=conversation, sender=staff_user, sender_role="agent", read_at=timezone.now())
    MessageFactory(conversation=conversation)  # the customer's own message never counts as unread for them

    [item] = auth_client.get(LIST_URL).json()["results"]

    assert item == {
        "id": str(conversation.pk),
        "subject": "Sizes",
        "status": "open",
        "customer": {"id": str(user.pk), "name": "Cam", "email": "customer@example.com"},
        "assigned_agent": {"id": str(staff_user.pk), "name": "Support"},
        "product": {"slug": "trail-runner", "name": "Trail Runner"},
        "order_id": str(order.pk),
        "last_message_at": events.iso(conversation.last_message_at),
        "created_at": events.iso(conversation.created_at),
        "closed_at": None,
        "unread_count": 1,
    }


def test_staff_list_all_newest_activity_first(chat_on, staff_client):
    now = timezone.now()
    older = ConversationFactory(last_message_at=now - timedelta(hours=2))
    newer = ConversationFactory(last_message_at=now - timedelta(minutes=5))

    response = staff_client.get(LIST_URL)

    assert ids(response) == [str(newer.pk), str(older.pk)]


def test_staff_filters(chat_on, staff_user, staff_client):
    other_agent = StaffFactory()
    mine = ConversationFactory(assigned_agent=staff_user)
    theirs = ConversationFactory(assigned_agent=other_agent)
    unassigned = ConversationFactory()
    closed = ConversationFactory(status="closed", closed_at=timezone.now())
    MessageFactory(conversation=unassigned)  # an unread customer message
    MessageFactory(conversation=theirs, read_at=timezone.now())
    MessageFactory(conversation=mine, sender=staff_user, sender_role="agent")  # unread by the customer only

    def listed(query: str) -> set[str]:
        response = staff_client.get(f"{LIST_URL}?{query}")
        assert response.status_code == 200, response.json()
        return set(ids(response))

    assert listed("status=open") == {str(mine.pk), str(theirs.pk), str(unassigned.pk)}
    assert listed("status=closed") == {str(closed.pk)}
    assert listed("assigned=me") == {str(mine.pk)}
    assert listed("assigned=none") == {str(unassigned.pk), str(closed.pk)}
    assert listed(f"assigned={other_agent.pk}") == {str(theirs.pk)}
    assert listed("unread=true") == {str(unassigned.pk)}
    assert listed("unread=false") == {str(mine.pk), str(theirs.pk), str(closed.pk)}
    assert listed("status=open&assigned=none&unread=true") == {str(unassigned.pk)}
    assert listed(f"customer={unassigned.customer_id}") == {str(unassigned.pk)}


def test_customer_unread_filter_counts_agent_messages(chat_on, user, staff_user, auth_client):
    waiting = ConversationFactory(customer=user)
    MessageFactory(conversation=waiting, sender=staff_user, sender_role="agent")
    quiet = ConversationFactory(customer=user)
    MessageFactory(conversation=quiet)

    assert ids(auth_client.get(f"{LIST_URL}?unread=true")) == [str(waiting.pk)]


@pytest.mark.parametrize("query", ["status=pending", "assigned=someone", "unread=maybe"])
def test_bad_filters_are_400(chat_on, staff_client, query):
    response = staff_client.get(f"{LIST_URL}?{query}")

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


@pytest.mark.parametrize("size", [1, 8])
def test_list_query_count_does_not_grow(chat_on, staff_client, product, size, django_assert_max_num_queries):
    for _ in range(size):
        conversation = ConversationFactory(product=product, assigned_agent=StaffFactory())
        MessageFactory(conversation=conversation)
        MessageFactory(conversation=conversation)

    # flag, user, count, page
    with django_assert_max_num_queries(4):
        response = staff_client.get(LIST_URL)

    assert response.json()["count"] == size


# --- detail ------------------------------------------------------------------------------------


def test_detail_for_customer_and_staff(chat_on, user, auth_client, staff_client):
    conversation = ConversationFactory(customer=user)

    assert auth_client.get(detail_url(conversation)).json()["id"] == str(conversation.pk)
    assert staff_client.get(detail_url(conversation)).json()["id"] == str(conversation.pk)


def test_another_customers_conversation_is_404_everywhere(chat_on, user, other_client):
    conversation = ConversationFactory(customer=user)
    message = MessageFactory(conversation=conversation)

    assert other_client.get(detail_url(conversation)).status_code == 404
    assert other_client.get(messages_url(conversation)).status_code == 404
    assert other_client.post(messages_url(conversation), {"body": "hi"}, format="json").status_code == 404
    response = other_client.post(f"{detail_url(conversation)}read/", {"message_id": str(message.pk)}, format="json")
    assert response.status_code == 404
    assert Message.objects.count() == 1
    message.refresh_from_db()
    assert message.read_at is None


def test_unknown_and_malformed_ids_are_404(chat_on, auth_client):
    assert auth_client.get(f"{LIST_URL}{uuid.uuid4()}/").status_code == 404
    assert auth_client.get(f"{LIST_URL}12/").status_code == 404
    assert auth_client.get(f"{LIST_URL}{uuid.uuid4()}/messages/").status_code == 404


def test_detail_query_count(chat_on, staff_client, django_assert_max_num_queries):
    conversation = ConversationFactory(assigned_agent=StaffFactory())
    MessageFactory(conversation=conversation)

    with django_assert_max_num_queries(3):
        response = staff_client.get(detail_url(conversation))
    assert response.status_code == 200


# --- opening -----------------------------------------------------------------------------------


def test_customer_opens_a_conversation(chat_on, user, product, auth_client):
    response = auth_client.post(
        LIST_URL, {"subject": "Sizing", "body": "Does it run small?", "product": "trail-runner"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    conversation = Conversation.objects.get()
    assert body["id"] == str(conversation.pk)
    assert body["subject"] == "Sizing"
    assert body["status"] == "open"
    assert body["product"] == {"slug": "trail-runner", "name": "Trail Runner"}
    assert body["unread_count"] == 0
    assert conversation.customer == user
    assert list(conversation.messages.values_list("body", "sender_role")) == [("Does it run small?", "customer")]


def test_open_ignores_client_supplied_status_and_customer(chat_on, user, other_user, auth_client):
    response = auth_client.post(
        LIST_URL,
        {"body": "hello", "status": "closed", "customer": str(other_user.pk), "assigned_agent": str(other_user.pk)},
        format="json",
    )

    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert (conversation.customer, conversation.status, conversation.assigned_agent) == (user, "open", None)


@pytest.mark.parametrize(
    ("payload", "code", "attr"),
    [
        ({}, "required", "body"),
        ({"body": "   "}, "message_empty", "body"),
        ({"body": "x" * 21}, "message_too_long", "body"),
        ({"body": "hi", "product": "ghost"}, "unknown_product", "product"),
        ({"body": "hi", "order_id": "nope"}, "invalid", "order_id"),
    ],
)
def test_open_validation(chat_on, chat_settings, auth_client, payload, code, attr):
    response = auth_client.post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == (code, attr)
    assert Conversation.objects.count() == 0


# --- messages ----------------------------------------------------------------------------------


def test_history_is_newest_first_with_cursor(chat_on, user, staff_user, auth_client):
    conversation = ConversationFactory(customer=user)
    start = timezone.now() - timedelta(hours=1)
    messages = [
        MessageFactory(conversation=conversation, body=f"m{i}", created_at=start + timedelta(minutes=i))
        for i in range(5)
    ]
    MessageFactory(body="elsewhere")

    first = auth_client.get(f"{messages_url(conversation)}?page_size=2").json()
    second = auth_client.get(first["next"]).json()
    third = auth_client.get(second["next"]).json()

    assert [m["body"] for m in first["results"]] == ["m4", "m3"]
    assert [m["body"] for m in second["results"]] == ["m2", "m1"]
    assert [m["body"] for m in third["results"]] == ["m0"]
    assert third["next"] is None
    assert first["previous"] is None
    assert first["results"][0] == {
        "id": str(messages[4].pk),
        "conversation_id": str(conversation.pk),
        "sender": {"id": str(user.pk), "name": "Cam", "role": "customer"},
        "body": "m4",
        "created_at": events.iso(messages[4].created_at),
        "read_at": None,
    }


def test_rest_and_socket_message_shapes_are_equal(chat_on, user, auth_client):
    message = MessageFactory(conversation=ConversationFactory(customer=user))

    [item] = auth_client.get(messages_url(message.conversation)).json()["results"]

    assert item == events.message_payload(message)


@pytest.mark.parametrize("size", [2, 20])
def test_history_query_count(chat_on, user, staff_user, auth_client, size, django_assert_max_num_queries):
    conversation = ConversationFactory(customer=user)
    for i in range(size):
        MessageFactory(
            conversation=conversation,
            sender=staff_user if i % 2 else user,
            sender_role="agent" if i % 2 else "customer",
        )

    # flag, user, conversation, page
    with django_assert_max_num_queries(4):
        response = auth_client.get(messages_url(conversation))
    assert len(response.json()["results"]) == size


def test_post_message_stores_and_broadcasts(
    chat_on, user, staff_user, staff_client, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(customer=user)
    room = GroupListener(events.conversation_group(conversation.pk))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(messages_url(conversation), {"body": "Hello from support"}, format="json")

    assert response.status_code == 201
    message = Message.objects.get()
    assert (message.body, message.sender, message.sender_role) == ("Hello from support", staff_user, "agent")
    assert response.json() == events.message_payload(message)
    [event] = room.drain()
    assert event == {"type": "chat.message", "message": response.json()}


def test_post_to_closed_conversation_is_409(chat_on, user, auth_client):
    conversation = ConversationFactory(customer=user, status="closed", closed_at=timezone.now())

    response = auth_client.post(messages_url(conversation), {"body": "hi"}, format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "conversation_closed"
    assert Message.objects.count() == 0


def test_message_posts_are_throttled_with_the_chat_scope(chat_on, user, auth_client, throttle_rates):
    throttle_rates(chat="2/hour")
    conversation = ConversationFactory(customer=user)

    statuses = [
        auth_client.post(messages_url(conversation), {"body": f"m{i}"}, format="json").status_code for i in range(3)
    ]

    assert statuses == [201, 201, 429]
    assert Message.objects.count() == 2
    # reads are not part of the write budget
    assert auth_client.get(messages_url(conversation)).status_code == 200


def test_mark_read_over_rest(chat_on, user, staff_user, auth_client):
    conversation = ConversationFactory(customer=user)
    reply = MessageFactory(conversation=conversation, sender=staff_user, sender_role="agent")

    response = auth_client.post(f"{detail_url(conversation)}read/", {"message_id": str(reply.pk)}, format="json")

    assert response.status_code == 200
    reply.refresh_from_db()
    assert response.json() == {
        "conversation_id": str(conversation.pk),
        "message_id": str(reply.pk),
        "read_count": 1,
        "read_at": events.iso(reply.read_at),
    }
    assert auth_client.get(detail_url(conversation)).json()["unread_count"] == 0


def test_mark_read_unknown_message_is_404(chat_on, user, auth_client):
    conversation = ConversationFactory(customer=user)

    response = auth_client.post(f"{detail_url(conversation)}read/", {"message_id": str(uuid.uuid4())}, format="json")

    assert response.status_code == 404
    assert response.json()["errors"][0] == {
        "code": "message_not_found",
        "detail": "Message not found in this conversation.",
        "attr": "message_id",
    }


# --- staff actions -----------------------------------------------------------------------------


def test_staff_assigns_to_self_other_and_nobody(chat_on, user, staff_user, staff_client):
    conversation = ConversationFactory(customer=user)
    colleague = StaffFactory(first_name="Dana")
    url = f"{detail_url(conversation)}assign/"

    to_self = staff_client.post(url, {}, format="json")
    to_colleague = staff_client.post(url, {"agent_id": str(colleague.pk)}, format="json")
    colleague_state = Conversation.objects.get().assigned_agent
    to_nobody = staff_client.post(url, {"agent_id": None}, format="json")

    assert to_self.status_code == 200
    assert to_self.json()["assigned_agent"] == {"id": str(staff_user.pk), "name": "Support"}
    assert to_colleague.json()["assigned_agent"] == {"id": str(colleague.pk), "name": "Dana"}
    assert colleague_state == colleague
    assert to_nobody.json()["assigned_agent"] is None
    assert Conversation.objects.get().assigned_agent is None


def test_assign_to_a_customer_is_400(chat_on, user, staff_client):
    conversation = ConversationFactory(customer=user)

    response = staff_client.post(f"{detail_url(conversation)}assign/", {"agent_id": str(user.pk)}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_agent"
    assert Conversation.objects.get().assigned_agent is None


def test_staff_closes_and_cannot_close_twice(chat_on, user, staff_client):
    conversation = ConversationFactory(customer=user)

    first = staff_client.post(f"{detail_url(conversation)}close/")
    second = staff_client.post(f"{detail_url(conversation)}close/")

    assert first.status_code == 200
    assert first.json()["status"] == "closed"
    assert first.json()["closed_at"] is not None
    assert second.status_code == 409
    assert second.json()["errors"][0]["code"] == "conversation_already_closed"


def test_customers_cannot_assign_or_close_their_own(chat_on, user, auth_client):
    conversation = ConversationFactory(customer=user)

    assert auth_client.post(f"{detail_url(conversation)}assign/", {}, format="json").status_code == 403
    assert auth_client.post(f"{detail_url(conversation)}close/").status_code == 403
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assigned_agent) == ("open", None)


def test_staff_action_on_unknown_conversation_is_404(chat_on, staff_client):
    assert staff_client.post(f"{LIST_URL}{uuid.uuid4()}/close/").status_code == 404
    assert staff_client.post(f"{LIST_URL}{uuid.uuid4()}/assign/", {}, format="json").status_code == 404


def test_deactivated_staff_token_is_refused(chat_on, user):
    agent = StaffFactory()
    client = client_for(agent)
    agent.is_active = False
    agent.save()

    assert client.get(LIST_URL).status_code == 401


def test_waffle_staff_only_flag(chat_on, user, auth_client, staff_client):
    chat_on.everyone = None
    chat_on.staff = True
    chat_on.save()

    assert auth_client.get(LIST_URL).status_code == 404
    assert staff_client.get(LIST_URL).status_code == 200


def test_open_about_own_order_links_it(chat_on, user, auth_client):
    order = make_order(user)

    response = auth_client.post(LIST_URL, {"body": "Where is my parcel?", "order_id": str(order.pk)}, format="json")

    assert response.status_code == 201
    assert response.json()["order_id"] == str(order.pk)
    assert Conversation.objects.get().order == order


def test_open_about_another_customers_order_is_refused(chat_on, other_user, auth_client):
    theirs = make_order(other_user)

    response = auth_client.post(LIST_URL, {"body": "Where is it?", "order_id": str(theirs.pk)}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] | {"detail": None} == {
        "code": "unknown_order",
        "detail": None,
        "attr": "order_id",
    }
    assert Conversation.objects.count() == 0
