import pytest
import responses

from sdk import ECommerceClient

BASE = "https://api.test"
API = f"{BASE}/api/v1/"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def token_events() -> list:
    return []


@pytest.fixture
def client(sleeps, token_events) -> ECommerceClient:
    """A logged-in client whose waits are recorded instead of slept, so retry tests are instant."""
    sdk_client = ECommerceClient(
        BASE, token="access-1", refresh_token="refresh-1", on_tokens=token_events.append, backoff_factor=0.5
    )
    sdk_client.http.sleep = sleeps.append
    return sdk_client


@pytest.fixture
def anon_client(sleeps) -> ECommerceClient:
    sdk_client = ECommerceClient(BASE)
    sdk_client.http.sleep = sleeps.append
    return sdk_client


def error_body(code: str, detail: str = "Nope.", attr: str | None = None, kind: str = "client_error", **extra) -> dict:
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr, **extra}]}
