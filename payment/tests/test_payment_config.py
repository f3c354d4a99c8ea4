"""GET /api/v1/payments/config/: what a storefront needs to mount Stripe Elements, and nothing secret."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

URL = "/api/v1/payments/config/"


@pytest.mark.django_db
def test_stripe_publishes_its_publishable_key_to_anyone(api_client, settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_123"

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"gateway": "stripe", "stripe_publishable_key": "pk_test_123", "currency": "USD"}


@pytest.mark.django_db
def test_the_dummy_gateway_publishes_no_key(api_client, settings):
    settings.PAYMENT_GATEWAY = "payment.gateways.dummy.DummyGateway"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_123"

    assert api_client.get(URL).json() == {"gateway": "dummy", "stripe_publishable_key": None, "currency": "USD"}


@pytest.mark.django_db
def test_a_secret_key_in_the_publishable_setting_is_never_served_and_fails_the_checks(api_client, settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_PUBLISHABLE_KEY = "sk_live_oops"

    assert api_client.get(URL).json()["stripe_publishable_key"] is None
    with pytest.raises(SystemCheckError, match="ecommerce.E005"):
        call_command("check")
