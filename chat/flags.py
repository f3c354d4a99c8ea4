"""The `support_chat` feature flag (django-waffle), for views and websocket consumers alike."""

from django.http import HttpRequest
from waffle import flag_is_active

SUPPORT_CHAT_FLAG = "support_chat"


def support_chat_enabled(*, request: HttpRequest | None = None, user=None) -> bool:
    """Websocket consumers have no HttpRequest: they pass the user, and waffle's per-user rules
    (everyone, staff, authenticated, users, groups) decide as they would for a request."""
    if request is None:
        request = HttpRequest()
        request.user = user
    return bool(flag_is_active(request, SUPPORT_CHAT_FLAG))
