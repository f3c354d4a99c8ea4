from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ConversationMessageViewSet, ConversationViewSet

router = SimpleRouter()
router.register("chat/conversations", ConversationViewSet, basename="chat-conversation")

urlpatterns = [
    path(
        "chat/conversations/<uuid:conversation_pk>/messages/",
        ConversationMessageViewSet.as_view({"get": "list", "post": "create"}),
        name="chat-conversation-messages",
    ),
    *router.urls,
]
