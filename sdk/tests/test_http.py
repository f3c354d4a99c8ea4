"""Transport behaviour against a faked HTTP boundary: auth, refresh, retries, errors, cart token."""

import json
import threading
import uuid

import pytest
import requests
import responses
from responses import matchers

from sdk import (
    APIConnectionError,
    AuthenticationError,
    BadRequest,
    Conflict,
    ECommerceClient,
    MethodNotAllowed,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Tokens,
    ValidationError,
)
from sdk.http import parse_retry_after

from .conftest import API, BASE, error_body

ME = f"{API}account/me/"
REFRESH = f"{API}authentication/token/refresh/"
ME_BODY = {"id": "6a4f", "email": "cam@example.com", "first_name": "Cam"}


def sent_headers(call) -> dict:
    return dict(call.request.headers)


# --- base URL and headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url", ["https://api.test", "https://api.test/", "https://api.test/api/v1", "https://api.test/api/v1/"]
)
def test_base_url_with_or_without_api_prefix_reaches_api_v1(mocked, base_url):
    mocked.get(f"{API}products/", json={"count": 0, "next": None, "previous": None, "results": []})

    ECommerceClient(base_url).get_products()

    assert mocked.calls[0].request.url == f"{API}products/"


def test_access_token_is_sent_as_bearer_with_a_request_id(mocked, client):
    mocked.get(ME, json=ME_BODY, match=[matchers.header_matcher({"Authorization": "Bearer access-1"})])

    user = client.get_me()

    headers = sent_headers(mocked.calls[0])
    assert user.email == "cam@example.com"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("ecommerce-sdk/1.0.0 ")
    assert len(headers["X-Request-ID"]) == 32


def test_no_authorization_header_without_a_token(mocked, anon_client):
    mocked.get(f"{API}products/", json={"count": 0, "next": None, "previous": None, "results": []})

    anon_client.get_products()

    assert "Authorization" not in sent_headers(mocked.calls[0])


def test_login_endpoints_never_send_a_stale_access_token(mocked, client):
    mocked.post(
        f"{API}authentication/login/",
        json={"user": ME_BODY, "tokens": {"access": "access-2", "refresh": "refresh-2"}},
    )

    client.login("cam@example.com", "pw")

    assert "Authorization" not in sent_headers(mocked.calls[0])


# --- refresh --------------------------------------------------------------------------------------


def test_401_refreshes_once_stores_rotated_tokens_and_retries(mocked, client, token_events):
    mocked.get(ME, status=401, json=error_body("token_not_valid", "Token is expired"))
    mocked.post(
        REFRESH,
        json={"access": "access-2", "refresh": "refresh-2"},
        match=[matchers.json_params_matcher({"refresh": "refresh-1"})],
    )
    mocked.get(ME, json=ME_BODY, match=[matchers.header_matcher({"Authorization": "Bearer access-2"})])

    user = client.get_me()

    assert user.first_name == "Cam"
    assert len(mocked.calls) == 3
    assert "Authorization" not in sent_headers(mocked.calls[1])
    assert (client.token, client.refresh_token) == ("access-2", "refresh-2")
    assert token_events == [Tokens(access="access-2", refresh="refresh-2")]
    # The retry is the same logical call: same request id.
    assert sent_headers(mocked.calls[0])["X-Request-ID"] == sent_headers(mocked.calls[2])["X-Request-ID"]


def test_refresh_failure_raises_authentication_error_and_forgets_tokens(mocked, client, token_events):
    mocked.get(ME, status=401, json=error_body("token_not_valid", "Token is expired"))
    mocked.post(REFRESH, status=401, json=error_body("token_not_valid", "Token is blacklisted", attr="refresh"))

    with pytest.raises(AuthenticationError) as caught:
        client.get_me()

    assert caught.value.code == "token_not_valid"
    assert caught.value.detail == "Token is blacklisted"
    assert len(mocked.calls) == 2  # the original call is not repeated without a token
    assert (client.token, client.refresh_token) == (None, None)
    assert token_events == [None]


