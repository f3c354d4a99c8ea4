"""/metrics: a bearer token when METRICS_TOKEN is set; without one, loopback peers only (or
everyone while DEBUG is on)."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789"
EXPORTED = b"django_http_requests_total_by_method_total"


def get_metrics(client, *, remote_addr="127.0.0.1", **headers):
    return client.get("/metrics", REMOTE_ADDR=remote_addr, **headers)


@override_settings(METRICS_TOKEN=TOKEN, DEBUG=False)
def test_with_a_token_configured_the_right_bearer_token_reads_the_metrics(client):
    response = get_metrics(client, remote_addr="10.42.0.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert EXPORTED in response.content


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer", f"Token {TOKEN}"],
)
@override_settings(METRICS_TOKEN=TOKEN, DEBUG=False)
def test_with_a_token_configured_anything_else_is_refused_even_from_loopback(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = get_metrics(client, **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.json()["errors"][0]["code"] == "not_authenticated"
    assert EXPORTED not in response.content


@override_settings(METRICS_TOKEN="", DEBUG=False)
def test_without_a_token_only_a_loopback_peer_reads_the_metrics(client):
    remote = get_metrics(client, remote_addr="203.0.113.9")
    proxied = get_metrics(client, remote_addr="10.0.0.5", HTTP_X_FORWARDED_FOR="127.0.0.1")
    local = get_metrics(client, remote_addr="127.0.0.1")

    assert remote.status_code == 404 and remote.json()["errors"][0]["code"] == "not_found"
    assert proxied.status_code == 404  # a forwarded "127.0.0.1" is not a loopback peer
    assert local.status_code == 200 and EXPORTED in local.content


@override_settings(METRICS_TOKEN="", DEBUG=True)
def test_without_a_token_debug_serves_everyone(client):
    assert get_metrics(client, remote_addr="203.0.113.9").status_code == 200
