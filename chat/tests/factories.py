import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.models import Conversation, Message


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"chat-user-{n}@example.com")
    first_name = factory.Sequence(lambda n: f"User{n}")
    email_verified = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"chat-agent-{n}@example.com")
    first_name = factory.Sequence(lambda n: f"Agent{n}")
    is_staff = True


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    customer = factory.SubFactory(UserFactory)
    subject = factory.Sequence(lambda n: f"Question {n}")
    last_message_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    sender = factory.LazyAttribute(lambda message: message.conversation.customer)
    sender_role = Message.SenderRole.CUSTOMER
    body = factory.Sequence(lambda n: f"Message body {n}")
    created_at = factory.LazyFunction(timezone.now)
