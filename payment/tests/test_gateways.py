from decimal import Decimal

import pytest

from payment.errors import PaymentProviderError, PaymentProviderNotConfigured
from payment.gateways import IntentStatus, RefundStatus, gateway_for
from payment.gateways.dummy import DummyGateway
from payment.gateways.stripe import StripeGateway


def test_gateway_is_chosen_by_short_name_or_dotted_path(settings):
    settings.PAYMENT_GATEWAY = "payment.gateways.dummy.DummyGateway"
    assert isinstance(gateway_for(), DummyGateway)
    assert isinstance(gateway_for("stripe"), StripeGateway)
    settings.PAYMENT_GATEWAY = "stripe"
    assert isinstance(gateway_for(), StripeGateway)


def test_dummy_gateway_succeeds_and_repeats_its_answer_for_a_key():
    gateway = DummyGateway()

    first = gateway.create_intent(
        payment_id="p", order_id="o", amount=Decimal("3.50"), currency="EUR", idempotency_key="k"
    )
    again = gateway.create_intent(
        payment_id="p", order_id="o", amount=Decimal("3.50"), currency="EUR", idempotency_key="k"
    )
    refund = gateway.refund(
        provider_payment_id=first.provider_id, amount=Decimal("1"), currency="EUR", idempotency_key="r", metadata={}
    )

    assert first == again
    assert (first.status, first.amount_received, first.currency) == (IntentStatus.SUCCEEDED, Decimal("3.50"), "EUR")
    assert refund.status == RefundStatus.SUCCEEDED


def test_stripe_without_a_secret_key_is_not_configured(settings):
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(PaymentProviderNotConfigured):
        StripeGateway().create_intent(
            payment_id="p", order_id="o", amount=Decimal("1"), currency="USD", idempotency_key="k"
        )


def test_a_key_stripe_refuses_is_a_provider_error(fake_stripe, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_revoked"

    with pytest.raises(PaymentProviderError) as raised:
        StripeGateway().create_intent(
            payment_id="p", order_id="o", amount=Decimal("1"), currency="USD", idempotency_key="k"
        )

    assert raised.value.answered is True
    assert raised.value.status_code == 502
    assert raised.value.extra == {"provider_code": "AuthenticationError"}


def test_zero_decimal_currencies_go_to_stripe_in_whole_units(fake_stripe):
    result = StripeGateway().create_intent(
        payment_id="p", order_id="o", amount=Decimal("1500"), currency="JPY", idempotency_key="yen"
    )

    (call,) = fake_stripe.calls("POST", "/v1/payment_intents")
    assert (call.params["amount"], call.params["currency"]) == ("1500", "jpy")
    assert (result.status, result.currency) == (IntentStatus.REQUIRES_ACTION, "JPY")
