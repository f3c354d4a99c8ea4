from rest_framework.permissions import BasePermission

from chat.flags import support_chat_enabled
from core.errors import NotFound


class SupportChatEnabled(BasePermission):
    """With the `support_chat` flag off, every chat endpoint answers 404, as if it did not exist."""

    def has_permission(self, request, view) -> bool:
        if not support_chat_enabled(request=request):
            raise NotFound()
        return True