def test_refresh_answered_400_is_still_an_authentication_error(mocked, client):
    mocked.get(ME, status=401, json=error_body("token_not_valid"))
    mocked.post(
        REFRESH, status=400, json=error_body("required", "This field is required.", "refresh", "validation_error")
    )

    with pytest.raises(AuthenticationError) as caught:
        client.get_me()

    assert (caught.value.status, caught.value.code, caught.value.attr) == (401, "required", "refresh")


def test_refresh_server_error_keeps_tokens(mocked, client, token_events):
    mocked.get(ME, status=401, json=error_body("token_not_valid"))
    mocked.post(REFRESH, status=500, json=error_body("error", "Server Error (500)", kind="server_error"))

    with pytest.raises(ServerError):
        client.get_me()

    assert (client.token, client.refresh_token) == ("access-1", "refresh-1")
    assert token_events == []


def test_second_401_after_refresh_is_raised_not_looped(mocked, client):
    mocked.get(ME, status=401, json=error_body("token_not_valid"))
    mocked.post(REFRESH, json={"access": "access-2", "refresh": "refresh-2"})
    mocked.get(ME, status=401, json=error_body("user_inactive", "User is inactive"))

    with pytest.raises(AuthenticationError) as caught:
        client.get_me()

    assert caught.value.code == "user_inactive"
    assert len(mocked.calls) == 3


def test_401_without_refresh_token_is_raised_at_once(mocked, sleeps):
    client = ECommerceClient(BASE, token="access-1")
    mocked.get(ME, status=401, json=error_body("token_not_valid"))

    with pytest.raises(AuthenticationError):
        client.get_me()

    assert len(mocked.calls) == 1


def test_wrong_password_is_not_refreshed(mocked, client):
    mocked.post(f"{API}authentication/login/", status=401, json=error_body("authentication_failed", "Bad login."))

    with pytest.raises(AuthenticationError) as caught:
        client.login("cam@example.com", "wrong")

    assert caught.value.code == "authentication_failed"
    assert len(mocked.calls) == 1
    assert client.refresh_token == "refresh-1"


def test_token_refreshed_by_another_caller_meanwhile_is_reused_without_spending_the_refresh_token(mocked, client):
    def expired_while_someone_else_refreshed(request):
        client.http.access_token = "access-from-other-thread"
        return (401, {}, json.dumps(error_body("token_not_valid")))

    mocked.add_callback(responses.GET, ME, callback=expired_while_someone_else_refreshed)
    mocked.get(ME, json=ME_BODY, match=[matchers.header_matcher({"Authorization": "Bearer access-from-other-thread"})])

    client.get_me()

    assert [call.request.url for call in mocked.calls] == [ME, ME]
    assert client.refresh_token == "refresh-1"


def test_concurrent_401s_share_one_refresh(mocked, client, token_events):
    both_in_flight = threading.Barrier(2, timeout=5)

    def me(request):
        if request.headers["Authorization"] == "Bearer access-1":
            both_in_flight.wait()  # both threads hold the stale token when their 401s arrive
            return (401, {}, json.dumps(error_body("token_not_valid")))
        return (200, {}, json.dumps(ME_BODY))

    mocked.add_callback(responses.GET, ME, callback=me)
    mocked.post(REFRESH, json={"access": "access-2", "refresh": "refresh-2"})
    emails: list[str] = []
    threads = [threading.Thread(target=lambda: emails.append(client.get_me().email)) for _ in range(2)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert emails == ["cam@example.com", "cam@example.com"]
    assert [call.request.url for call in mocked.calls].count(REFRESH) == 1
    assert token_events == [Tokens(access="access-2", refresh="refresh-2")]


def test_refresh_on_demand(mocked, client, token_events):
    mocked.post(REFRESH, json={"access": "access-9", "refresh": "refresh-9"})

    tokens = client.refresh()

    assert (tokens.access, tokens.refresh) == ("access-9", "refresh-9")
    assert token_events == [Tokens(access="access-9", refresh="refresh-9")]


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (400, "validation_error", ValidationError),
        (400, "client_error", BadRequest),
        (401, "client_error", AuthenticationError),
        (403, "client_error", PermissionDenied),
        (404, "client_error", NotFound),
        (405, "client_error", MethodNotAllowed),
        (409, "client_error", Conflict),
        (422, "client_error", BadRequest),
        (429, "client_error", RateLimited),
        (500, "server_error", ServerError),
        (503, "server_error", ServiceUnavailable),
    ],
)
def test_error_status_maps_to_exception_class(mocked, anon_client, status, kind, expected):
    anon_client.http.max_retries = 0
    mocked.get(f"{API}orders/", status=status, json=error_body("some_code", "Some detail.", kind=kind))

    with pytest.raises(expected) as caught:
        anon_client.get_orders()

    assert type(caught.value) is expected
    assert (caught.value.status, caught.value.type, caught.value.code) == (status, kind, "some_code")


