"""Social login with the providers' HTTP APIs faked by `responses`."""

import hashlib
import hmac
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from rest_framework.test import APIClient
from social_django.models import UserSocialAuth

from account.models import User

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOGLE_USERINFO = "https://www.googleapis.com/oauth2/v3/userinfo"
FACEBOOK_ME = "https://graph.facebook.com/v24.0/me"
INSTAGRAM_ME = "https://graph.instagram.com/me"


def social(client, provider, token="provider-access-token"):
    return client.post(f"/api/v1/authentication/social/{provider}/", {"access_token": token})


@pytest.fixture
def providers_configured(settings):
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "google-client-id"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "google-secret"
    settings.SOCIAL_AUTH_FACEBOOK_KEY = "fb-app-id"
    settings.SOCIAL_AUTH_FACEBOOK_SECRET = "fb-secret"
    settings.SOCIAL_AUTH_INSTAGRAM_KEY = "ig-app-id"
    settings.SOCIAL_AUTH_INSTAGRAM_SECRET = "ig-secret"


@pytest.fixture
def provider_api():
    with responses.RequestsMock() as mock:
        yield mock


def google_profile(**overrides):
    return {
        "sub": "google-uid-1",
        "email": "Ann@Example.com",
        "email_verified": True,
        "given_name": "Ann",
        "family_name": "Lee",
        "name": "Ann Lee",
        **overrides,
    }


def test_social_login_is_404_while_the_flag_is_off(api_client, providers_configured):
    response = social(api_client, "google-oauth2")

    assert response.status_code == 404


def test_unknown_provider_is_404(api_client, social_flag, providers_configured):
    response = social(api_client, "myspace")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "provider_not_found"


def test_unconfigured_provider_is_400_and_calls_nobody(api_client, social_flag, provider_api):
    response = social(api_client, "google-oauth2")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "provider_not_configured"
    assert len(provider_api.calls) == 0
    assert User.objects.count() == 0


def test_google_creates_a_verified_account(api_client, social_flag, providers_configured, provider_api):
    provider_api.get(GOOGLE_USERINFO, json=google_profile())

    response = social(api_client, "google-oauth2", token="ya29.token")

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["user", "tokens"]
    user = User.objects.get()
    assert body["user"]["id"] == str(user.id)
    assert (user.email, user.email_verified, user.first_name, user.last_name) == ("ann@example.com", True, "Ann", "Lee")
    assert user.has_usable_password() is False
    link = UserSocialAuth.objects.get()
    assert (link.user_id, link.provider, link.uid) == (user.id, "google-oauth2", "google-uid-1")
    assert "access_token" not in link.extra_data  # we keep no provider token
    assert provider_api.calls[0].request.headers["Authorization"] == "Bearer ya29.token"


def test_google_links_an_existing_account_with_the_verified_email(
    api_client, social_flag, providers_configured, provider_api
):
    existing = UserFactory(email="ann@example.com", email_verified=True)
    provider_api.get(GOOGLE_USERINFO, json=google_profile())

    response = social(api_client, "google-oauth2")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(existing.id)
    assert User.objects.count() == 1
    assert UserSocialAuth.objects.get().user_id == existing.id
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)  # a verified owner keeps their password


def test_linking_an_unverified_account_drops_the_unproven_password(
    api_client, social_flag, providers_configured, provider_api
):
    squatter = UserFactory(email="ann@example.com", email_verified=False)
    provider_api.get(GOOGLE_USERINFO, json=google_profile())

    response = social(api_client, "google-oauth2")

    assert response.status_code == 200
    squatter.refresh_from_db()
    assert squatter.email_verified is True
    assert squatter.has_usable_password() is False


def test_a_linked_account_is_found_by_provider_uid(api_client, social_flag, providers_configured, provider_api):
    provider_api.get(GOOGLE_USERINFO, json=google_profile())
    first = social(api_client, "google-oauth2").json()["user"]["id"]
    provider_api.replace(responses.GET, GOOGLE_USERINFO, json=google_profile(email="ann.new@example.com"))

    second = social(api_client, "google-oauth2")

    assert second.json()["user"]["id"] == first
    assert User.objects.count() == 1


def test_google_without_a_verified_email_is_refused(api_client, social_flag, providers_configured, provider_api):
    provider_api.get(GOOGLE_USERINFO, json=google_profile(email_verified=False))

    response = social(api_client, "google-oauth2")

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "social_email_unverified"
    assert User.objects.count() == 0
    assert UserSocialAuth.objects.count() == 0


def test_a_rejected_access_token_is_400(api_client, social_flag, providers_configured, provider_api):
    provider_api.get(GOOGLE_USERINFO, status=401, json={"error": "invalid_token"})

    response = social(api_client, "google-oauth2", token="expired")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "invalid_social_token",
        "detail": "The provider did not accept this access token.",
        "attr": "access_token",
    }
    assert User.objects.count() == 0


def test_provider_outage_is_502(social_flag, providers_configured, provider_api):
    provider_api.get(GOOGLE_USERINFO, status=503, body="down")
    client = APIClient(raise_request_exception=False)  # a 5xx is reported like a crash; we check the answer

    response = social(client, "google-oauth2")

    assert response.status_code == 502
    assert response.json()["errors"][0]["code"] == "provider_unavailable"


def test_facebook_email_is_not_trusted_and_waits_for_our_verification(
    api_client, commit, mailoutbox, social_flag, providers_configured, provider_api
):
    provider_api.get(
        FACEBOOK_ME,
        json={"id": "fb-1", "email": "bo@example.com", "first_name": "Bo", "last_name": "Ray", "name": "Bo Ray"},
    )

    with commit():
        response = social(api_client, "facebook", token="fb-token")

    assert response.status_code == 200
    user = User.objects.get()
    assert (user.email, user.pending_email, user.email_verified) == (None, "bo@example.com", False)
    assert [mail.to for mail in mailoutbox] == [["bo@example.com"]]
    query = parse_qs(urlparse(provider_api.calls[0].request.url).query)
    assert query["access_token"] == ["fb-token"]
    assert query["appsecret_proof"] == [hmac.new(b"fb-secret", b"fb-token", hashlib.sha256).hexdigest()]


def test_facebook_never_links_to_an_existing_account(api_client, social_flag, providers_configured, provider_api):
    existing = UserFactory(email="bo@example.com")
    provider_api.get(FACEBOOK_ME, json={"id": "fb-1", "email": "bo@example.com", "name": "Bo Ray"})

    response = social(api_client, "facebook")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "email_taken"
    assert User.objects.count() == 1
    assert UserSocialAuth.objects.count() == 0
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)


def test_instagram_creates_an_account_without_email(api_client, social_flag, providers_configured, provider_api):
    provider_api.get(INSTAGRAM_ME, json={"id": "ig-77", "username": "bo.pics"})

    response = social(api_client, "instagram")

    assert response.status_code == 200
    user = User.objects.get()
    assert (user.email, user.pending_email) == (None, None)
    assert UserSocialAuth.objects.get().uid == "ig-77"


def test_a_deactivated_linked_account_cannot_log_in(api_client, social_flag, providers_configured, provider_api):
    provider_api.get(GOOGLE_USERINFO, json=google_profile())
    social(api_client, "google-oauth2")
    User.objects.update(is_active=False)

    response = social(api_client, "google-oauth2")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "account_disabled"


def test_access_token_is_required(api_client, social_flag, providers_configured):
    response = api_client.post("/api/v1/authentication/social/google-oauth2/", {})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "access_token"
