"""Social login with a Google ID token or an authorization code, the providers faked at the HTTP
boundary by `responses`: an RSA key made here signs the ID tokens and its JWKS is served from
Google's certs URL; the token endpoints answer as the providers do."""

import time
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from responses import matchers
from rest_framework.test import APIClient
from social_django.models import UserSocialAuth

from account.models import User
from account.social_google import GOOGLE_CERTS_URL, JWKS_MIN_REFRESH_SECONDS

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/authentication/social/{}/"
GOOGLE_USERINFO = "https://www.googleapis.com/oauth2/v3/userinfo"
GOOGLE_TOKEN = "https://accounts.google.com/o/oauth2/token"
FACEBOOK_TOKEN = "https://graph.facebook.com/v24.0/oauth/access_token"
FACEBOOK_ME = "https://graph.facebook.com/v24.0/me"
INSTAGRAM_TOKEN = "https://api.instagram.com/oauth/access_token"
INSTAGRAM_ME = "https://graph.instagram.com/me"
REDIRECT = "https://shop.example.com/auth/callback"
VERIFIER = "v" * 43


@pytest.fixture(scope="module")
def google_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(*keys_by_kid):
    keys = []
    for kid, key in keys_by_kid:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}


@pytest.fixture
def configured(settings):
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "web-client.apps.googleusercontent.com"
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "google-secret"
    settings.GOOGLE_ALLOWED_CLIENT_IDS = ["ios-client.apps.googleusercontent.com"]
    settings.GOOGLE_ID_TOKEN_LEEWAY_SECONDS = 30
    settings.SOCIAL_AUTH_FACEBOOK_KEY = "fb-app-id"
    settings.SOCIAL_AUTH_FACEBOOK_SECRET = "fb-secret"
    settings.SOCIAL_AUTH_INSTAGRAM_KEY = "ig-app-id"
    settings.SOCIAL_AUTH_INSTAGRAM_SECRET = "ig-secret"
    settings.SOCIAL_AUTH_ALLOWED_REDIRECT_URIS = [REDIRECT, "postmessage"]
    settings.SOCIAL_AUTH_REQUESTS_TIMEOUT = 3


@pytest.fixture
def provider_api():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def google_certs(provider_api, google_key):
    return provider_api.get(
        GOOGLE_CERTS_URL, json=jwks(("kid-1", google_key)), headers={"Cache-Control": "public, max-age=20000"}
    )


def claims(**overrides):
    now = int(time.time())
    return {
        "iss": "https://accounts.google.com",
        "aud": "web-client.apps.googleusercontent.com",
        "azp": "web-client.apps.googleusercontent.com",
        "sub": "google-uid-1",
        "email": "Ann@Example.com",
        "email_verified": True,
        "given_name": "Ann",
        "family_name": "Lee",
        "name": "Ann Lee",
        "iat": now,
        "exp": now + 3600,
        **overrides,
    }


def id_token(key, *, kid="kid-1", **overrides):
    return jwt.encode(claims(**overrides), key, algorithm="RS256", headers={"kid": kid})


def post(client, provider, body):
    return client.post(URL.format(provider), body, format="json")


def error(response):
    assert len(response.json()["errors"]) == 1
    return response.json()["errors"][0]


def google_profile(**overrides):
    return {"sub": "google-uid-1", "email": "ann@example.com", "email_verified": True, "given_name": "Ann", **overrides}


# --- ID token ------------------------------------------------------------------------------------


def test_google_id_token_creates_a_verified_account(api_client, social_flag, configured, google_certs, google_key):
    response = post(api_client, "google-oauth2", {"id_token": id_token(google_key)})

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["user", "tokens"]
    user = User.objects.get()
    assert body["user"]["id"] == str(user.id)
    assert (user.email, user.email_verified, user.first_name, user.last_name) == ("ann@example.com", True, "Ann", "Lee")
    link = UserSocialAuth.objects.get()
    assert (link.user_id, link.provider, link.uid) == (user.id, "google-oauth2", "google-uid-1")
    assert google_certs.call_count == 1
    assert google_certs.calls[0].request.req_kwargs["timeout"] == 3


def test_google_keys_are_cached_between_logins(api_client, social_flag, configured, google_certs, google_key):
    first = post(api_client, "google-oauth2", {"id_token": id_token(google_key)})
    second = post(api_client, "google-oauth2", {"id_token": id_token(google_key)})

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert google_certs.call_count == 1
    assert User.objects.count() == 1


