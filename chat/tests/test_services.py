import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from chat import events, services
from chat.errors import (
    ConversationAlreadyClosed,
    ConversationClosed,
    ConversationNotFound,
    InvalidAgent,
    MessageEmpty,
    MessageNotFound,
    MessageTooLong,
    UnknownProduct,
)
from chat.models import Conversation, Message
from chat.presence import presence_is_connected, presence_join, presence_leave, presence_touch
from chat.tests.conftest import make_order

from .factories import ConversationFactory, MessageFactory, StaffFactory, UserFactory
from .helpers import GroupListener

pytestmark = pytest.mark.django_db


# --- opening -----------------------------------------------------------------------------------


def test_conversation_open_stores_conversation_and_first_message(user, product, django_capture_on_commit_callbacks):
    order = make_order(user)

    with django_capture_on_commit_callbacks() as callbacks:
        conversation = services.conversation_open(
            customer=user,
            body="  Where is my parcel?  ",
            subject="Delivery",
            product_slug="trail-runner",
            order_id=order.pk,
        )

    conversation.refresh_from_db()
    assert conversation.customer == user
    assert conversation.subject == "Delivery"
    assert conversation.status == "open"
    assert conversation.product == product
    assert conversation.order == order
    assert conversation.assigned_agent is None
    [message] = conversation.messages.all()
    assert message.body == "Where is my parcel?"
    assert message.sender == user
    assert message.sender_role == "customer"
    assert message.read_at is None
    assert conversation.last_message_at == message.created_at
    assert len(callbacks) == 2  # nothing is broadcast before commit


def test_conversation_open_derives_subject_from_first_line(user):
    long_line = "My order arrived with a broken zipper and the replacement I was promised never came " * 2

    short = services.conversation_open(customer=user, body="Hello there\nsecond line")
    derived = services.conversation_open(customer=user, body=long_line)

    assert short.subject == "Hello there"
    assert derived.subject == "My order arrived with a broken zipper and the replacement I was promised never..."


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"body": "   "}, MessageEmpty),
        ({"body": "x" * 21}, MessageTooLong),
        ({"body": "hi", "product_slug": "no-such-product"}, UnknownProduct),
    ],
)
def test_conversation_open_refusals_write_nothing(user, chat_settings, kwargs, error):
    with pytest.raises(error):
        services.conversation_open(customer=user, **kwargs)

    assert Conversation.objects.count() == 0
    assert Message.objects.count() == 0


def test_conversation_open_refuses_inactive_product(user, product):
    product.is_active = False
    product.save()

    with pytest.raises(UnknownProduct):
        services.conversation_open(customer=user, body="hi", product_slug=product.slug)
    assert Conversation.objects.count() == 0


def test_conversation_open_broadcasts_to_the_support_feed(user, django_capture_on_commit_callbacks):
    feed = GroupListener(events.SUPPORT_GROUP)

    with django_capture_on_commit_callbacks(execute=True):
        conversation = services.conversation_open(customer=user, body="Hello", subject="Hi")

    created, message_event = feed.drain()
    assert created["type"] == "chat.conversation"
    assert created["event"] == "created"
    assert created["conversation"]["id"] == str(conversation.pk)
    assert created["conversation"]["customer"] == {"id": str(user.pk), "name": "Cam", "email": user.email}
    assert message_event["type"] == "chat.message"
    assert message_event["message"]["body"] == "Hello"
    assert message_event["message"]["sender"] == {"id": str(user.pk), "name": "Cam", "role": "customer"}


# --- sending -----------------------------------------------------------------------------------


def test_message_send_by_customer_and_by_agent(user, staff_user):
    conversation = ConversationFactory(customer=user)
    before = conversation.last_message_at

    from_customer = services.message_send(conversation_id=conversation.pk, sender=user, body="ping")
    from_agent = services.message_send(conversation_id=conversation.pk, sender=staff_user, body="pong")

    assert from_customer.sender_role == "customer"
    assert from_agent.sender_role == "agent"
    conversation.refresh_from_db()
    assert conversation.last_message_at == from_agent.created_at
    assert conversation.last_message_at > before


