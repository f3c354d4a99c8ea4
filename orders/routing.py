"""Websocket routes of the orders app, mounted by ecommerce_api/asgi.py before chat's catch-all."""

from django.urls import re_path

from .consumers import OrderStatusConsumer

websocket_urlpatterns: list = [
    # Any segment matches so a malformed id is refused with 4404 by the consumer, like an unknown one.
    re_path(r"^ws/orders/(?P<order_id>[^/]+)/$", OrderStatusConsumer.as_asgi()),
]
