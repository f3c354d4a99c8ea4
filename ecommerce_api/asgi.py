"""ASGI entry point: HTTP through Django, websockets through Channels (JWT-authenticated)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce_api.settings.local")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import websocket_urlpatterns as chat_routes  # noqa: E402
from core.observability import configure_observability  # noqa: E402
from core.websocket_auth import CorsAwareOriginValidator, JWTAuthMiddleware  # noqa: E402
from orders.routing import websocket_urlpatterns as order_routes  # noqa: E402

configure_observability(component="asgi")

# Chat's routes end with the catch-all that refuses unknown paths with 4404: they come last.
# Origins: ALLOWED_HOSTS and CORS_ALLOWED_ORIGINS (core.websocket_auth.CorsAwareOriginValidator).
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": CorsAwareOriginValidator(JWTAuthMiddleware(URLRouter(order_routes + chat_routes))),
    }
)
