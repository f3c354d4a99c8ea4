"""POST payments/: dummy and Stripe (a local fake Stripe behind Stripe's own library)."""

from decimal import Decimal

import pytest

from core.models import IdempotencyKey
from orders.models import Order
from payment.models import Payment, PaymentTransaction

from .helpers import PAYMENTS_URL, pay

pytestmark = pytest.mark.django_db


def test_dummy_gateway_pays_the_order_at_once(auth_client, user, shop):
    order = shop.place(user)

    response = pay(auth_client, order)

    assert response.status_code == 201, response.json()
    payment = Payment.objects.get()
    body = response.json()
    assert body | {"created_at": None} == {
        "id": str(payment.pk),
        "order_id": str(order.pk),
        "provider": "dummy",
        "status": "succeeded",
        "amount": "32.45",
        "currency": "USD",
        "client_secret": payment.client_secret,
        "captured_amount": "32.45",
        "refunded_amount": "0.00",
        "failure_code": "",
        "created_at": None,
    }
    order.refresh_from_db()
    assert (order.status, order.amount_paid, order.payment_reference) == ("paid", Decimal("32.45"), str(payment.pk))
    assert list(payment.transactions.values_list("kind", "amount")) == [
        ("authorization", Decimal("32.45")),
        ("capture", Decimal("32.45")),
    ]
    assert payment.applied_to_order is True


def test_stripe_creates_a_payment_intent_and_waits_for_the_webhook(auth_client, user, shop, fake_stripe):
    order = shop.place(user)

    response = pay(auth_client, order)

    assert response.status_code == 201, response.json()
    payment = Payment.objects.get()
    (call,) = fake_stripe.calls("POST", "/v1/payment_intents")
    assert call.params == {
        "amount": "3245",
        "currency": "usd",
        "payment_method_types": {"0": "card"},  # STRIPE_PAYMENT_METHOD_TYPES' default: no slow methods
        "metadata": {"order_id": str(order.pk), "payment_id": str(payment.pk)},
    }
    assert call.idempotency_key == f"payment-{payment.pk}"
    body = response.json()
    assert (body["provider"], body["status"], body["amount"], body["currency"], body["client_secret"]) == (
        "stripe",
        "pending",
        "32.45",
        "USD",
        "pi_fake000001_secret_0001",
    )
    assert payment.provider_payment_id == "pi_fake000001"
    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert PaymentTransaction.objects.count() == 0


def test_a_second_call_for_the_same_order_resumes_the_same_intent(auth_client, user, shop, fake_stripe):
    order = shop.place(user)
    first = pay(auth_client, order)

    second = pay(auth_client, order)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["client_secret"] == first.json()["client_secret"]
    assert len(fake_stripe.calls("POST", "/v1/payment_intents")) == 1


def test_same_idempotency_key_replays(auth_client, user, shop, fake_stripe):
    order = shop.place(user)

    first = pay(auth_client, order, key="pay-1")
    second = pay(auth_client, order, key="pay-1")

    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"


