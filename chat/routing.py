"""Websocket routes, mounted by ecommerce_api/asgi.py."""

from django.urls import path, re_path

from .consumers import ConversationConsumer, SupportFeedConsumer, UnknownRouteConsumer

websocket_urlpatterns: list = [
    # Any segment matches so a malformed id is refused with 4404 by the consumer, like an unknown one.
    re_path(r"^ws/chat/(?P<conversation_id>[^/]+)/$", ConversationConsumer.as_asgi()),
    path("ws/support/", SupportFeedConsumer.as_asgi()),
    re_path(r"", UnknownRouteConsumer.as_asgi()),
]