def test_staff_member_in_own_conversation_writes_as_customer(staff_user):
    conversation = ConversationFactory(customer=staff_user)

    message = services.message_send(conversation_id=conversation.pk, sender=staff_user, body="I am a customer too")

    assert message.sender_role == "customer"


def test_message_send_by_stranger_is_not_found_and_writes_nothing(user, other_user):
    conversation = ConversationFactory(customer=user)

    with pytest.raises(ConversationNotFound):
        services.message_send(conversation_id=conversation.pk, sender=other_user, body="let me in")

    assert Message.objects.count() == 0


def test_message_send_by_deactivated_staff_is_not_found(user, staff_user):
    conversation = ConversationFactory(customer=user)
    staff_user.is_active = False
    staff_user.save()

    with pytest.raises(ConversationNotFound):
        services.message_send(conversation_id=conversation.pk, sender=staff_user, body="hello")
    assert Message.objects.count() == 0


def test_message_send_to_closed_conversation_is_refused(user):
    conversation = ConversationFactory(customer=user, status="closed", closed_at=timezone.now())
    last = conversation.last_message_at

    with pytest.raises(ConversationClosed):
        services.message_send(conversation_id=conversation.pk, sender=user, body="anyone?")

    conversation.refresh_from_db()
    assert conversation.last_message_at == last
    assert Message.objects.count() == 0


@pytest.mark.parametrize(("body", "error"), [("", MessageEmpty), (" \n\t ", MessageEmpty), ("y" * 21, MessageTooLong)])
def test_message_send_body_rules(user, chat_settings, body, error):
    conversation = ConversationFactory(customer=user)

    with pytest.raises(error) as raised:
        services.message_send(conversation_id=conversation.pk, sender=user, body=body)

    assert raised.value.attr == "body"
    assert Message.objects.count() == 0


def test_message_at_the_length_limit_is_accepted(user, chat_settings):
    conversation = ConversationFactory(customer=user)

    message = services.message_send(conversation_id=conversation.pk, sender=user, body="z" * 20)

    assert message.body == "z" * 20


def test_message_is_broadcast_only_after_commit(user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)
    # Each listener is drained once: a channel's queue belongs to the event loop that first waited on it.
    before_commit = GroupListener(events.conversation_group(conversation.pk))
    after_commit = GroupListener(events.conversation_group(conversation.pk))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = services.message_send(conversation_id=conversation.pk, sender=user, body="stored first")
    assert before_commit.drain(timeout=0.1) == []
    assert Message.objects.filter(pk=message.pk, body="stored first").exists()

    for callback in callbacks:
        callback()
    [event] = after_commit.drain()
    assert event == {"type": "chat.message", "message": events.message_payload(message)}
    assert event["message"]["body"] == "stored first"


# --- reading -----------------------------------------------------------------------------------


def test_mark_read_is_cumulative_and_only_marks_the_other_side(user, staff_user):
    conversation = ConversationFactory(customer=user)
    base = timezone.now() - timedelta(minutes=10)
    agent_1 = MessageFactory(conversation=conversation, sender=staff_user, sender_role="agent", created_at=base)
    own = MessageFactory(conversation=conversation, created_at=base + timedelta(minutes=1))
    agent_2 = MessageFactory(
        conversation=conversation, sender=staff_user, sender_role="agent", created_at=base + timedelta(minutes=2)
    )
    agent_3 = MessageFactory(
        conversation=conversation, sender=staff_user, sender_role="agent", created_at=base + timedelta(minutes=3)
    )

    receipt = services.messages_mark_read(conversation_id=conversation.pk, reader=user, up_to_message_id=agent_2.pk)

    assert receipt.read_count == 2
    for message in (agent_1, own, agent_2, agent_3):
        message.refresh_from_db()
    assert agent_1.read_at == receipt.read_at
    assert agent_2.read_at == receipt.read_at
    assert own.read_at is None
    assert agent_3.read_at is None


