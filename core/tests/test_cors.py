"""CORS for browser storefronts on other origins, over HTTP and for the websocket handshake."""

import runpy
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from ecommerce_api.asgi import application

BASE_SETTINGS = Path(__file__).resolve().parents[2] / "ecommerce_api" / "settings" / "base.py"
DEV_ORIGINS = ["http://localhost:3000", "http://localhost:5173", "http://127.0.0.1:3000", "http://127.0.0.1:5173"]


def _preflight(client, origin: str):
    return client.options(
        "/api/v1/products/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, idempotency-key, x-cart-token",
    )


@pytest.mark.parametrize("origin", DEV_ORIGINS)
def test_local_dev_servers_are_allowed_by_default(client, origin):
    response = _preflight(client, origin)

    assert response["Access-Control-Allow-Origin"] == origin
    assert "idempotency-key" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_other_origins_get_no_cors_headers(client):
    response = _preflight(client, "https://evil.example.com")

    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_configured_origins_with_credentials(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]
    settings.CORS_ALLOW_CREDENTIALS = True

    allowed = client.get("/api/v1/products/", HTTP_ORIGIN="https://shop.example.com")
    dev = client.get("/api/v1/products/", HTTP_ORIGIN="http://localhost:5173")

    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    assert "X-Cart-Token" in allowed["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in dev


def test_base_and_production_read_cors_from_the_environment(monkeypatch):
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    monkeypatch.delenv("CORS_ALLOW_CREDENTIALS", raising=False)
    closed = runpy.run_path(str(BASE_SETTINGS))
    assert closed["CORS_ALLOWED_ORIGINS"] == [] and closed["CORS_ALLOW_CREDENTIALS"] is False

    monkeypatch.setenv("SECRET_KEY", "x" * 60)
    monkeypatch.setenv("ALLOWED_HOSTS", "api.example.com")
    production = runpy.run_module("ecommerce_api.settings.production")
    assert production["CORS_ALLOWED_ORIGINS"] == [] and production["CORS_ALLOW_CREDENTIALS"] is False

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://shop.example.com,https://m.example.com")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "true")
    configured = runpy.run_path(str(BASE_SETTINGS))
    assert configured["CORS_ALLOWED_ORIGINS"] == ["https://shop.example.com", "https://m.example.com"]
    assert configured["CORS_ALLOW_CREDENTIALS"] is True


def test_local_settings_default_to_the_dev_origins_unless_configured(monkeypatch):
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    assert runpy.run_module("ecommerce_api.settings.local")["CORS_ALLOWED_ORIGINS"] == DEV_ORIGINS

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://only.example.com")
    assert runpy.run_module("ecommerce_api.settings.local")["CORS_ALLOWED_ORIGINS"] == ["https://only.example.com"]


def _handshake(origin: str | None) -> bool:
    """Open a socket through the project's ASGI stack on an unknown path: an admitted handshake is
    accepted (then closed with 4404 by the router's catch-all), a refused origin never is."""

    async def scenario() -> bool:
        headers = [(b"origin", origin.encode())] if origin else []
        communicator = WebsocketCommunicator(application, "/ws/nowhere/", headers=headers)
        connected, _ = await communicator.connect(timeout=3)
        await communicator.disconnect()
        return connected

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_websocket_origins_accept_the_cors_origins(settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.com"]

    assert _handshake("https://api.example.com") is True  # the API's own host, as before
    assert _handshake("https://shop.example.com") is True  # a CORS origin on another host
    assert _handshake("http://shop.example.com") is False  # same host, other scheme: not that origin
    assert _handshake("https://shop.example.com:8443") is False
    assert _handshake("https://evil.example.com") is False
    assert _handshake(None) is False