def test_error_carries_code_attr_detail_extras_and_request_id(mocked, client):
    body = {
        "type": "client_error",
        "errors": [
            {
                "code": "insufficient_stock",
                "detail": "Only 2 available.",
                "attr": "quantity",
                "variant_id": 7,
                "available_quantity": 2,
                "requested": 3,
            }
        ],
    }
    mocked.post(f"{API}cart/items/", status=409, json=body, headers={"X-Request-ID": "req-42"})

    with pytest.raises(Conflict) as caught:
        client.add_cart_item(variant_id=7, quantity=3)

    error = caught.value
    assert (error.code, error.detail, error.attr, error.request_id) == (
        "insufficient_stock",
        "Only 2 available.",
        "quantity",
        "req-42",
    )
    assert error.errors[0].extra == {"variant_id": 7, "available_quantity": 2, "requested": 3}
    assert error.has_code("insufficient_stock")
    assert str(error) == "409 insufficient_stock (quantity): Only 2 available. [request_id=req-42]"


def test_validation_error_keeps_every_field_error(mocked, anon_client):
    body = {
        "type": "validation_error",
        "errors": [
            {"code": "invalid", "detail": "Enter a valid email address.", "attr": "email"},
            {"code": "password_too_short", "detail": "Too short.", "attr": "password"},
            {"code": "password_too_common", "detail": "Too common.", "attr": "password"},
        ],
    }
    mocked.post(f"{API}authentication/register/", status=400, json=body)

    with pytest.raises(ValidationError) as caught:
        anon_client.register("nope", "123")

    assert caught.value.codes == ["invalid", "password_too_short", "password_too_common"]
    assert [e.code for e in caught.value.errors_for("password")] == ["password_too_short", "password_too_common"]


def test_non_json_error_page_still_gets_a_code(mocked, anon_client):
    anon_client.http.max_retries = 0
    mocked.get(f"{API}products/", status=502, body="<html>Bad Gateway</html>", content_type="text/html")

    with pytest.raises(ServerError) as caught:
        anon_client.get_products()

    assert (caught.value.status, caught.value.type, caught.value.code) == (502, "server_error", "http_502")
    assert caught.value.detail == "<html>Bad Gateway</html>"


# --- retries --------------------------------------------------------------------------------------


def test_get_is_retried_on_503_with_exponential_backoff(mocked, client, sleeps):
    mocked.get(f"{API}orders/", status=503, json=error_body("service_unavailable", kind="server_error"))
    mocked.get(f"{API}orders/", status=502, body="")
    mocked.get(f"{API}orders/", status=504, body="")
    mocked.get(f"{API}orders/", json={"count": 0, "next": None, "previous": None, "results": []})

    page = client.get_orders()

    assert page.count == 0
    assert len(mocked.calls) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_get_gives_up_after_max_retries(mocked, client, sleeps):
    mocked.get(f"{API}orders/", status=503, json=error_body("service_unavailable", kind="server_error"))

    with pytest.raises(ServiceUnavailable):
        client.get_orders()

    assert len(mocked.calls) == 4  # the first try and three retries
    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_is_capped(mocked, sleeps):
    client = ECommerceClient(BASE, max_retries=4, backoff_factor=1, max_backoff=3)
    client.http.sleep = sleeps.append
    mocked.get(f"{API}products/", status=503, body="")

    with pytest.raises(ServerError):
        client.get_products()

    assert sleeps == [1, 2, 3, 3]


