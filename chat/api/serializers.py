from django.conf import settings
from rest_framework import serializers

from chat import events
from chat.models import SUBJECT_MAX_LENGTH, Conversation, Message


class CustomerSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.SerializerMethodField()
    email = serializers.EmailField(read_only=True, allow_null=True)

    def get_name(self, user) -> str:
        return events.customer_display_name(user)


class AgentSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return events.agent_display_name(user)


class ProductSummarySerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)


class SenderSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True, allow_null=True, source="sender_id")
    name = serializers.SerializerMethodField()
    role = serializers.ChoiceField(choices=Message.SenderRole.choices, read_only=True, source="sender_role")

    def get_name(self, message) -> str:
        return events.sender_payload(message)["name"]


class MessageSerializer(serializers.ModelSerializer):
    """The same shape as the `message` of websocket events."""

    conversation_id = serializers.UUIDField(read_only=True)
    sender = SenderSerializer(source="*", read_only=True)

    class Meta:
        model = Message
        fields = ["id", "conversation_id", "sender", "body", "created_at", "read_at"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    customer = CustomerSummarySerializer(read_only=True)
    assigned_agent = AgentSummarySerializer(read_only=True, allow_null=True)
    product = ProductSummarySerializer(read_only=True, allow_null=True)
    unread_count = serializers.IntegerField(
        read_only=True, help_text="Messages from the other side that the caller has not read yet."
    )
    order_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="The order the question is about.")

    class Meta:
        model = Conversation
        fields = [
            "id",
            "subject",
            "status",
            "customer",
            "assigned_agent",
            "product",
            "order_id",
            "last_message_at",
            "created_at",
            "closed_at",
            "unread_count",
        ]
        read_only_fields = fields


def _body_field(help_text: str) -> serializers.CharField:
    # Emptiness and length are the service's rules, so REST and websocket clients get the same
    # codes (`message_empty`, `message_too_long`).
    return serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"{help_text} 1 to {settings.CHAT_MESSAGE_MAX_LENGTH} characters after trimming.",
    )


class ConversationOpenSerializer(serializers.Serializer):
    body = _body_field("The first message.")
    subject = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=SUBJECT_MAX_LENGTH,
        help_text="Defaults to the start of the first message.",
    )
    product = serializers.SlugField(
        required=False, allow_null=True, help_text="Slug of the product the question is about."
    )
    order_id = serializers.UUIDField(required=False, allow_null=True, help_text="The order the question is about.")


class ConversationAssignSerializer(serializers.Serializer):
    agent_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="An active staff member; null unassigns; omitted assigns the caller.",
    )


class MessageSendSerializer(serializers.Serializer):
    body = _body_field("The message.")


class MessagesReadSerializer(serializers.Serializer):
    message_id = serializers.UUIDField(
        help_text="The newest message the caller has seen; it and every earlier message from the other side are marked read."
    )


class ReadReceiptSerializer(serializers.Serializer):
    conversation_id = serializers.UUIDField(read_only=True)
    message_id = serializers.UUIDField(read_only=True)
    read_count = serializers.IntegerField(read_only=True, help_text="How many messages this call marked read.")
    read_at = serializers.DateTimeField(read_only=True)