def test_a_mobile_client_id_is_an_accepted_audience(api_client, social_flag, configured, google_certs, google_key):
    token = id_token(google_key, aud="ios-client.apps.googleusercontent.com", iss="accounts.google.com")

    response = post(api_client, "google-oauth2", {"id_token": token})

    assert response.status_code == 200
    assert User.objects.get().email == "ann@example.com"


def test_id_token_links_the_existing_account_with_the_verified_email(
    api_client, social_flag, configured, google_certs, google_key
):
    existing = UserFactory(email="ann@example.com", email_verified=True)

    response = post(api_client, "google-oauth2", {"id_token": id_token(google_key)})

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(existing.id)
    assert User.objects.count() == 1
    assert UserSocialAuth.objects.get().user_id == existing.id
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)


def test_id_token_and_access_token_reach_the_same_google_account(
    api_client, social_flag, configured, google_certs, google_key, provider_api
):
    provider_api.get(GOOGLE_USERINFO, json=google_profile())
    by_access_token = post(api_client, "google-oauth2", {"access_token": "ya29.token"})

    by_id_token = post(api_client, "google-oauth2", {"id_token": id_token(google_key)})

    assert by_id_token.json()["user"]["id"] == by_access_token.json()["user"]["id"]
    assert (User.objects.count(), UserSocialAuth.objects.count()) == (1, 1)


def test_an_unverified_google_email_neither_links_nor_logs_in(
    api_client, social_flag, configured, google_certs, google_key
):
    existing = UserFactory(email="ann@example.com", email_verified=True)

    response = post(api_client, "google-oauth2", {"id_token": id_token(google_key, email_verified=False)})

    assert response.status_code == 400
    assert error(response) == {
        "code": "social_email_unverified",
        "detail": "The provider did not confirm your email address.",
        "attr": "id_token",
    }
    assert list(User.objects.all()) == [existing]
    assert UserSocialAuth.objects.count() == 0
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("token_overrides", "detail"),
    [
        ({"aud": "someone-elses-client"}, "The ID token was issued for another client."),
        ({"iss": "https://evil.example.com"}, "The ID token was not issued by Google."),
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 3720}, "The ID token has expired."),
    ],
    ids=["wrong-aud", "wrong-iss", "expired"],
)
def test_an_id_token_with_wrong_claims_is_refused(
    api_client, social_flag, configured, google_certs, google_key, token_overrides, detail
):
    response = post(api_client, "google-oauth2", {"id_token": id_token(google_key, **token_overrides)})

    assert response.status_code == 400
    assert error(response) == {"code": "invalid_social_token", "detail": detail, "attr": "id_token"}
    assert (User.objects.count(), UserSocialAuth.objects.count()) == (0, 0)


def test_an_id_token_just_past_exp_is_within_the_leeway(api_client, social_flag, configured, google_certs, google_key):
    token = id_token(google_key, exp=int(time.time()) - 10)

    response = post(api_client, "google-oauth2", {"id_token": token})

    assert response.status_code == 200


def test_an_id_token_signed_by_another_key_is_refused(
    api_client, social_flag, configured, google_certs, google_key, other_key
):
    forged = id_token(other_key, kid="kid-1")  # Google's key id, someone else's key

    response = post(api_client, "google-oauth2", {"id_token": forged})

    assert response.status_code == 400
    assert error(response) == {
        "code": "invalid_social_token",
        "detail": "The ID token's signature is invalid.",
        "attr": "id_token",
    }
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode(claims(), "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256", headers={"kid": "kid-1"}),
        jwt.encode(claims(), None, algorithm="none"),
    ],
    ids=["garbage", "hs256", "alg-none"],
)
def test_an_id_token_not_signed_with_rs256_is_refused_without_fetching_keys(
    api_client, social_flag, configured, provider_api, token
):
    response = post(api_client, "google-oauth2", {"id_token": token})

    assert response.status_code == 400
    assert error(response)["code"] == "invalid_social_token"
    assert len(provider_api.calls) == 0
    assert User.objects.count() == 0


