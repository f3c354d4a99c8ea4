import pytest
from pytest_httpserver import HTTPServer

from orders.tests.fixtures import shop  # noqa: F401

from .fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from .helpers import pay


@pytest.fixture
def fake_stripe(settings):
    """Stripe configured and pointed at a local fake; its own threaded server per test, so a slow
    answer in one test cannot delay another."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeStripe(server)
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.api_base
    settings.STRIPE_TIMEOUT_SECONDS = 2
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield fake
    server.clear()
    server.stop()


@pytest.fixture
def stripe_order(auth_client, user, shop, fake_stripe):  # noqa: F811 (shop: the fixture imported above)
    """An order with a Stripe PaymentIntent waiting for the customer (test_concurrency has its own,
    placed without the API client)."""
    order = shop.place(user)
    assert pay(auth_client, order).status_code == 201
    return order