def test_get_is_retried_after_a_connection_error(mocked, client, sleeps):
    mocked.get(ME, body=requests.ConnectionError("connection refused"))
    mocked.get(ME, json=ME_BODY)

    assert client.get_me().email == "cam@example.com"
    assert sleeps == [0.5]


def test_connection_error_after_retries_is_an_api_connection_error(mocked, client):
    mocked.get(ME, body=requests.ConnectionError("connection refused"))

    with pytest.raises(APIConnectionError) as caught:
        client.get_me()

    assert caught.value.method == "GET"
    assert len(mocked.calls) == 4


def test_post_without_idempotency_key_is_not_retried_on_503(mocked, client, sleeps):
    mocked.post(f"{API}cart/items/", status=503, json=error_body("service_unavailable", kind="server_error"))

    with pytest.raises(ServiceUnavailable):
        client.add_cart_item(variant_id=1, quantity=1)

    assert len(mocked.calls) == 1
    assert sleeps == []


def test_post_without_idempotency_key_is_not_retried_on_connection_error(mocked, client):
    mocked.post(f"{API}cart/items/", body=requests.ConnectionError("reset by peer"))

    with pytest.raises(APIConnectionError):
        client.add_cart_item(variant_id=1, quantity=1)

    assert len(mocked.calls) == 1


def test_patch_is_not_retried(mocked, client):
    mocked.patch(ME, status=503, body="")

    with pytest.raises(ServerError):
        client.update_me(first_name="Ada")

    assert len(mocked.calls) == 1


def test_checkout_is_retried_with_the_same_idempotency_key_and_body(mocked, client, sleeps):
    order = {"id": "0b5c", "number": "100001", "status": "pending_payment", "total": "42.50", "currency": "USD"}
    mocked.post(f"{API}orders/", status=503, json=error_body("service_unavailable", kind="server_error"))
    mocked.post(f"{API}orders/", body=requests.ConnectionError("reset by peer"))
    mocked.post(f"{API}orders/", status=201, json=order)

    placed = client.create_order(shipping_address_id="addr-5", shipping_method_id="ship-2", expected_total="42.50")

    keys = [sent_headers(call)["Idempotency-Key"] for call in mocked.calls]
    bodies = [json.loads(call.request.body) for call in mocked.calls]
    assert placed.number == "100001"
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert uuid.UUID(keys[0]).version == 4
    assert bodies == [{"shipping_address_id": "addr-5", "shipping_method_id": "ship-2", "expected_total": "42.50"}] * 3
    assert sleeps == [0.5, 1.0]


def test_each_checkout_call_gets_its_own_key_and_a_given_key_is_used(mocked, client):
    mocked.post(f"{API}orders/", status=201, json={"id": "a"})

    client.create_order(shipping_address_id=5, shipping_method_id=2)
    client.create_order(shipping_address_id=5, shipping_method_id=2)
    client.create_order(shipping_address_id=5, shipping_method_id=2, idempotency_key="my-key-1")

    keys = [sent_headers(call)["Idempotency-Key"] for call in mocked.calls]
    assert keys[0] != keys[1]
    assert keys[2] == "my-key-1"


def test_payment_is_retried_with_the_same_idempotency_key(mocked, client):
    payment = {
        "id": "p1",
        "order_id": "o1",
        "provider": "dummy",
        "status": "succeeded",
        "amount": "42.50",
        "currency": "USD",
        "client_secret": None,
    }
    mocked.post(f"{API}payments/", status=502, body="")
    mocked.post(f"{API}payments/", status=201, json=payment, match=[matchers.json_params_matcher({"order_id": "o1"})])

    result = client.create_payment("o1")

    keys = [sent_headers(call)["Idempotency-Key"] for call in mocked.calls]
    assert keys[0] == keys[1]
    assert uuid.UUID(keys[0]).version == 4
    assert (result.status, str(result.amount)) == ("succeeded", "42.50")