def test_missing_stripe_keys_is_503_and_writes_nothing(auth_client, user, shop, settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = ""
    order = shop.place(user)
    auth_client.raise_request_exception = False  # 5xx answers are also reported to Django's signal

    response = pay(auth_client, order, key="no-keys")

    assert response.status_code == 503
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {
                "code": "payment_provider_not_configured",
                "detail": "The payment provider is not configured; payments are unavailable.",
                "attr": None,
            }
        ],
    }
    assert Payment.objects.count() == 0
    assert IdempotencyKey.objects.filter(key="no-keys").count() == 0  # a 5xx may be retried with the key
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_stripe_error_is_502_and_leaves_no_half_written_payment(auth_client, user, shop, fake_stripe):
    order = shop.place(user)
    fake_stripe.failure = (500, {"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}})
    auth_client.raise_request_exception = False

    response = pay(auth_client, order, key="stripe-down")

    assert response.status_code == 502
    error = response.json()["errors"][0]
    assert (error["code"], error["provider_code"]) == ("payment_provider_error", "APIError")
    payment = Payment.objects.get()
    assert (payment.status, payment.provider_payment_id, payment.client_secret) == ("failed", None, "")
    assert PaymentTransaction.objects.count() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert IdempotencyKey.objects.filter(key="stripe-down").count() == 0

    fake_stripe.failure = None
    retried = pay(auth_client, order, key="stripe-down")

    assert retried.status_code == 201
    assert retried.json()["status"] == "pending"
    # The refused attempt is closed; the retry is a new payment with its own Stripe key.
    assert Payment.objects.filter(status="pending").get().pk != payment.pk


def test_timeout_then_retry_reuses_the_stripe_idempotency_key_and_finds_the_first_intent(
    auth_client, user, shop, fake_stripe, settings
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    fake_stripe.delay_seconds = 1  # Stripe makes the intent, but its answer arrives too late
    order = shop.place(user)
    auth_client.raise_request_exception = False

    response = pay(auth_client, order)

    assert response.status_code == 502
    assert response.json()["errors"][0]["provider_code"] == "timeout"
    payment = Payment.objects.get()
    assert (payment.status, payment.provider_payment_id) == ("created", None)
    assert len(fake_stripe.intents) == 1

    fake_stripe.delay_seconds = 0
    retried = pay(auth_client, order)

    assert retried.status_code == 201
    assert retried.json()["id"] == str(payment.pk)
    assert retried.json()["client_secret"] == "pi_fake000001_secret_0001"
    keys = [call.idempotency_key for call in fake_stripe.calls("POST", "/v1/payment_intents")]
    assert keys == [f"payment-{payment.pk}"] * 2
    assert len(fake_stripe.intents) == 1  # no second PaymentIntent


def test_paying_an_order_that_is_not_waiting_for_payment_is_409(auth_client, user, shop):
    order = shop.place(user)
    pay(auth_client, order)

    response = pay(auth_client, order)

    assert response.status_code == 409
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "order_not_payable",
        "detail": "",
        "attr": None,
        "order_status": "paid",
    }
    assert Payment.objects.count() == 1


def test_someone_elses_order_is_404(other_client, user, shop):
    order = shop.place(user)

    response = pay(other_client, order)

    assert response.status_code == 404
    assert Payment.objects.count() == 0


def test_zero_total_order_is_paid_without_the_provider(auth_client, user, shop, fake_stripe):
    order = shop.place(user)
    Order.objects.filter(pk=order.pk).update(
        subtotal=Decimal("0"), shipping_total=Decimal("0"), tax_total=Decimal("0"), total=Decimal("0")
    )

    response = pay(auth_client, order)

    assert response.status_code == 201
    assert response.json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == "paid"
    assert fake_stripe.requests == []


def test_a_payment_is_visible_to_its_owner_only(auth_client, other_client, user, shop):
    order = shop.place(user)
    payment_id = pay(auth_client, order).json()["id"]

    assert auth_client.get(f"{PAYMENTS_URL}{payment_id}/").status_code == 200
    assert other_client.get(f"{PAYMENTS_URL}{payment_id}/").status_code == 404


def test_a_success_attached_twice_is_booked_once(auth_client, user, shop):
    """Two attaches of the same succeeded intent (a race of two POSTs, or the webhook first) must not
    book the capture twice."""
    from payment.gateways.base import IntentResult, IntentStatus
    from payment.services import _payment_intent_attach

    order = shop.place(user)
    pay(auth_client, order)
    payment = Payment.objects.get()
    succeeded = IntentResult(
        provider_id=payment.provider_payment_id,
        client_secret=payment.client_secret,
        status=IntentStatus.SUCCEEDED,
        amount_received=Decimal("32.45"),
        currency="USD",
    )

    _payment_intent_attach(payment_id=payment.pk, result=succeeded)

    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.authorized_amount) == (
        "succeeded",
        Decimal("32.45"),
        Decimal("32.45"),
    )
    assert payment.transactions.count() == 2
