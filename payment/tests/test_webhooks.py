"""Stripe webhooks: signed like Stripe signs them, delivered again and out of order."""

import time
from decimal import Decimal

import pytest

from orders.models import Order, OrderEvent
from orders.services import order_cancel
from payment.models import Payment, PaymentTransaction, Refund, WebhookEvent

from .helpers import pay, payment_intent_id, post_event

pytestmark = pytest.mark.django_db


def _state(order) -> tuple:
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    return (
        order.status,
        order.amount_paid,
        payment.status,
        payment.captured_amount,
        payment.refunded_amount,
        PaymentTransaction.objects.filter(payment=payment).count(),
        OrderEvent.objects.filter(order=order, kind="paid").count(),
    )


PAID = ("paid", Decimal("32.45"), "succeeded", Decimal("32.45"), Decimal("0.00"), 2, 1)


def test_payment_succeeded_pays_the_order(api_client, stripe_order, fake_stripe):
    event = fake_stripe.succeeded_event(payment_intent_id(stripe_order))

    response = post_event(api_client, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "order_paid"}
    assert _state(stripe_order) == PAID
    assert list(PaymentTransaction.objects.values_list("kind", "amount", "currency", "provider_reference")) == [
        ("authorization", Decimal("32.45"), "USD", payment_intent_id(stripe_order)),
        ("capture", Decimal("32.45"), "USD", payment_intent_id(stripe_order)),
    ]
    assert WebhookEvent.objects.get().outcome == "order_paid"


def test_the_alias_path_works_too(api_client, stripe_order, fake_stripe):
    event = fake_stripe.succeeded_event(payment_intent_id(stripe_order))

    response = post_event(api_client, event, url="/api/v1/payments/stripe-webhook/")

    assert response.status_code == 200
    assert _state(stripe_order) == PAID


@pytest.mark.parametrize(
    "sign_options",
    [
        {"secret": "whsec_someone_else"},
        {"timestamp": int(time.time()) - 301},  # older than Stripe's 5-minute tolerance
    ],
    ids=["wrong-secret", "stale"],
)
def test_bad_or_stale_signature_is_400_and_writes_nothing(api_client, stripe_order, fake_stripe, sign_options):
    event = fake_stripe.succeeded_event(payment_intent_id(stripe_order))

    response = post_event(api_client, event, **sign_options)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    assert Order.objects.get(pk=stripe_order.pk).status == "pending_payment"
    assert PaymentTransaction.objects.count() == 0


def test_missing_signature_or_tampered_body_is_400(api_client, stripe_order, fake_stripe):
    import json

    from .fake_stripe import sign

    event = fake_stripe.succeeded_event(payment_intent_id(stripe_order))
    payload = json.dumps(event)
    signature = sign(payload)
    tampered = payload.replace('"amount_received": 3245', '"amount_received": 1')

    unsigned = api_client.post("/api/v1/payments/stripe/webhook/", data=payload, content_type="application/json")
    altered = api_client.post(
        "/api/v1/payments/stripe/webhook/",
        data=tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )

    assert unsigned.status_code == altered.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_webhook_secret_missing_is_503(api_client, stripe_order, fake_stripe, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    api_client.raise_request_exception = False

    response = post_event(api_client, fake_stripe.succeeded_event(payment_intent_id(stripe_order)))

    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "payment_provider_not_configured"
    assert WebhookEvent.objects.count() == 0


def test_the_same_event_delivered_five_times_is_applied_once(api_client, stripe_order, fake_stripe):
    event = fake_stripe.succeeded_event(payment_intent_id(stripe_order))

    outcomes = [post_event(api_client, event).json()["outcome"] for _ in range(5)]

    assert outcomes == ["order_paid"] + ["duplicate"] * 4
    assert WebhookEvent.objects.count() == 1
    assert _state(stripe_order) == PAID


@pytest.mark.parametrize("failure_first", [True, False], ids=["failure-then-success", "success-then-failure"])
def test_success_and_failure_in_either_order_end_paid(api_client, stripe_order, fake_stripe, failure_first):
    intent_id = payment_intent_id(stripe_order)
    failure = fake_stripe.failed_event(intent_id)
    success = fake_stripe.succeeded_event(intent_id)
    events = [failure, success] if failure_first else [success, failure]

    outcomes = [post_event(api_client, event).json()["outcome"] for event in events]

    expected = ["failure_recorded", "order_paid"] if failure_first else ["order_paid", "ignored_after_success"]
    assert outcomes == expected
    assert _state(stripe_order) == PAID


def test_a_failure_is_recorded_and_the_intent_can_be_retried(auth_client, api_client, stripe_order, fake_stripe):
    post_event(api_client, fake_stripe.failed_event(payment_intent_id(stripe_order)))

    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code, payment.failure_message) == (
        "failed",
        "insufficient_funds",
        "Your card was declined.",
    )
    assert Order.objects.get().status == "pending_payment"

    retry = pay(auth_client, stripe_order)

    assert retry.status_code == 200
    assert (retry.json()["id"], retry.json()["status"]) == (str(payment.pk), "pending")
    assert len(fake_stripe.intents) == 1