def test_keyed_call_still_running_on_the_server_is_asked_again_with_the_same_key(mocked, client, sleeps):
    mocked.post(f"{API}payments/", status=409, json=error_body("idempotency_request_in_progress"))
    mocked.post(f"{API}payments/", status=201, json={"id": "p1", "status": "succeeded"})

    payment = client.create_payment("o1", idempotency_key="k")

    assert payment.id == "p1"
    assert [sent_headers(call)["Idempotency-Key"] for call in mocked.calls] == ["k", "k"]
    assert sleeps == [0.5]


def test_other_conflicts_of_keyed_calls_are_final(mocked, client):
    mocked.post(f"{API}orders/", status=409, json=error_body("insufficient_stock", available_quantity=1))

    with pytest.raises(Conflict) as caught:
        client.create_order(shipping_address_id="a", shipping_method_id="m", idempotency_key="k")

    assert caught.value.code == "insufficient_stock"
    assert len(mocked.calls) == 1


def test_unkeyed_conflict_in_progress_is_not_retried(mocked, client):
    mocked.post(f"{API}cart/items/", status=409, json=error_body("idempotency_request_in_progress"))

    with pytest.raises(Conflict):
        client.add_cart_item(1)

    assert len(mocked.calls) == 1


def test_429_waits_for_retry_after_then_retries(mocked, client, sleeps):
    mocked.get(f"{API}products/", status=429, json=error_body("throttled"), headers={"Retry-After": "2"})
    mocked.get(f"{API}products/", json={"count": 0, "next": None, "previous": None, "results": []})

    client.get_products()

    assert sleeps == [2.0]
    assert len(mocked.calls) == 2


def test_retry_after_longer_than_the_cap_raises_rate_limited_at_once(mocked, client, sleeps):
    client.http.max_retry_after = 5
    mocked.get(f"{API}products/", status=429, json=error_body("throttled"), headers={"Retry-After": "120"})

    with pytest.raises(RateLimited) as caught:
        client.get_products()

    assert caught.value.retry_after == 120.0
    assert sleeps == []
    assert len(mocked.calls) == 1


def test_login_lockout_surfaces_retry_after(mocked, anon_client):
    mocked.post(
        f"{API}authentication/login/",
        status=429,
        json=error_body("login_locked", "Too many attempts."),
        headers={"Retry-After": "900"},
    )

    with pytest.raises(RateLimited) as caught:
        anon_client.login("cam@example.com", "pw")

    assert (caught.value.code, caught.value.retry_after) == ("login_locked", 900.0)
    assert len(mocked.calls) == 1


def test_parse_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait


# --- cart token -----------------------------------------------------------------------------------


def test_cart_token_from_the_server_is_sent_on_later_calls(mocked, anon_client):
    cart = {"id": "c0ffee00-0000-4000-8000-000000000001", "items": [], "total": "0.00", "currency": "USD"}
    mocked.post(f"{API}cart/items/", status=201, json=cart, headers={"X-Cart-Token": cart["id"]})
    mocked.get(f"{API}cart/", json=cart, match=[matchers.header_matcher({"X-Cart-Token": cart["id"]})])

    anon_client.add_cart_item(variant_id=3, quantity=1)
    anon_client.get_cart()

    assert "X-Cart-Token" not in sent_headers(mocked.calls[0])
    assert anon_client.cart_token == cart["id"]


def test_cart_token_given_to_the_constructor_is_sent(mocked):
    client = ECommerceClient(BASE, cart_token="tok-1")
    mocked.get(
        f"{API}cart/", json={"id": "tok-1", "items": []}, match=[matchers.header_matcher({"X-Cart-Token": "tok-1"})]
    )

    assert client.get_cart().id == "tok-1"


def test_cart_token_is_forgotten_on_logout(mocked, client, token_events):
    client.cart_token = "tok-1"
    mocked.post(
        f"{API}authentication/logout/", status=204, match=[matchers.json_params_matcher({"refresh": "refresh-1"})]
    )

    client.logout()

    assert (client.token, client.refresh_token, client.cart_token) == (None, None, None)
    assert token_events == [None]
