"""Verifying Google ID tokens (Google Sign-In, One Tap) ourselves with PyJWT.

Google signs ID tokens with RS256 keys it publishes as a JWKS at GOOGLE_CERTS_URL and rotates every
few days. We fetch that set over HTTP with the social-auth timeout and keep it in the cache for as long
as Google's `Cache-Control: max-age` says. A token naming a key we do not have makes us fetch again
(Google rotated), but at most once per JWKS_MIN_REFRESH_SECONDS, so forged tokens with made-up key
ids cannot turn every login attempt into a call to Google."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache

from .errors import ProviderNotConfigured, ProviderUnavailable, SocialTokenInvalid

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
JWKS_CACHE_KEY = "social:google:jwks:v1"
JWKS_DEFAULT_MAX_AGE = 3600
JWKS_MAX_AGE_CAP = 24 * 3600
JWKS_MIN_REFRESH_SECONDS = 60
# After a failed fetch, logins with an ID token answer 502 at once for this long instead of each
# waiting out another timeout against a Google that is not answering.
JWKS_FAILURE_KEY = "social:google:jwks:failed"
JWKS_FAILURE_BACKOFF_SECONDS = 10
_MAX_AGE = re.compile(r"max-age=(\d+)")


def google_client_ids() -> list[str]:
    """The audiences we accept: the web client id plus the mobile apps' (GOOGLE_ALLOWED_CLIENT_IDS)."""
    ids = [settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY, *getattr(settings, "GOOGLE_ALLOWED_CLIENT_IDS", [])]
    return list(dict.fromkeys(client_id for client_id in ids if client_id))


def google_id_token_claims(*, id_token: str) -> dict[str, Any]:
    """The verified claims of a Google ID token: RS256 signature by one of Google's current keys,
    `aud` one of our client ids, `iss` Google, `exp` not passed (GOOGLE_ID_TOKEN_LEEWAY_SECONDS of
    clock skew allowed). Raises SocialTokenInvalid (400) naming what is wrong, ProviderUnavailable
    when Google's keys cannot be fetched, ProviderNotConfigured without any client id."""
    audiences = google_client_ids()
    if not audiences:
        raise ProviderNotConfigured(attr="provider")
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise _invalid("The ID token is malformed.") from None
    if header.get("alg") != "RS256":
        raise _invalid("The ID token is not signed with RS256.")
    key = _signing_key(header.get("kid"))
    if key is None:
        raise _invalid("The ID token is not signed with one of Google's keys.")
    return _decode(id_token, key=key, audiences=audiences)


def _decode(id_token: str, *, key: jwt.PyJWK, audiences: Sequence[str]) -> dict[str, Any]:
    try:
        return jwt.decode(
            id_token,
            key=key,
            algorithms=["RS256"],
            audience=list(audiences),
            issuer=GOOGLE_ISSUERS,
            leeway=settings.GOOGLE_ID_TOKEN_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.InvalidSignatureError:
        raise _invalid("The ID token's signature is invalid.") from None
    except jwt.ExpiredSignatureError:
        raise _invalid("The ID token has expired.") from None
    except jwt.InvalidAudienceError:
        raise _invalid("The ID token was issued for another client.") from None
    except jwt.InvalidIssuerError:
        raise _invalid("The ID token was not issued by Google.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise _invalid(f"The ID token has no {exc.claim} claim.") from None
    except jwt.PyJWTError:
        raise _invalid("The ID token is invalid.") from None


def _invalid(detail: str) -> SocialTokenInvalid:
    return SocialTokenInvalid(detail, attr="id_token")


def _signing_key(kid: Any) -> jwt.PyJWK | None:
    if not isinstance(kid, str) or not kid:
        return None
    cached = cache.get(JWKS_CACHE_KEY)
    if cached is not None:
        key = _find_key(cached["jwks"], kid)
        if key is not None or time.time() - cached["fetched_at"] < JWKS_MIN_REFRESH_SECONDS:
            return key
    return _find_key(_fetch_jwks(), kid)


def _find_key(jwks: dict[str, Any], kid: str) -> jwt.PyJWK | None:
    for jwk in jwks.get("keys") or []:
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            try:
                return jwt.PyJWK(jwk, algorithm="RS256")
            except jwt.PyJWTError:
                return None
    return None


def _fetch_jwks() -> dict[str, Any]:
    if cache.get(JWKS_FAILURE_KEY):
        raise ProviderUnavailable()
    try:
        response = requests.get(GOOGLE_CERTS_URL, timeout=settings.SOCIAL_AUTH_REQUESTS_TIMEOUT)
        response.raise_for_status()
        jwks = response.json()
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ValueError("not a JWKS")
    except (requests.RequestException, ValueError):
        cache.set(JWKS_FAILURE_KEY, True, timeout=JWKS_FAILURE_BACKOFF_SECONDS)
        raise ProviderUnavailable() from None
    match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
    max_age = int(match.group(1)) if match else JWKS_DEFAULT_MAX_AGE
    cache.set(
        JWKS_CACHE_KEY,
        {"jwks": jwks, "fetched_at": time.time()},
        timeout=min(max(max_age, JWKS_MIN_REFRESH_SECONDS), JWKS_MAX_AGE_CAP),
    )
    return jwks