def test_wrong_amount_does_not_pay_the_order_and_is_refunded(
    api_client, stripe_order, fake_stripe, django_capture_on_commit_callbacks
):
    intent_id = payment_intent_id(stripe_order)
    event = fake_stripe.succeeded_event(intent_id, amount=1000)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(api_client, event)

    assert response.json()["outcome"] == "amount_mismatch_refunded"
    assert Order.objects.get().status == "pending_payment"
    payment = Payment.objects.get()
    assert (payment.failure_code, payment.captured_amount, payment.refunded_amount, payment.applied_to_order) == (
        "amount_mismatch",
        Decimal("10.00"),
        Decimal("10.00"),
        False,
    )
    (call,) = fake_stripe.calls("POST", "/v1/refunds")
    refund = Refund.objects.get()
    assert call.params["amount"] == "1000"
    assert call.params["payment_intent"] == intent_id
    assert call.idempotency_key == f"refund-{refund.pk}"
    assert (refund.status, refund.source) == ("succeeded", "automatic")


def test_wrong_currency_is_treated_like_a_wrong_amount(api_client, stripe_order, fake_stripe):
    event = fake_stripe.succeeded_event(payment_intent_id(stripe_order), currency="eur")

    response = post_event(api_client, event)

    assert response.json()["outcome"] == "amount_mismatch_refunded"
    assert Order.objects.get().status == "pending_payment"


def test_success_for_an_expired_order_is_refunded_automatically_and_recorded(
    api_client, stripe_order, fake_stripe, django_capture_on_commit_callbacks
):
    intent_id = payment_intent_id(stripe_order)
    fake_stripe.intents[intent_id]["status"] = "processing"  # too late to cancel: the money is on its way
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=stripe_order.pk, actor=None, reason="Payment not received in time.")
    fake_stripe.intents[intent_id]["status"] = "processing"

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(api_client, fake_stripe.succeeded_event(intent_id))

    assert response.json()["outcome"] == "order_closed_refunded"
    stripe_order.refresh_from_db()
    assert (stripe_order.status, stripe_order.amount_paid, stripe_order.amount_refunded) == (
        "cancelled",
        Decimal("0"),
        Decimal("0"),
    )
    payment = Payment.objects.get()
    assert (payment.status, payment.captured_amount, payment.refunded_amount, payment.applied_to_order) == (
        "succeeded",
        Decimal("32.45"),
        Decimal("32.45"),
        False,
    )
    (call,) = fake_stripe.calls("POST", "/v1/refunds")
    assert call.params["amount"] == "3245"
    assert list(PaymentTransaction.objects.values_list("kind", "amount")) == [
        ("authorization", Decimal("32.45")),
        ("capture", Decimal("32.45")),
        ("refund", Decimal("32.45")),
    ]
    notes = list(OrderEvent.objects.filter(order=stripe_order).order_by("id").values_list("kind", "to_status"))
    assert notes[-2:] == [("note", "cancelled"), ("refunded", "cancelled")]


def test_cancelling_an_unpaid_order_cancels_its_stripe_intent(
    auth_client, stripe_order, fake_stripe, django_capture_on_commit_callbacks
):
    intent_id = payment_intent_id(stripe_order)

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(f"/api/v1/orders/{stripe_order.pk}/cancel/", format="json")

    assert response.status_code == 200
    (call,) = fake_stripe.calls("POST", f"/v1/payment_intents/{intent_id}/cancel")
    assert call.idempotency_key == f"cancel-{Payment.objects.get().pk}"
    assert fake_stripe.intents[intent_id]["status"] == "canceled"
    assert Payment.objects.get().status == "cancelled"


