"""Social login with what a browser or app gets from the provider: an access token, a Google ID token
(One Tap / Sign-In button), or an authorization code (optionally PKCE) that we redeem ourselves.

Every form ends in the same social-auth pipeline (account.social), so an existing account is linked
by the same provider-verified-email rule whichever form the client sent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from social_core.exceptions import AuthAssociationError, SocialAuthBaseException
from social_django.utils import load_backend, load_strategy

from . import services
from .errors import (
    AccountDisabled,
    EmailTaken,
    IdTokenNotSupported,
    ProviderNotConfigured,
    ProviderNotFound,
    ProviderUnavailable,
    RedirectUriNotAllowed,
    SocialEmailUnverified,
    SocialTokenInvalid,
)
from .services import SOCIAL_PROVIDERS, LoginResult
from .social_google import google_id_token_claims

_REJECTED = {
    "id_token": "The provider did not accept this ID token.",
    "code": "The provider did not accept this authorization code.",
}


def social_login_with_credential(
    *,
    provider: str,
    access_token: str | None = None,
    id_token: str | None = None,
    code: str | None = None,
    code_verifier: str | None = None,
    redirect_uri: str | None = None,
) -> LoginResult:
    """Exactly one of access_token, id_token, code (the input serializer guarantees it)."""
    if access_token is not None:
        return services.social_login(provider=provider, access_token=access_token)
    if id_token is not None:
        return social_login_with_id_token(provider=provider, id_token=id_token)
    return social_login_with_code(
        provider=provider, code=code or "", code_verifier=code_verifier, redirect_uri=redirect_uri or ""
    )


def social_login_with_id_token(*, provider: str, id_token: str) -> LoginResult:
    """Google only: the ID token is verified here (account.social_google), its claims are the
    profile. Google refuses nothing on our behalf, so `email_verified` is checked as the userinfo
    path does (social_email_unverified when it is not true)."""
    backend = _backend(provider)
    if provider != "google-oauth2":
        raise IdTokenNotSupported(attr="id_token")
    claims = google_id_token_claims(id_token=id_token)
    try:
        backend.validate_email_verified(claims, stage="token_validation")
        with transaction.atomic():
            user = backend.strategy.authenticate(backend=backend, response=claims, credential_field="id_token")
    except SocialAuthBaseException as exc:
        raise _social_error(exc, attr="id_token") from None
    return _logged_in(user, attr="id_token")


def social_login_with_code(
    *, provider: str, code: str, redirect_uri: str, code_verifier: str | None = None
) -> LoginResult:
    """Redeem the authorization code at the provider's token endpoint with our client secret (and the
    PKCE verifier when the client used one), then log in with the access token as `social_login`
    does. The redirect_uri must be one of SOCIAL_AUTH_ALLOWED_REDIRECT_URIS, compared exactly."""
    backend = _backend(provider)
    key, secret = backend.get_key_and_secret()
    if not key or not secret:
        raise ProviderNotConfigured(attr="provider")
    if redirect_uri not in settings.SOCIAL_AUTH_ALLOWED_REDIRECT_URIS:
        raise RedirectUriNotAllowed(attr="redirect_uri")
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": key,
        "client_secret": secret,
    }
    if code_verifier:
        params["code_verifier"] = code_verifier
    as_query = backend.ACCESS_TOKEN_METHOD == "GET"  # Facebook's Graph token endpoint
    try:
        token_response = backend.request_access_token(
            backend.access_token_url(),
            method=backend.ACCESS_TOKEN_METHOD,
            params=params if as_query else None,
            data=None if as_query else params,
            headers=backend.auth_headers(),
        )
        access_token = backend.get_access_token(token_response)
        with transaction.atomic():
            user = backend.do_auth(access_token, response=token_response, credential_field="code")
    except SocialAuthBaseException as exc:
        raise _social_error(exc, attr="code") from None
    return _logged_in(user, attr="code")


def _backend(provider: str) -> Any:
    if provider not in SOCIAL_PROVIDERS:
        raise ProviderNotFound()
    return load_backend(load_strategy(), provider, redirect_uri=None)


def _logged_in(user, *, attr: str) -> LoginResult:
    if user is None:
        raise SocialTokenInvalid(_REJECTED[attr], attr=attr)
    if not user.is_active:
        raise AccountDisabled()
    return services._login(user)


def _social_error(exc: SocialAuthBaseException, *, attr: str) -> Exception:
    # The same mapping as services._social_error for access tokens, naming the field the client sent.
    if exc.recovery == "retry_later":  # timeout, connection failure, 5xx, 429
        return ProviderUnavailable()
    if exc.claim == "email_verified":
        return SocialEmailUnverified(attr=attr)
    if isinstance(exc, AuthAssociationError):
        return EmailTaken(str(exc), attr=attr)
    return SocialTokenInvalid(_REJECTED[attr], attr=attr)
