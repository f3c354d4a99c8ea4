"""Tokens: JWT pairs for the login shape, their revocation, and signed email-verification links."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from .errors import VerificationTokenExpired, VerificationTokenInvalid

EMAIL_VERIFICATION_SALT = "account.email-verification"


def tokens_for_user(user) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)  # recorded as outstanding, so it can be revoked later
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_refresh_tokens_revoke(user) -> int:
    """Blacklist every live refresh token of the user: all their sessions end at the next refresh.
    Access tokens still run out within JWT_ACCESS_TOKEN_MINUTES (or at once if the user is inactive)."""
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(created)


def email_verification_token(*, user_id, email: str) -> str:
    """A signed, timestamped token naming the account and the address it proves. It is single use
    because verifying changes what it is checked against (the address becomes verified)."""
    return signing.dumps({"u": str(user_id), "e": email.lower()}, salt=EMAIL_VERIFICATION_SALT, compress=True)


def email_verification_read(token: str) -> tuple[str, str]:
    try:
        payload = signing.loads(
            token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE_HOURS * 3600
        )
    except signing.SignatureExpired:
        raise VerificationTokenExpired(attr="token")
    except signing.BadSignature:
        raise VerificationTokenInvalid(attr="token")
    if not isinstance(payload, dict) or not {"u", "e"} <= payload.keys():
        raise VerificationTokenInvalid(attr="token")
    return str(payload["u"]), str(payload["e"])