def test_rotated_google_keys_are_fetched_again(
    api_client, social_flag, configured, provider_api, google_key, other_key, monkeypatch
):
    certs = provider_api.get(GOOGLE_CERTS_URL, json=jwks(("kid-1", google_key)))
    assert post(api_client, "google-oauth2", {"id_token": id_token(google_key)}).status_code == 200
    provider_api.replace(responses.GET, GOOGLE_CERTS_URL, json=jwks(("kid-1", google_key), ("kid-2", other_key)))
    rotated = id_token(other_key, kid="kid-2")

    too_soon = post(api_client, "google-oauth2", {"id_token": rotated})
    later = time.time() + JWKS_MIN_REFRESH_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    after_a_while = post(api_client, "google-oauth2", {"id_token": rotated})

    assert too_soon.status_code == 400
    assert error(too_soon)["detail"] == "The ID token is not signed with one of Google's keys."
    assert after_a_while.status_code == 200
    assert certs.call_count == 1
    assert len([call for call in provider_api.calls if call.request.url == GOOGLE_CERTS_URL]) == 2


@pytest.mark.parametrize(
    "certs_answer",
    [{"body": requests.exceptions.ReadTimeout("slow")}, {"status": 500, "body": "down"}, {"body": "not json"}],
    ids=["timeout", "500", "garbage"],
)
def test_google_keys_out_of_reach_is_502(social_flag, configured, provider_api, google_key, certs_answer):
    provider_api.get(GOOGLE_CERTS_URL, **certs_answer)
    client = APIClient(raise_request_exception=False)

    response = post(client, "google-oauth2", {"id_token": id_token(google_key)})

    assert response.status_code == 502
    assert error(response)["code"] == "provider_unavailable"
    assert User.objects.count() == 0


def test_after_a_failed_key_fetch_logins_fail_fast_for_a_while(social_flag, configured, provider_api, google_key):
    from django.core.cache import cache

    from account.social_google import JWKS_FAILURE_KEY

    provider_api.get(GOOGLE_CERTS_URL, body=requests.exceptions.ReadTimeout("slow"))
    client = APIClient(raise_request_exception=False)

    answers = [post(client, "google-oauth2", {"id_token": id_token(google_key)}).status_code for _ in range(3)]

    assert answers == [502, 502, 502]
    assert len(provider_api.calls) == 1  # one wait for Google, not three
    cache.delete(JWKS_FAILURE_KEY)  # the backoff is over
    provider_api.replace(responses.GET, GOOGLE_CERTS_URL, json=jwks(("kid-1", google_key)))
    assert post(client, "google-oauth2", {"id_token": id_token(google_key)}).status_code == 200


def test_id_token_is_google_only(api_client, social_flag, configured, provider_api, google_key):
    response = post(api_client, "facebook", {"id_token": id_token(google_key)})

    assert response.status_code == 400
    assert error(response)["code"] == "id_token_not_supported"
    assert error(response)["attr"] == "id_token"
    assert len(provider_api.calls) == 0


def test_id_token_without_a_google_client_id_is_not_configured(
    api_client, social_flag, configured, settings, provider_api, google_key
):
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = ""
    settings.GOOGLE_ALLOWED_CLIENT_IDS = []

    response = post(api_client, "google-oauth2", {"id_token": id_token(google_key)})

    assert response.status_code == 400
    assert error(response)["code"] == "provider_not_configured"
    assert len(provider_api.calls) == 0


# --- Authorization code ----------------------------------------------------------------------------


def test_google_code_with_pkce_is_redeemed_then_logs_in(api_client, social_flag, configured, provider_api):
    token_endpoint = provider_api.post(
        GOOGLE_TOKEN,
        json={"access_token": "ya29.from-code", "token_type": "Bearer", "expires_in": 3599, "id_token": "x.y.z"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "4/auth-code",
                    "redirect_uri": REDIRECT,
                    "client_id": "web-client.apps.googleusercontent.com",
                    "client_secret": "google-secret",
                    "code_verifier": VERIFIER,
                }
            )
        ],
    )
    userinfo = provider_api.get(GOOGLE_USERINFO, json=google_profile())

    response = post(
        api_client, "google-oauth2", {"code": "4/auth-code", "code_verifier": VERIFIER, "redirect_uri": REDIRECT}
    )

    assert response.status_code == 200
    user = User.objects.get()
    assert response.json()["user"]["id"] == str(user.id)
    assert (user.email, user.email_verified) == ("ann@example.com", True)
    assert UserSocialAuth.objects.get().uid == "google-uid-1"
    assert "access_token" not in UserSocialAuth.objects.get().extra_data
    assert userinfo.calls[0].request.headers["Authorization"] == "Bearer ya29.from-code"
    assert token_endpoint.calls[0].request.req_kwargs["timeout"] == 3


