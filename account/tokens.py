"""Tokens: JWT pairs for the login shape, their rotation and revocation, and signed email-verification
links."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from .errors import NoActiveAccount, RefreshTokenInvalid, VerificationTokenExpired, VerificationTokenInvalid
from .models import User
from .signals import user_sessions_ended

EMAIL_VERIFICATION_SALT = "account.email-verification"
# The user's session_version when the token was issued; tokens without it count as version 0.
SESSION_VERSION_CLAIM = "sv"


def tokens_for_user(user) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)  # recorded as outstanding, so it can be revoked later
    refresh[SESSION_VERSION_CLAIM] = user.session_version  # copied into the access token below
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_session_is_current(token, user) -> bool:
    return token.get(SESSION_VERSION_CLAIM, 0) == user.session_version


def user_refresh_tokens_revoke(user) -> int:
    """End every session of the user at once: bump `session_version`, so every access and refresh
    token issued before stops authenticating, and blacklist the live refresh tokens. Tokens issued
    after this call (a password change's fresh pair) work."""
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])  # a later save() of `user` must not undo the bump
    user_sessions_ended.send(sender=User, user=user)
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    return len(created)


@transaction.atomic
def refresh_token_rotate(*, refresh: str) -> tuple[User, dict[str, str]]:
    """Spend a refresh token for a new pair. Atomic: the token's outstanding row is locked, so of
    concurrent uses of one token exactly one wins and the others see it blacklisted (simplejwt's own
    rotation checks and blacklists with get_or_create, so parallel uses all passed)."""
    try:
        token = RefreshToken(refresh)  # signature, expiry, type; the blacklist is checked again under the lock
    except TokenError:
        raise RefreshTokenInvalid(attr="refresh")
    # order_by: the model's default ordering joins the (nullable) user, which FOR UPDATE refuses.
    outstanding = (
        OutstandingToken.objects.select_for_update().filter(jti=token[jwt_settings.JTI_CLAIM]).order_by("pk").first()
    )
    # Every refresh token we issue is outstanding (tokens_for_user); one that is not was not issued here.
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise RefreshTokenInvalid(attr="refresh")
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        raise NoActiveAccount()
    if not token_session_is_current(token, user):  # issued before the user's sessions were ended
        raise RefreshTokenInvalid(attr="refresh")
    BlacklistedToken.objects.create(token=outstanding)  # unique per token: the last line of defence
    return user, tokens_for_user(user)


def email_verification_token(*, user_id, email: str, registration_id=None) -> str:
    """A signed, timestamped token naming the account, the address it proves and, for a sign-up, the
    registration (PendingRegistration) whose password the account gets. It is single use because
    verifying changes what it is checked against (the address becomes verified)."""
    payload = {"u": str(user_id), "e": email.lower()}
    if registration_id is not None:
        payload["r"] = str(registration_id)
    return signing.dumps(payload, salt=EMAIL_VERIFICATION_SALT, compress=True)


def email_verification_read(token: str) -> tuple[str, str, str | None]:
    """(user id, address, registration id or None)."""
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
    registration_id = payload.get("r")
    return str(payload["u"]), str(payload["e"]), str(registration_id) if registration_id is not None else None
