"""Unknown query parameters on the order list are a 400 naming them (core.filters)."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_parameter_on_the_order_list_is_a_400(auth_client):
    response = auth_client.get("/api/v1/orders/", {"stauts": "paid"})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "unknown_parameter" and error["attr"] == "stauts"
    assert "created_after, created_before, page, page_size, status" in error["detail"]


def test_documented_order_list_parameters_are_accepted(auth_client):
    response = auth_client.get(
        "/api/v1/orders/",
        {"status": ["paid", "shipped"], "created_after": "2024-01-01T00:00:00Z", "page": "1", "page_size": "5"},
    )

    assert response.status_code == 200
    assert response.json()["count"] == 0