def test_mark_read_twice_marks_nothing_new(user, staff_user):
    conversation = ConversationFactory(customer=user)
    message = MessageFactory(conversation=conversation)

    first = services.messages_mark_read(conversation_id=conversation.pk, reader=staff_user, up_to_message_id=message.pk)
    second = services.messages_mark_read(
        conversation_id=conversation.pk, reader=staff_user, up_to_message_id=message.pk
    )

    assert (first.read_count, second.read_count) == (1, 0)
    message.refresh_from_db()
    assert message.read_at == first.read_at


def test_mark_read_of_a_message_from_another_conversation_is_refused(user):
    conversation = ConversationFactory(customer=user)
    foreign = MessageFactory()

    with pytest.raises(MessageNotFound):
        services.messages_mark_read(conversation_id=conversation.pk, reader=user, up_to_message_id=foreign.pk)
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_mark_read_broadcasts_a_receipt(user, staff_user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)
    message = MessageFactory(conversation=conversation)
    room = GroupListener(events.conversation_group(conversation.pk))

    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.messages_mark_read(
            conversation_id=conversation.pk, reader=staff_user, up_to_message_id=message.pk
        )

    [event] = room.drain()
    assert event == {
        "type": "chat.read",
        "conversation_id": str(conversation.pk),
        "message_id": str(message.pk),
        "reader": {"id": str(staff_user.pk), "role": "agent"},
        "read_at": events.iso(receipt.read_at),
    }


# --- assigning and closing ---------------------------------------------------------------------


def test_assign_and_unassign(user, staff_user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)
    feed = GroupListener(events.SUPPORT_GROUP)

    with django_capture_on_commit_callbacks(execute=True):
        assigned = services.conversation_assign(conversation_id=conversation.pk, agent_id=staff_user.pk)
    assert assigned.assigned_agent == staff_user
    [event] = feed.drain()
    assert event["event"] == "assigned"
    assert event["conversation"]["assigned_agent"] == {"id": str(staff_user.pk), "name": "Support"}

    unassigned = services.conversation_assign(conversation_id=conversation.pk, agent_id=None)
    assert unassigned.assigned_agent is None


@pytest.mark.parametrize("agent_kind", ["customer", "inactive_staff", "unknown"])
def test_assign_refuses_non_agents(user, agent_kind):
    conversation = ConversationFactory(customer=user)
    agent_id = {
        "customer": lambda: UserFactory().pk,
        "inactive_staff": lambda: StaffFactory(is_active=False).pk,
        "unknown": uuid.uuid4,
    }[agent_kind]()

    with pytest.raises(InvalidAgent):
        services.conversation_assign(conversation_id=conversation.pk, agent_id=agent_id)
    conversation.refresh_from_db()
    assert conversation.assigned_agent is None


def test_assign_closed_conversation_is_refused(user, staff_user):
    conversation = ConversationFactory(customer=user, status="closed", closed_at=timezone.now())

    with pytest.raises(ConversationClosed):
        services.conversation_assign(conversation_id=conversation.pk, agent_id=staff_user.pk)
    conversation.refresh_from_db()
    assert conversation.assigned_agent is None


def test_close_then_close_again(user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)
    room = GroupListener(events.conversation_group(conversation.pk))

    with django_capture_on_commit_callbacks(execute=True):
        closed = services.conversation_close(conversation_id=conversation.pk)
    assert closed.status == "closed"
    assert closed.closed_at is not None
    [event] = room.drain()
    assert (event["type"], event["event"], event["conversation"]["status"]) == ("chat.conversation", "closed", "closed")

    with pytest.raises(ConversationAlreadyClosed):
        services.conversation_close(conversation_id=conversation.pk)
    conversation.refresh_from_db()
    assert conversation.closed_at == closed.closed_at


def test_close_unknown_conversation(db):
    with pytest.raises(ConversationNotFound):
        services.conversation_close(conversation_id=uuid.uuid4())


