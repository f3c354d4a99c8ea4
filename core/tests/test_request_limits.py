"""Cheap anonymous requests that used to be 500s: an oversized body, too many form fields, JSON
nested too deep. Each is the client's error, answered in the error shape."""

import pytest

LOGIN = "/api/v1/authentication/login/"

pytestmark = pytest.mark.django_db


def first_error(response) -> dict:
    return response.json()["errors"][0]


def test_a_json_body_over_the_limit_is_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = b'{"email": "' + b"a" * 2048 + b'"}'

    response = api_client.generic("POST", LOGIN, body, content_type="application/json")

    assert response.status_code == 413
    assert first_error(response)["code"] == "payload_too_large"


def test_a_form_body_over_the_limit_is_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = api_client.generic(
        "POST", LOGIN, "email=" + "a" * 2048, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 413


def test_a_body_within_the_limit_is_read_as_before(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = api_client.post(LOGIN, {"email": "nobody@example.com", "password": "wrong"}, format="json")

    assert response.status_code == 401


def test_too_many_form_fields_is_400(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    body = "&".join(f"field{i}=1" for i in range(150))

    response = api_client.generic("POST", LOGIN, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert first_error(response)["code"] == "too_many_fields"


def test_json_nested_a_thousand_levels_deep_is_400(api_client):
    body = "[" * 1000 + "]" * 1000

    response = api_client.generic("POST", LOGIN, body, content_type="application/json")

    assert response.status_code == 400
    assert first_error(response)["code"] == "parse_error"