def test_google_code_without_pkce_sends_no_verifier(api_client, social_flag, configured, provider_api):
    token_endpoint = provider_api.post(GOOGLE_TOKEN, json={"access_token": "ya29.from-code"})
    provider_api.get(GOOGLE_USERINFO, json=google_profile())

    response = post(api_client, "google-oauth2", {"code": "4/auth-code", "redirect_uri": "postmessage"})

    assert response.status_code == 200
    sent = parse_qs(token_endpoint.calls[0].request.body)
    assert "code_verifier" not in sent
    assert sent["redirect_uri"] == ["postmessage"]


def test_google_code_links_the_existing_account_with_the_verified_email(
    api_client, social_flag, configured, provider_api
):
    existing = UserFactory(email="ann@example.com", email_verified=True)
    provider_api.post(GOOGLE_TOKEN, json={"access_token": "ya29.from-code"})
    provider_api.get(GOOGLE_USERINFO, json=google_profile())

    response = post(api_client, "google-oauth2", {"code": "4/auth-code", "redirect_uri": REDIRECT})

    assert response.json()["user"]["id"] == str(existing.id)
    assert User.objects.count() == 1
    assert UserSocialAuth.objects.get().user_id == existing.id


def test_facebook_code_is_redeemed_at_the_graph_api(api_client, social_flag, configured, provider_api):
    token_endpoint = provider_api.get(FACEBOOK_TOKEN, json={"access_token": "fb-from-code", "expires_in": 5000})
    me = provider_api.get(FACEBOOK_ME, json={"id": "fb-1", "email": "bo@example.com", "name": "Bo Ray"})

    response = post(api_client, "facebook", {"code": "fb-code", "code_verifier": VERIFIER, "redirect_uri": REDIRECT})

    assert response.status_code == 200
    query = parse_qs(urlparse(token_endpoint.calls[0].request.url).query)
    assert query == {
        "grant_type": ["authorization_code"],
        "code": ["fb-code"],
        "redirect_uri": [REDIRECT],
        "client_id": ["fb-app-id"],
        "client_secret": ["fb-secret"],
        "code_verifier": [VERIFIER],
    }
    assert parse_qs(urlparse(me.calls[0].request.url).query)["access_token"] == ["fb-from-code"]
    user = User.objects.get()
    assert (user.email, user.pending_email) == (None, "bo@example.com")  # Facebook's email is not trusted
    assert UserSocialAuth.objects.get().uid == "fb-1"


def test_facebook_code_never_links_an_existing_account(api_client, social_flag, configured, provider_api):
    existing = UserFactory(email="bo@example.com")
    provider_api.get(FACEBOOK_TOKEN, json={"access_token": "fb-from-code"})
    provider_api.get(FACEBOOK_ME, json={"id": "fb-1", "email": "bo@example.com", "name": "Bo Ray"})

    response = post(api_client, "facebook", {"code": "fb-code", "redirect_uri": REDIRECT})

    assert response.status_code == 409
    assert (error(response)["code"], error(response)["attr"]) == ("email_taken", "code")
    assert list(User.objects.all()) == [existing]
    assert UserSocialAuth.objects.count() == 0


def test_instagram_code_is_redeemed(api_client, social_flag, configured, provider_api):
    token_endpoint = provider_api.post(INSTAGRAM_TOKEN, json={"access_token": "ig-from-code", "user_id": 77})
    provider_api.get(
        INSTAGRAM_ME,
        json={"id": "ig-77", "username": "bo.pics"},
        match=[matchers.query_param_matcher({"access_token": "ig-from-code", "fields": "id,username"})],
    )

    response = post(api_client, "instagram", {"code": "ig-code", "redirect_uri": REDIRECT})

    assert response.status_code == 200
    assert parse_qs(token_endpoint.calls[0].request.body)["client_secret"] == ["ig-secret"]
    assert UserSocialAuth.objects.get().uid == "ig-77"