# --- presence and the reply email --------------------------------------------------------------


def test_presence_counts_sockets(user):
    conversation_id = uuid.uuid4()
    presence_join(conversation_id=conversation_id, user_id=user.pk)
    presence_join(conversation_id=conversation_id, user_id=user.pk)
    presence_leave(conversation_id=conversation_id, user_id=user.pk)
    assert presence_is_connected(conversation_id=conversation_id, user_id=user.pk) is True

    presence_leave(conversation_id=conversation_id, user_id=user.pk)
    assert presence_is_connected(conversation_id=conversation_id, user_id=user.pk) is False
    # a leave without a join (e.g. after expiry) never goes below "away"
    presence_leave(conversation_id=conversation_id, user_id=user.pk)
    presence_join(conversation_id=conversation_id, user_id=user.pk)
    assert presence_is_connected(conversation_id=conversation_id, user_id=user.pk) is True


def test_presence_expires_and_a_live_socket_revives_it(user, settings):
    conversation_id = uuid.uuid4()
    presence_join(conversation_id=conversation_id, user_id=user.pk)
    cache.delete(f"chat:presence:{conversation_id}:{user.pk}")  # what the TTL does to an idle socket
    assert presence_is_connected(conversation_id=conversation_id, user_id=user.pk) is False

    presence_touch(conversation_id=conversation_id, user_id=user.pk)

    assert presence_is_connected(conversation_id=conversation_id, user_id=user.pk) is True
    presence_leave(conversation_id=conversation_id, user_id=user.pk)
    assert presence_is_connected(conversation_id=conversation_id, user_id=user.pk) is False


def _agent_reply(conversation, agent, body="We are on it", callbacks_fixture=None):
    with callbacks_fixture(execute=True):
        return services.message_send(conversation_id=conversation.pk, sender=agent, body=body)


def test_agent_reply_emails_an_absent_customer_once(user, staff_user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user, subject="Broken zipper")

    _agent_reply(conversation, staff_user, "We are on it", django_capture_on_commit_callbacks)
    _agent_reply(conversation, staff_user, "Any news?", django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    [email] = mail.outbox
    assert email.to == ["customer@example.com"]
    assert email.subject == "New reply: Broken zipper"
    assert "We are on it" in email.body
    assert str(conversation.pk) in email.body
    conversation.refresh_from_db()
    assert conversation.customer_notified_at is not None


def test_no_email_while_the_customer_is_connected(user, staff_user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)
    presence_join(conversation_id=conversation.pk, user_id=user.pk)

    _agent_reply(conversation, staff_user, callbacks_fixture=django_capture_on_commit_callbacks)

    assert mail.outbox == []
    conversation.refresh_from_db()
    assert conversation.customer_notified_at is None


def test_no_email_for_customer_messages(user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)

    _agent_reply(conversation, user, callbacks_fixture=django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_no_email_for_a_customer_without_email(staff_user, django_capture_on_commit_callbacks):
    phone_only = UserFactory(email=None, phone="+14155550123")
    conversation = ConversationFactory(customer=phone_only)

    _agent_reply(conversation, staff_user, callbacks_fixture=django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_reading_rearms_the_email(user, staff_user, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)
    first = _agent_reply(conversation, staff_user, "one", django_capture_on_commit_callbacks)

    services.messages_mark_read(conversation_id=conversation.pk, reader=user, up_to_message_id=first.pk)
    _agent_reply(conversation, staff_user, "two", django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2


def test_email_again_after_the_cooldown(user, staff_user, chat_settings, django_capture_on_commit_callbacks):
    conversation = ConversationFactory(customer=user)
    _agent_reply(conversation, staff_user, "one", django_capture_on_commit_callbacks)
    Conversation.objects.filter(pk=conversation.pk).update(customer_notified_at=timezone.now() - timedelta(minutes=16))

    _agent_reply(conversation, staff_user, "two", django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2
