"""`/api/v1/` lists the resources and the docs; `/` sends a visitor to the docs."""

import pytest
from waffle.testutils import override_flag

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_resource_and_docs_urls(api_client):
    response = api_client.get("/api/v1/")

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "v1"
    assert body["docs"] == {
        "swagger_ui": "http://testserver/api/v1/schema/swagger-ui/",
        "redoc": "http://testserver/api/v1/schema/redoc/",
        "schema": "http://testserver/api/v1/schema/",
    }
    resources = body["resources"]
    assert resources["products"] == "http://testserver/api/v1/products/"
    assert resources["categories"] == "http://testserver/api/v1/categories/"
    assert resources["cart"] == "http://testserver/api/v1/cart/"
    assert resources["orders"] == "http://testserver/api/v1/orders/"
    assert resources["authentication_login"] == "http://testserver/api/v1/authentication/login/"
    # Every listed URL answers (or asks for a login), none is a 404.
    with override_flag("support_chat", active=True):
        for url in resources.values():
            assert api_client.get(url).status_code in (200, 400, 401, 405), url


def test_the_api_root_ignores_a_bad_token(api_client):
    response = api_client.get("/api/v1/", HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200


def test_the_site_root_redirects_to_the_docs(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
    assert client.get(response["Location"]).status_code == 200
