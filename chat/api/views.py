from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from chat import selectors, services
from chat.errors import ConversationNotFound
from chat.filters import ConversationFilter
from chat.models import Conversation, Message
from core.openapi import error_responses
from core.pagination import CursorPagination
from core.permissions import IsStaff
from core.viewsets import OwnedQuerysetMixin

from .permissions import SupportChatEnabled
from .serializers import (
    ConversationAssignSerializer,
    ConversationOpenSerializer,
    ConversationSerializer,
    MessageSendSerializer,
    MessageSerializer,
    MessagesReadSerializer,
    ReadReceiptSerializer,
)

UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class ChatWriteThrottleMixin:
    """Writes (new conversations, messages) share the `chat` throttle scope; reads do not."""

    @property
    def throttle_scope(self) -> str | None:
        request = getattr(self, "request", None)
        return "chat" if request is not None and request.method == "POST" else None


class MessageCursorPagination(CursorPagination):
    ordering = "-created_at"


@extend_schema_view(
    list=extend_schema(summary="List conversations (customers: their own; staff: all, with filters)"),
    retrieve=extend_schema(summary="A conversation"),
)
class ConversationViewSet(
    ChatWriteThrottleMixin,
    OwnedQuerysetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    owner_field = "customer"
    staff_sees_all = True
    permission_classes = [SupportChatEnabled, IsAuthenticated]
    queryset = Conversation.objects.all()
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return selectors.conversation_list(viewer=self.request.user, queryset=super().get_queryset())

    def _answer(self, conversation: Conversation, status_code: int = status.HTTP_200_OK) -> Response:
        # Re-read through the viewer's list so the answer carries the same fields as GET.
        fresh = selectors.conversation_list(viewer=self.request.user).get(pk=conversation.pk)
        return Response(ConversationSerializer(fresh).data, status=status_code)

    @extend_schema(
        summary="Open a conversation with a first message",
        request=ConversationOpenSerializer,
        responses={201: ConversationSerializer},
    )
    def create(self, request):
        params = ConversationOpenSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        conversation = services.conversation_open(
            customer=request.user,
            body=data["body"],
            subject=data.get("subject", ""),
            product_slug=data.get("product"),
            order_id=data.get("order_id"),
        )
        return self._answer(conversation, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Assign a conversation to a staff member (staff)",
        request=ConversationAssignSerializer,
        responses={200: ConversationSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"], permission_classes=[SupportChatEnabled, IsStaff])
    def assign(self, request, pk=None):
        params = ConversationAssignSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        # Omitted means "take it myself"; an explicit null unassigns.
        agent_id = params.validated_data.get("agent_id", request.user.pk)
        conversation = services.conversation_assign(conversation_id=pk, agent_id=agent_id)
        return self._answer(conversation)

    @extend_schema(
        summary="Close a conversation (staff)",
        request=None,
        responses={200: ConversationSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"], permission_classes=[SupportChatEnabled, IsStaff])
    def close(self, request, pk=None):
        conversation = services.conversation_close(conversation_id=pk)
        return self._answer(conversation)

    @extend_schema(
        summary="Mark messages from the other side read, up to a message",
        request=MessagesReadSerializer,
        responses={200: ReadReceiptSerializer},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        params = MessagesReadSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        receipt = services.messages_mark_read(
            conversation_id=pk, reader=request.user, up_to_message_id=params.validated_data["message_id"]
        )
        return Response(ReadReceiptSerializer(receipt).data)


@extend_schema_view(
    list=extend_schema(summary="Message history, newest first (cursor-paginated)"),
)
class ConversationMessageViewSet(ChatWriteThrottleMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Scoped through the conversation: the customer's own or, for staff, any; else 404."""

    permission_classes = [SupportChatEnabled, IsAuthenticated]
    serializer_class = MessageSerializer
    pagination_class = MessageCursorPagination
    queryset = Message.objects.none()

    def get_queryset(self):
        conversation = selectors.conversation_get_for_member(
            viewer=self.request.user, conversation_id=self.kwargs["conversation_pk"]
        )
        if conversation is None:
            raise ConversationNotFound()
        return selectors.message_history(conversation=conversation)

    @extend_schema(
        summary="Send a message (for clients without websockets; broadcast to the room too)",
        request=MessageSendSerializer,
        responses={201: MessageSerializer, **error_responses(409)},
    )
    def create(self, request, conversation_pk=None):
        params = MessageSendSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        message = services.message_send(
            conversation_id=conversation_pk, sender=request.user, body=params.validated_data["body"]
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
