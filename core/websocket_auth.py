"""Websocket authentication with the same JWT as the REST API: `?token=<access>` or an
`Authorization: Bearer|Token <access>` header. Unauthenticated sockets get AnonymousUser; each
consumer decides whether to admit them. `scope["token_expires_at"]` (epoch seconds) lets a consumer
close the socket when the token that opened it expires."""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
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
