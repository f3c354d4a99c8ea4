"""GDPR: conversations in the account export; erasure keeps the history without what the customer wrote."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.gdpr import REMOVED_TEXT, chat_anonymize_for_user
from chat.models import Conversation, Message

from .conftest import make_order
from .factories import ConversationFactory, MessageFactory, StaffFactory

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/account/export/"
ME = "/api/v1/account/me/"
OPENED_AT = datetime(2030, 4, 1, 10, 0, tzinfo=UTC)
ASKED_AT = datetime(2030, 4, 1, 10, 0, 5, tzinfo=UTC)
ANSWERED_AT = datetime(2030, 4, 1, 10, 7, tzinfo=UTC)
CLOSED_AT = datetime(2030, 4, 2, 9, 0, tzinfo=UTC)


def test_export_has_the_users_conversations_with_every_message(auth_client, user, other_user, product):
    agent = StaffFactory(first_name="Alex", last_name="Agent")
    order = make_order(user)
    conversation = ConversationFactory(
        customer=user, subject="Where is my parcel?", product=product, order=order, created_at=OPENED_AT
    )
    question = MessageFactory(
        conversation=conversation, body="It has not arrived.", created_at=ASKED_AT, read_at=ANSWERED_AT
    )
    answer = MessageFactory(
        conversation=conversation, sender=agent, sender_role="agent", body="It ships today.", created_at=ANSWERED_AT
    )
    closed = ConversationFactory(
        customer=user, subject="Sizes", status="closed", closed_at=CLOSED_AT, created_at=CLOSED_AT
    )
    MessageFactory(conversation=ConversationFactory(customer=other_user), body="Not yours")

    body = auth_client.get(EXPORT).json()

    assert body["chat"] == [
        {
            "id": str(closed.pk),
            "subject": "Sizes",
            "status": "closed",
            "product_slug": None,
            "order_number": None,
            "created_at": "2030-04-02T09:00:00Z",
            "closed_at": "2030-04-02T09:00:00Z",
            "messages": [],
        },
        {
            "id": str(conversation.pk),
            "subject": "Where is my parcel?",
            "status": "open",
            "product_slug": "trail-runner",
            "order_number": order.number,
            "created_at": "2030-04-01T10:00:00Z",
            "closed_at": None,
            "messages": [
                {
                    "id": str(question.pk),
                    "from": "customer",
                    "sender_name": None,
                    "body": "It has not arrived.",
                    "created_at": "2030-04-01T10:00:05Z",
                    "read_at": "2030-04-01T10:07:00Z",
                },
                {
                    "id": str(answer.pk),
                    "from": "agent",
                    "sender_name": "Alex",
                    "body": "It ships today.",
                    "created_at": "2030-04-01T10:07:00Z",
                    "read_at": None,
                },
            ],
        },
    ]


def test_export_query_count_does_not_grow_with_conversations(auth_client, user):
    def export_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert auth_client.get(EXPORT).status_code == 200
        return len(context.captured_queries)

    MessageFactory(conversation=ConversationFactory(customer=user))
    with_one = export_queries()
    agent = StaffFactory()
    for conversation in ConversationFactory.create_batch(3, customer=user):
        MessageFactory(conversation=conversation)
        MessageFactory(conversation=conversation, sender=agent, sender_role="agent")
    with_four = export_queries()

    assert len(auth_client.get(EXPORT).json()["chat"]) == 4
    assert with_four == with_one


def test_deleting_the_account_removes_the_customers_words_and_keeps_the_history(auth_client, user, other_user, chat_on):
    agent = StaffFactory(first_name="Alex")
    conversation = ConversationFactory(customer=user, subject="My address is 5 Elm Road")
    question = MessageFactory(conversation=conversation, body="Please ship to 5 Elm Road, Springfield.")
    answer = MessageFactory(conversation=conversation, sender=agent, sender_role="agent", body="Done, Cam!")
    theirs = ConversationFactory(customer=other_user, subject="Returns")
    their_message = MessageFactory(conversation=theirs, body="How do I return boots?")

    response = auth_client.delete(ME, {"password": "correct-horse-battery"})

    assert response.status_code == 204
    conversation.refresh_from_db()
    assert (conversation.subject, conversation.status, conversation.customer_id) == (REMOVED_TEXT, "closed", user.pk)
    assert conversation.closed_at is not None
    assert dict(Message.objects.filter(conversation=conversation).values_list("pk", "body")) == {
        question.pk: REMOVED_TEXT,
        answer.pk: "Done, Cam!",
    }
    theirs.refresh_from_db()
    assert (theirs.subject, theirs.status) == ("Returns", "open")
    assert Message.objects.get(pk=their_message.pk).body == "How do I return boots?"


def test_support_still_reads_the_conversation_after_the_erasure(auth_client, user, chat_on):
    agent = StaffFactory(first_name="Alex")
    conversation = ConversationFactory(customer=user)
    MessageFactory(conversation=conversation, body="My card ends 4242")
    MessageFactory(conversation=conversation, sender=agent, sender_role="agent", body="Thanks")
    assert auth_client.delete(ME, {"password": "correct-horse-battery"}).status_code == 204
    auth_client.force_authenticate(agent)

    history = auth_client.get(f"/api/v1/chat/conversations/{conversation.pk}/messages/").json()["results"]

    assert [(item["sender"]["role"], item["sender"]["name"], item["body"]) for item in history] == [
        ("agent", "Alex", "Thanks"),
        ("customer", "Customer", REMOVED_TEXT),
    ]


def test_a_refused_deletion_keeps_the_messages(auth_client, user):
    message = MessageFactory(conversation=ConversationFactory(customer=user), body="Hello")

    assert auth_client.delete(ME, {"password": "wrong"}).status_code == 400

    assert Message.objects.get(pk=message.pk).body == "Hello"
    assert Conversation.objects.get().status == "open"


def test_the_chat_anonymizer_can_run_twice(user):
    message = MessageFactory(conversation=ConversationFactory(customer=user), body="Hello")

    chat_anonymize_for_user(user)
    chat_anonymize_for_user(user)

    assert Message.objects.get(pk=message.pk).body == REMOVED_TEXT
