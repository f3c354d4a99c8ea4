import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.tokens import default_token_generator
from djoser.utils import encode_uid
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from account.models import User

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET = "/api/v1/authentication/password/reset/"
CONFIRM = "/api/v1/authentication/password/reset/confirm/"
CHANGE = "/api/v1/authentication/password/change/"
LOGIN = "/api/v1/authentication/login/"
REFRESH = "/api/v1/authentication/token/refresh/"
NEW_PASSWORD = "brand-new-passphrase-42"


def reset_link_params(mail) -> dict:
    url = re.search(r"http\S+reset-password\S+", mail.body).group(0)
    query = parse_qs(urlparse(url).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}


def test_reset_request_emails_a_link_and_answers_the_same_for_unknown_addresses(
    api_client, commit, mailoutbox, customer
):
    with commit():
        known = api_client.post(RESET, {"email": "Jane@Example.com"})
        unknown = api_client.post(RESET, {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [mail.to for mail in mailoutbox] == [["jane@example.com"]]
    assert mailoutbox[0].subject == "Reset your E-commerce Shop password"
    assert reset_link_params(mailoutbox[0])["uid"] == encode_uid(customer.pk)


def test_reset_request_ignores_deactivated_accounts(api_client, commit, mailoutbox):
    UserFactory(email="gone@example.com", is_active=False)

    with commit():
        response = api_client.post(RESET, {"email": "gone@example.com"})

    assert response.status_code == 202
    assert mailoutbox == []


def test_reset_confirm_sets_the_password_and_ends_every_session(api_client, commit, mailoutbox, customer):
    session = RefreshToken.for_user(customer)
    with commit():
        api_client.post(RESET, {"email": "jane@example.com"})
    params = reset_link_params(mailoutbox[0])

    with commit():
        response = api_client.post(CONFIRM, {**params, "new_password": NEW_PASSWORD})

    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    assert BlacklistedToken.objects.filter(token__jti=session["jti"]).exists()
    assert api_client.post(REFRESH, {"refresh": str(session)}).status_code == 401
    assert mailoutbox[-1].subject == "Your E-commerce Shop password was changed"
    assert api_client.post(LOGIN, {"email": "jane@example.com", "password": NEW_PASSWORD}).status_code == 200


def test_reset_link_works_once(api_client, customer):
    params = {"uid": encode_uid(customer.pk), "token": default_token_generator.make_token(customer)}
    assert api_client.post(CONFIRM, {**params, "new_password": NEW_PASSWORD}).status_code == 204

    response = api_client.post(CONFIRM, {**params, "new_password": "yet-another-passphrase-7"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_token"
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_reset_confirm_verifies_the_email(api_client):
    user = UserFactory(email_verified=False)
    params = {"uid": encode_uid(user.pk), "token": default_token_generator.make_token(user)}

    api_client.post(CONFIRM, {**params, "new_password": NEW_PASSWORD})

    user.refresh_from_db()
    assert user.email_verified is True


@pytest.mark.parametrize(
    ("uid", "token", "code", "attr"),
    [
        ("bm90LWEtdXVpZA", "valid", "invalid_uid", "uid"),
        ("!!!", "valid", "invalid_uid", "uid"),
        ("own", "1a2b-0123456789abcdef", "invalid_token", "token"),
    ],
)
def test_reset_confirm_rejects_bad_uid_or_token(api_client, customer, uid, token, code, attr):
    uid = encode_uid(customer.pk) if uid == "own" else uid
    token = default_token_generator.make_token(customer) if token == "valid" else token

    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": code,
        "detail": response.json()["errors"][0]["detail"],
        "attr": attr,
    }
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_reset_confirm_applies_password_validators(api_client, customer):
    params = {"uid": encode_uid(customer.pk), "token": default_token_generator.make_token(customer)}

    response = api_client.post(CONFIRM, {**params, "new_password": "12345678"})

    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"new_password"}
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_change_password_needs_the_current_one(auth_client, user):
    response = auth_client.post(CHANGE, {"current_password": "wrong", "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_password"
    assert response.json()["errors"][0]["attr"] == "current_password"
    user.refresh_from_db()
    assert user.check_password("correct-horse-battery")


def test_change_password_ends_other_sessions_and_returns_fresh_tokens(auth_client, user, commit, mailoutbox):
    other_device = RefreshToken.for_user(user)

    with commit():
        response = auth_client.post(CHANGE, {"current_password": "correct-horse-battery", "new_password": NEW_PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["user", "tokens"]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert auth_client.post(REFRESH, {"refresh": str(other_device)}).status_code == 401
    assert auth_client.post(REFRESH, {"refresh": body["tokens"]["refresh"]}).status_code == 200
    assert [mail.subject for mail in mailoutbox] == ["Your E-commerce Shop password was changed"]


def test_change_password_applies_validators(auth_client, user):
    response = auth_client.post(CHANGE, {"current_password": "correct-horse-battery", "new_password": "customer"})

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password("correct-horse-battery")


def test_change_password_needs_authentication(api_client):
    assert api_client.post(CHANGE, {"current_password": "x", "new_password": NEW_PASSWORD}).status_code == 401


def test_reset_clears_the_account_lockout(api_client, customer):
    for i in range(5):
        api_client.post(LOGIN, {"email": "jane@example.com", "password": "nope"}, REMOTE_ADDR=f"10.1.0.{i}")
    assert (
        api_client.post(LOGIN, {"email": "jane@example.com", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1").status_code
        == 429
    )
    params = {"uid": encode_uid(customer.pk), "token": default_token_generator.make_token(customer)}

    api_client.post(CONFIRM, {**params, "new_password": NEW_PASSWORD})

    response = api_client.post(LOGIN, {"email": "jane@example.com", "password": NEW_PASSWORD}, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 200
    assert User.objects.get(pk=customer.pk).last_login is not None
