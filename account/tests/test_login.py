import time

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from account.models import AuthCounter

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/authentication/login/"
USER_KEYS = {
    "id",
    "email",
    "pending_email",
    "email_verified",
    "phone",
    "pending_phone",
    "phone_verified",
    "first_name",
    "last_name",
    "marketing_opt_in",
    "sms_opt_in",
    "is_staff",
    "date_joined",
}
INVALID = {
    "type": "client_error",
    "errors": [{"code": "invalid_credentials", "detail": "Invalid email or password.", "attr": None}],
}


def login(client, email, password=PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def test_login_returns_exactly_user_and_tokens(api_client, customer):
    response = login(api_client, "jane@example.com")

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["user", "tokens"]
    assert set(body["tokens"]) == {"access", "refresh"}
    assert set(body["user"]) == USER_KEYS
    assert body["user"]["id"] == str(customer.id)
    assert body["user"]["email"] == "jane@example.com"
    assert AccessToken(body["tokens"]["access"])["user_id"] == str(customer.id)
    assert RefreshToken(body["tokens"]["refresh"])["user_id"] == str(customer.id)


def test_login_token_lifetimes(api_client, customer):
    tokens = login(api_client, "jane@example.com").json()["tokens"]

    access, refresh = AccessToken(tokens["access"]), RefreshToken(tokens["refresh"])
    assert access["exp"] - access["iat"] <= 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600


def test_login_email_is_case_insensitive_and_records_last_login(api_client, customer):
    assert customer.last_login is None

    response = login(api_client, "  JANE@Example.COM ")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.last_login is not None
    assert (timezone.now() - customer.last_login).total_seconds() < 5


def test_wrong_password_and_unknown_email_get_the_same_401(api_client, customer):
    wrong = login(api_client, "jane@example.com", "wrong-password")
    unknown = login(api_client, "nobody@example.com")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == INVALID
    customer.refresh_from_db()
    assert customer.last_login is None


def test_unverified_email_with_the_right_password_is_told_to_verify(api_client):
    UserFactory(email="new@example.com", email_verified=False)

    response = login(api_client, "new@example.com")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "email_not_verified"


def test_unverified_email_with_a_wrong_password_learns_nothing(api_client):
    UserFactory(email="new@example.com", email_verified=False)

    response = login(api_client, "new@example.com", "wrong-password")

    assert response.json() == INVALID


def test_inactive_account_cannot_log_in(api_client):
    UserFactory(email="gone@example.com", is_active=False)

    response = login(api_client, "gone@example.com")

    assert response.status_code == 401
    assert response.json() == INVALID


def test_missing_fields_are_a_validation_error(api_client):
    response = api_client.post(LOGIN, {"email": "jane@example.com"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "password"


# --- Brute-force lockout ---------------------------------------------------------------------------


def test_five_failures_for_an_account_lock_it_out_with_retry_after(api_client, customer):
    failures = [login(api_client, "jane@example.com", "nope", ip=f"10.0.0.{i}").status_code for i in range(5)]

    locked = login(api_client, "jane@example.com", ip="10.0.0.99")  # right password, other IP

    assert failures == [401] * 5
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    error = locked.json()["errors"][0]
    assert error["code"] == "login_locked"
    customer.refresh_from_db()
    assert customer.last_login is None


def test_lockout_counts_unknown_emails_so_it_reveals_nothing(api_client):
    for i in range(5):
        login(api_client, "ghost@example.com", "nope", ip=f"10.0.1.{i}")

    assert login(api_client, "ghost@example.com", ip="10.0.1.50").status_code == 429


def test_five_failures_from_one_ip_lock_that_ip_out(api_client, customer):
    UserFactory(email="other@example.com")
    for i in range(5):
        assert login(api_client, f"victim{i}@example.com", "nope", ip="192.0.2.7").status_code == 401

    from_bad_ip = login(api_client, "other@example.com", ip="192.0.2.7")
    from_other_ip = login(api_client, "other@example.com", ip="192.0.2.8")

    assert from_bad_ip.status_code == 429
    assert int(from_bad_ip["Retry-After"]) > 0
    assert from_other_ip.status_code == 200


def test_four_failures_then_success_resets_the_account_counter(api_client, customer):
    for i in range(4):
        login(api_client, "jane@example.com", "nope", ip=f"10.0.2.{i}")
    assert login(api_client, "jane@example.com", ip="10.0.2.10").status_code == 200

    again = [login(api_client, "jane@example.com", "nope", ip=f"10.0.3.{i}").status_code for i in range(4)]

    assert again == [401] * 4
    assert login(api_client, "jane@example.com", ip="10.0.3.10").status_code == 200


def test_lockout_is_lifted_when_it_expires(api_client, customer, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    for i in range(5):
        login(api_client, "jane@example.com", "nope", ip=f"10.0.4.{i}")
    assert login(api_client, "jane@example.com", ip="10.0.4.9").status_code == 429

    time.sleep(1.2)

    assert login(api_client, "jane@example.com", ip="10.0.4.9").status_code == 200


def test_lockout_counters_live_in_the_database_under_hashed_keys_with_an_expiry(api_client, customer):
    for i in range(5):
        login(api_client, "jane@example.com", "nope", ip=f"10.0.5.{i}")

    assert login(api_client, "jane@example.com", ip="10.0.5.9").status_code == 429
    (lock,) = AuthCounter.objects.filter(key__startswith="account:login-lock:")  # the five IPs failed once each
    assert "jane" not in lock.key
    assert 14 * 60 < (lock.window_ends - timezone.now()).total_seconds() <= 15 * 60
    assert not AuthCounter.objects.filter(key__startswith="account:login-fail:", count__gte=5).exists()


def test_login_scope_throttle_applies(api_client, customer, throttle_rates):
    throttle_rates(login="2/hour")

    codes = [login(api_client, "jane@example.com", ip="10.0.6.1").status_code for _ in range(3)]

    assert codes == [200, 200, 429]
