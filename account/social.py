"""Our steps of social-auth's pipeline (settings.SOCIAL_AUTH_PIPELINE).

social_core finds an already linked social account itself (`social_user`). For a new one these steps
decide: link it to the existing account with the same email only when the provider says it verified
that email; otherwise create a fresh account."""

from __future__ import annotations

from typing import Any

from .errors import AccountDisabled, SocialEmailInUse
from .models import User
from .services import normalize_email, user_create_from_social, user_link_verified_social_email


def provider_verified_email(backend, response: dict[str, Any], details: dict[str, Any]) -> str | None:
    """The email the provider vouches for, or None. Google sends `email_verified` (and social_core
    refuses Google logins without it). Facebook's Graph API does not say whether an email was
    confirmed and Instagram's gives no email at all, so neither is trusted for linking."""
    email = normalize_email(details.get("email") or "")
    if email and backend.name == "google-oauth2" and response.get("email_verified") is True:
        return email
    return None


def associate_by_verified_email(backend, details, response, user=None, *args, **kwargs):
    """`credential_field` (access_token, id_token or code: what the client sent) names the field of
    the error; account.social_credentials passes it through the pipeline's kwargs."""
    if user is not None:
        return None
    email = normalize_email(details.get("email") or "")
    if not email:
        return None
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        return None
    if provider_verified_email(backend, response, details) != email:
        raise SocialEmailInUse(attr=kwargs.get("credential_field", "access_token"))
    if not existing.is_active:
        raise AccountDisabled()
    return {"user": user_link_verified_social_email(user=existing), "is_new": False}


def create_user(backend, details, response, user=None, *args, **kwargs):
    if user is not None:
        return {"is_new": False}
    email = normalize_email(details.get("email") or "") or None
    new_user = user_create_from_social(
        email=email,
        email_verified=provider_verified_email(backend, response, details) is not None,
        first_name=details.get("first_name") or "",
        last_name=details.get("last_name") or "",
    )
    return {"is_new": True, "user": new_user}
