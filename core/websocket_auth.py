"""Websocket authentication with the same JWT as the REST API: `?token=<access>` or an
`Authorization: Bearer|Token <access>` header. Unauthenticated sockets get AnonymousUser; each
consumer decides whether to admit them. `scope["token_expires_at"]` (epoch seconds) lets a consumer
close the socket when the token that opened it expires."""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(raw_token: str) -> tuple[Any, int | None]:
    """The token's user and expiry, or AnonymousUser for a token that does not authenticate."""
    from rest_framework.settings import api_settings
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

    # The REST API's own class (a subclass of simplejwt's), so a session ended there ends here too.
    auth = next(cls for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES if issubclass(cls, JWTAuthentication))()
    try:
        validated = auth.get_validated_token(raw_token)
        return auth.get_user(validated), validated.get("exp")
    except (InvalidToken, TokenError, AuthenticationFailed):
        return AnonymousUser(), None


def token_from_scope(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode())
    if query.get("token"):
        return query["token"][0]
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            parts = value.decode().split()
            if len(parts) == 2 and parts[0] in ("Bearer", "Token"):
                return parts[1]
    return None


class JWTAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        raw_token = token_from_scope(scope)
        user, expires_at = await _user_for_token(raw_token) if raw_token else (AnonymousUser(), None)
        scope["user"], scope["token_expires_at"] = user, expires_at
        return await super().__call__(scope, receive, send)


def websocket_allowed_origins() -> list[str]:
    """Origin patterns a websocket handshake may come from: this site's hosts (ALLOWED_HOSTS, as
    Channels' AllowedHostsOriginValidator) and the browser origins the REST API admits through CORS
    (CORS_ALLOWED_ORIGINS, exact scheme://host:port), so a storefront on another origin can open
    the chat and order sockets it can already call the API from."""
    from django.conf import settings

    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    patterns = [*hosts, *getattr(settings, "CORS_ALLOWED_ORIGINS", [])]
    if getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False):
        patterns.append("*")
    return patterns


class CorsAwareOriginValidator(OriginValidator):
    """Refuses a handshake whose Origin is missing or not one of `websocket_allowed_origins()`
    (read per handshake, so a settings change applies without a restart of the router)."""

    def __init__(self, application):
        super().__init__(application, allowed_origins=())

    def valid_origin(self, parsed_origin) -> bool:
        patterns = websocket_allowed_origins()
        if parsed_origin is None:
            return "*" in patterns
        return any(pattern == "*" or self.match_allowed_origin(parsed_origin, pattern) for pattern in patterns)
