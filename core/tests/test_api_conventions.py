"""Errors, auth header forms, pagination, request ids: the conventions of SPEC.md section 4."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

pytestmark = [pytest.mark.django_db, pytest.mark.urls("core.tests.urls")]


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_api_url_is_404_in_error_shape(api_client, method):
    response = getattr(api_client, method)("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }


def test_wrong_method_is_405_in_error_shape(auth_client):
    response = auth_client.delete("/test/whoami/")

    assert response.status_code == 405
    body = response.json()
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] == "method_not_allowed"


def test_unauthenticated_is_401_in_error_shape(api_client):
    response = api_client.get("/test/whoami/")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_access_token_works_with_bearer_and_token(api_client, user, scheme):
    token = RefreshToken.for_user(user).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")

    response = api_client.get("/test/whoami/")

    assert response.status_code == 200
    assert response.json() == {"id": str(user.id)}


def test_refresh_token_is_not_an_access_token(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")

    assert api_client.get("/test/whoami/").status_code == 401


def test_unhandled_exception_is_500_in_error_shape():
    client = APIClient(raise_request_exception=False)

    response = client.get("/test/explode/")

    assert response.status_code == 500
    assert response.json() == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "Server Error (500)", "attr": None}],
    }


def test_throttled_is_429_with_retry_after(api_client, throttle_rates):
    throttle_rates(tests="2/hour")

    codes = [api_client.get("/test/throttled/").status_code for _ in range(3)]
    response = api_client.get("/test/throttled/")

    assert codes == [200, 200, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["errors"][0]["code"] == "throttled"


def test_request_id_is_generated_and_echoed(api_client):
    generated = api_client.get("/health/live/")
    echoed = api_client.get("/health/live/", HTTP_X_REQUEST_ID="abc-123")
    hostile = api_client.get("/health/live/", HTTP_X_REQUEST_ID="bad id\nInjected: yes")

    assert len(generated["X-Request-ID"]) == 32
    assert echoed["X-Request-ID"] == "abc-123"
    assert hostile["X-Request-ID"] != "bad id\nInjected: yes"
    assert len(hostile["X-Request-ID"]) == 32


@override_settings(DEBUG=False)
def test_metrics_endpoint_exports_prometheus_text(api_client):
    api_client.get("/health/live/")

    response = api_client.get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


@pytest.mark.django_db
def test_null_character_in_a_lookup_is_400_not_500(staff_client, api_client):
    """PostgreSQL refuses NUL in text; a slug field or URL id carrying one must not become a 500."""
    created = staff_client.post(
        "/api/v1/products/",
        {"name": "Lamp", "category": "lamps\x00", "variants": [{"sku": "L-1", "price": "10.00"}]},
        format="json",
    )
    fetched = api_client.get("/api/v1/products/lamp%00/")

    assert created.status_code == 400, created.content
    assert created.json()["type"] == "validation_error"
    assert fetched.status_code in (400, 404), fetched.content
    assert fetched.json()["type"] in ("validation_error", "client_error")
