"""Minor units per currency (ISO 4217), Stripe's exceptions, and a KWD order through the fake."""

from decimal import Decimal

import pytest

from core.money import from_minor_units, minor_unit_exponent, to_minor_units
from orders.services import order_place
from orders.tests.factories import AddressFactory, CartFactory, CartLineFactory, ShippingMethodFactory, VariantFactory
from payment.errors import PaymentProviderError
from payment.gateways.stripe import from_stripe_amount, to_stripe_amount
from payment.models import Payment

from .helpers import pay, post_event


@pytest.mark.parametrize(
    "amount,currency,minor",
    [
        ("1500", "JPY", 1500),
        ("1500", "krw", 1500),
        ("32.45", "USD", 3245),
        ("0.01", "EUR", 1),
        ("32.45", "KWD", 32450),
        ("1.5", "BHD", 1500),
        ("7", "TND", 7000),
    ],
)
def test_minor_units_round_trip_both_ways(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount).quantize(Decimal("0.01"))


@pytest.mark.parametrize("currency,exponent", [("JPY", 0), ("ISK", 0), ("UGX", 0), ("USD", 2), ("KWD", 3), ("XYZ", 2)])
def test_iso_exponents(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize(
    "amount,currency,stripe_units",
    [
        ("32.45", "KWD", 32450),  # thousandths, last digit 0 as Stripe requires
        ("32.45", "OMR", 32450),
        ("1500", "JPY", 1500),
        ("1500", "ISK", 150000),  # ISO zero-decimal, two-decimal in Stripe's API
        ("1500", "MGA", 1500),  # ISO two-decimal, zero-decimal at Stripe
        ("10.50", "HUF", 1050),  # two-decimal for charges (only payouts are whole forints)
        ("32.45", "USD", 3245),
    ],
)
def test_stripe_units_round_trip(amount, currency, stripe_units):
    assert to_stripe_amount(Decimal(amount), currency) == stripe_units
    assert from_stripe_amount(stripe_units, currency) == Decimal(amount).quantize(Decimal("0.01"))


@pytest.mark.parametrize("amount,currency", [("10.50", "JPY"), ("10.50", "ISK")])
def test_amounts_stripe_cannot_carry_are_refused_not_rounded(amount, currency):
    with pytest.raises(PaymentProviderError) as raised:
        to_stripe_amount(Decimal(amount), currency)

    assert raised.value.extra == {"provider_code": "amount_not_representable"}


@pytest.mark.django_db
def test_a_kwd_order_reaches_stripe_in_thousandths_and_is_paid_and_refunded_in_them(
    auth_client, api_client, staff_client, user, fake_stripe
):
    variant = VariantFactory(price=Decimal("12.50"), currency="KWD")
    method = ShippingMethodFactory(flat_price=Decimal("1.50"), currency="KWD")
    CartLineFactory(cart=CartFactory(user=user, currency="KWD"), variant=variant, quantity=2)
    order = order_place(user=user, shipping_address_id=AddressFactory(user=user).pk, shipping_method_id=method.pk)
    assert (order.total, order.currency) == (Decimal("26.50"), "KWD")

    assert pay(auth_client, order).status_code == 201

    (call,) = fake_stripe.calls("POST", "/v1/payment_intents")
    assert (call.params["amount"], call.params["currency"]) == ("26500", "kwd")
    intent_id = Payment.objects.get().provider_payment_id
    paid = post_event(api_client, fake_stripe.succeeded_event(intent_id))
    assert paid.json()["outcome"] == "order_paid"

    staff_client.post(f"/api/v1/orders/{order.pk}/refund/", {"amount": "1.25", "reason": "Late"}, format="json")

    (refund_call,) = fake_stripe.calls("POST", "/v1/refunds")
    assert refund_call.params["amount"] == "1250"
    order.refresh_from_db()
    assert (order.status, order.amount_paid, order.amount_refunded) == ("paid", Decimal("26.50"), Decimal("1.25"))
