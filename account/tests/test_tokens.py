"""JWT: both header forms, tampering, expiry, refresh rotation and blacklisting, logout."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from .factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/account/me/"
REFRESH = "/api/v1/authentication/token/refresh/"
LOGOUT = "/api/v1/authentication/logout/"


def get_me(client, header):
    return client.get(ME, HTTP_AUTHORIZATION=header)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_access_token_works_as_bearer_and_as_token(api_client, customer, scheme):
    token = AccessToken.for_user(customer)

    response = get_me(api_client, f"{scheme} {token}")

    assert response.status_code == 200
    assert response.json()["id"] == str(customer.id)


@pytest.mark.parametrize("header", ["JWT {t}", "Basic {t}", "{t}", "Bearer", "Bearer {t} extra"])
def test_other_header_forms_are_refused(api_client, customer, header):
    token = AccessToken.for_user(customer)

    response = get_me(api_client, header.format(t=token))

    assert response.status_code == 401


def test_alg_none_token_is_refused(api_client, customer):
    real = AccessToken.for_user(customer)
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(dict(real.payload))}."

    response = get_me(api_client, f"Bearer {unsigned}")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_token_signed_with_another_key_is_refused(api_client, customer):
    payload = dict(AccessToken.for_user(customer).payload)
    forged = jwt.encode(payload, "not-our-signing-key-0123456789abcdef", algorithm="HS256")

    response = get_me(api_client, f"Bearer {forged}")

    assert response.status_code == 401


def test_token_with_an_edited_payload_is_refused(api_client, customer):
    other = UserFactory()
    header, _payload, signature = str(AccessToken.for_user(customer)).split(".")
    edited = dict(AccessToken.for_user(customer).payload, user_id=str(other.id))

    response = get_me(api_client, f"Bearer {header}.{b64(edited)}.{signature}")

    assert response.status_code == 401


def test_expired_access_token_is_refused(api_client, customer):
    token = AccessToken.for_user(customer)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=15))

    response = get_me(api_client, f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_refresh_token_used_as_access_token_is_refused(api_client, customer):
    refresh = RefreshToken.for_user(customer)

    response = get_me(api_client, f"Bearer {refresh}")

    assert response.status_code == 401


def test_token_of_a_deactivated_user_is_refused(api_client, customer):
    token = AccessToken.for_user(customer)
    customer.is_active = False
    customer.save()

    assert get_me(api_client, f"Bearer {token}").status_code == 401


def test_no_token_is_401_in_the_error_shape(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_refresh_rotates_and_blacklists_the_used_token(api_client, customer):
    refresh = RefreshToken.for_user(customer)

    response = api_client.post(REFRESH, {"refresh": str(refresh)})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != str(refresh)
    assert AccessToken(body["access"])["user_id"] == str(customer.id)
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    reused = api_client.post(REFRESH, {"refresh": str(refresh)})
    assert reused.status_code == 401
    assert reused.json()["errors"][0]["code"] == "token_not_valid"
    assert api_client.post(REFRESH, {"refresh": body["refresh"]}).status_code == 200


def test_refresh_counts_as_activity_for_the_retention_rule(api_client, customer):
    long_ago = timezone.now() - timedelta(days=300)
    customer.last_login = long_ago
    customer.save()

    api_client.post(REFRESH, {"refresh": str(RefreshToken.for_user(customer))})

    customer.refresh_from_db()
    assert customer.last_login > long_ago + timedelta(days=299)


def test_access_token_cannot_be_used_to_refresh(api_client, customer):
    response = api_client.post(REFRESH, {"refresh": str(AccessToken.for_user(customer))})

    assert response.status_code == 401


def test_refresh_for_a_deactivated_user_is_refused(api_client, customer):
    refresh = RefreshToken.for_user(customer)
    customer.is_active = False
    customer.save()

    response = api_client.post(REFRESH, {"refresh": str(refresh)})

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "no_active_account"


def test_logout_blacklists_the_refresh_token(api_client, customer):
    refresh = RefreshToken.for_user(customer)

    response = api_client.post(LOGOUT, {"refresh": str(refresh)})

    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__jti=refresh["jti"]).exists()
    assert api_client.post(REFRESH, {"refresh": str(refresh)}).status_code == 401


def test_logout_with_a_bad_token_is_401_and_blacklists_nothing(api_client):
    response = api_client.post(LOGOUT, {"refresh": "not-a-token"})

    assert response.status_code == 401
    assert BlacklistedToken.objects.count() == 0


def test_logout_without_a_token_is_400(api_client):
    response = api_client.post(LOGOUT, {})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "refresh"