def _paid_by_stripe(api_client, order, fake_stripe):
    post_event(api_client, fake_stripe.succeeded_event(payment_intent_id(order)))
    assert _state(order) == PAID


def test_a_refund_made_in_the_stripe_dashboard_is_recorded(api_client, stripe_order, fake_stripe):
    _paid_by_stripe(api_client, stripe_order, fake_stripe)
    intent_id = payment_intent_id(stripe_order)

    partial = post_event(api_client, fake_stripe.refund_event(intent_id, amount=1245, refund_id="re_dash1"))
    rest = post_event(api_client, fake_stripe.refund_event(intent_id, amount=2000, refund_id="re_dash2"))

    assert partial.json()["outcome"] == rest.json()["outcome"] == "refund_pending_to_succeeded"
    stripe_order.refresh_from_db()
    assert (stripe_order.status, stripe_order.amount_refunded) == ("refunded", Decimal("32.45"))
    assert list(Refund.objects.order_by("created_at").values_list("provider_refund_id", "source", "amount")) == [
        ("re_dash1", "provider", Decimal("12.45")),
        ("re_dash2", "provider", Decimal("20.00")),
    ]
    assert Payment.objects.get().refunded_amount == Decimal("32.45")


def test_charge_refunded_with_embedded_refunds_is_recorded_once(api_client, stripe_order, fake_stripe):
    _paid_by_stripe(api_client, stripe_order, fake_stripe)
    intent_id = payment_intent_id(stripe_order)
    refund = {"id": "re_emb1", "object": "refund", "amount": 500, "currency": "usd", "status": "succeeded"}
    charge_event = fake_stripe.event(
        "charge.refunded",
        {"id": f"ch_{intent_id}", "object": "charge", "payment_intent": intent_id, "refunds": {"data": [refund]}},
    )
    refund_event = fake_stripe.event("refund.updated", {**refund, "payment_intent": intent_id})

    post_event(api_client, charge_event)
    post_event(api_client, refund_event)

    assert Refund.objects.get().provider_refund_id == "re_emb1"
    assert PaymentTransaction.objects.filter(kind="refund").count() == 1
    stripe_order.refresh_from_db()
    assert (stripe_order.status, stripe_order.amount_refunded) == ("paid", Decimal("5.00"))


def test_a_refund_event_before_its_capture_is_refused_until_redelivered(api_client, stripe_order, fake_stripe):
    intent_id = payment_intent_id(stripe_order)
    refund_event = fake_stripe.refund_event(intent_id, amount=3245, refund_id="re_early")
    api_client.raise_request_exception = False

    early = post_event(api_client, refund_event)

    assert early.status_code == 409
    assert early.json()["errors"][0]["code"] == "event_out_of_order"
    assert WebhookEvent.objects.count() == 0
    assert Refund.objects.count() == 0

    _paid_by_stripe(api_client, stripe_order, fake_stripe)
    redelivered = post_event(api_client, refund_event)

    assert redelivered.status_code == 200
    stripe_order.refresh_from_db()
    assert stripe_order.status == "refunded"


def test_unknown_event_types_are_acknowledged_and_stored(api_client, fake_stripe):
    event = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})

    response = post_event(api_client, event)

    assert response.json() == {"received": True, "outcome": "ignored_type"}
    assert WebhookEvent.objects.get().type == "customer.created"


def test_an_intent_we_do_not_know_is_acknowledged(api_client, fake_stripe):
    intent = {"id": "pi_elsewhere", "object": "payment_intent", "amount_received": 100, "currency": "usd"}

    response = post_event(api_client, fake_stripe.event("payment_intent.succeeded", intent))

    assert response.json()["outcome"] == "unknown_payment"


def test_intent_cancelled_at_stripe_is_recorded(api_client, stripe_order, fake_stripe):
    intent = {**fake_stripe.intents[payment_intent_id(stripe_order)], "status": "canceled"}

    post_event(api_client, fake_stripe.event("payment_intent.canceled", intent))

    assert Payment.objects.get().status == "cancelled"
