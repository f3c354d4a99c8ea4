"""The API's JWT authentication: simplejwt's, plus the session check that lets the account end every
session at once (password reset or change, email verification of a pre-registered address, erasure).

DRF imports this while core.errors is still loading, so it imports nothing of ours at module level."""

from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token):
        from .tokens import token_session_is_current

        user = super().get_user(validated_token)  # the one query; the check below needs no other
        if not token_session_is_current(validated_token, user):
            raise InvalidToken("This session has ended; log in again.")
        return user