@pytest.mark.parametrize("allowed", [[], ["https://shop.example.com/other"], [REDIRECT + "/"]])
def test_a_redirect_uri_outside_the_allow_list_is_400_and_calls_nobody(
    api_client, social_flag, configured, settings, provider_api, allowed
):
    settings.SOCIAL_AUTH_ALLOWED_REDIRECT_URIS = allowed

    response = post(api_client, "google-oauth2", {"code": "4/auth-code", "redirect_uri": REDIRECT})

    assert response.status_code == 400
    assert error(response) == {
        "code": "redirect_uri_not_allowed",
        "detail": "This redirect_uri is not allowed (SOCIAL_AUTH_ALLOWED_REDIRECT_URIS).",
        "attr": "redirect_uri",
    }
    assert len(provider_api.calls) == 0


def test_a_code_for_an_unconfigured_provider_is_400(api_client, social_flag, configured, settings, provider_api):
    settings.SOCIAL_AUTH_INSTAGRAM_SECRET = ""

    response = post(api_client, "instagram", {"code": "ig-code", "redirect_uri": REDIRECT})

    assert response.status_code == 400
    assert error(response)["code"] == "provider_not_configured"
    assert len(provider_api.calls) == 0


@pytest.mark.parametrize(
    ("provider", "method", "url"),
    [("google-oauth2", responses.POST, GOOGLE_TOKEN), ("facebook", responses.GET, FACEBOOK_TOKEN)],
)
def test_a_code_the_provider_refuses_is_400(api_client, social_flag, configured, provider_api, provider, method, url):
    provider_api.add(method, url, status=400, json={"error": "invalid_grant", "error_description": "Bad Request"})

    response = post(api_client, provider, {"code": "used-code", "redirect_uri": REDIRECT})

    assert response.status_code == 400
    assert error(response) == {
        "code": "invalid_social_token",
        "detail": "The provider did not accept this authorization code.",
        "attr": "code",
    }
    assert (User.objects.count(), UserSocialAuth.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    "token_answer",
    [{"body": requests.exceptions.ConnectTimeout("slow")}, {"body": requests.exceptions.ConnectionError("dns")}],
    ids=["timeout", "unreachable"],
)
def test_a_token_endpoint_out_of_reach_is_502(social_flag, configured, provider_api, token_answer):
    provider_api.post(GOOGLE_TOKEN, **token_answer)
    client = APIClient(raise_request_exception=False)

    response = post(client, "google-oauth2", {"code": "4/auth-code", "redirect_uri": REDIRECT})

    assert response.status_code == 502
    assert error(response)["code"] == "provider_unavailable"
    assert User.objects.count() == 0


def test_a_token_answer_without_access_token_is_400(api_client, social_flag, configured, provider_api):
    provider_api.post(GOOGLE_TOKEN, json={"token_type": "Bearer"})

    response = post(api_client, "google-oauth2", {"code": "4/auth-code", "redirect_uri": REDIRECT})

    assert response.status_code == 400
    assert error(response)["attr"] == "code"
    assert User.objects.count() == 0


# --- Which form --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, ["access_token", "id_token", "code"]),
        ({"access_token": "a", "id_token": "b"}, ["access_token", "id_token"]),
        ({"access_token": "a", "code": "c", "redirect_uri": REDIRECT}, ["access_token", "code"]),
    ],
    ids=["none", "token-and-id-token", "token-and-code"],
)
def test_exactly_one_credential_form(api_client, social_flag, configured, provider_api, body, named):
    response = post(api_client, "google-oauth2", body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["attr"] for e in errors] == named
    assert {e["code"] for e in errors} == {"one_credential_required"}
    assert len(provider_api.calls) == 0


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"code": "c"}, "redirect_uri", "required"),
        ({"access_token": "a", "code_verifier": VERIFIER}, "code_verifier", "only_with_code"),
        ({"id_token": "a", "redirect_uri": REDIRECT}, "redirect_uri", "only_with_code"),
        ({"code": "c", "redirect_uri": REDIRECT, "code_verifier": "short"}, "code_verifier", "invalid"),
    ],
)
def test_code_fields_are_checked(api_client, social_flag, configured, provider_api, body, attr, code):
    response = post(api_client, "google-oauth2", body)

    assert response.status_code == 400
    assert (error(response)["attr"], error(response)["code"]) == (attr, code)
    assert len(provider_api.calls) == 0
