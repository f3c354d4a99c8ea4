"""Refunds through Stripe and the ledger that keeps them within what was captured."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.models import Order
from payment.models import Payment, PaymentTransaction, Refund
from payment.services import refund_order

from .helpers import pay, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(auth_client, api_client, user, shop, fake_stripe):
    order = shop.place(user)
    pay(auth_client, order)
    intent_id = Payment.objects.get(order=order).provider_payment_id
    post_event(api_client, fake_stripe.succeeded_event(intent_id))
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _refund(client, order, **body):
    return client.post(f"/api/v1/orders/{order.pk}/refund/", {"reason": "Damaged", **body}, format="json")


def test_staff_refund_goes_through_stripe_with_an_idempotency_key(staff_client, paid_order, fake_stripe):
    response = _refund(staff_client, paid_order, amount="12.45")

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["amount_refunded"]) == ("paid", "12.45")
    refund = Refund.objects.get()
    (call,) = fake_stripe.calls("POST", "/v1/refunds")
    assert call.idempotency_key == f"refund-{refund.pk}"
    assert call.params == {
        "payment_intent": Payment.objects.get().provider_payment_id,
        "amount": "1245",
        "metadata": {
            "refund_id": str(refund.pk),
            "order_id": str(paid_order.pk),
            "payment_id": str(Payment.objects.get().pk),
        },
    }
    assert (refund.status, refund.source, refund.provider_refund_id, refund.reason) == (
        "succeeded",
        "staff",
        next(iter(fake_stripe.refunds)),
        "Damaged",
    )
    payment = Payment.objects.get()
    assert (payment.authorized_amount, payment.captured_amount, payment.refunded_amount) == (
        Decimal("32.45"),
        Decimal("32.45"),
        Decimal("12.45"),
    )


def test_stripe_webhook_for_our_own_refund_does_not_book_it_twice(staff_client, api_client, paid_order, fake_stripe):
    _refund(staff_client, paid_order, amount="10.00")
    refund = Refund.objects.get()
    intent_id = Payment.objects.get().provider_payment_id

    response = post_event(
        api_client,
        fake_stripe.refund_event(
            intent_id, amount=1000, refund_id=refund.provider_refund_id, metadata={"refund_id": str(refund.pk)}
        ),
    )

    assert response.json()["outcome"] == "refund_succeeded_to_succeeded"
    assert PaymentTransaction.objects.filter(kind="refund").count() == 1
    assert Order.objects.get().amount_refunded == Decimal("10.00")


def test_a_pending_stripe_refund_changes_the_order_only_when_stripe_confirms(
    staff_client, api_client, paid_order, fake_stripe
):
    fake_stripe.refund_status = "pending"

    response = _refund(staff_client, paid_order)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["amount_refunded"]) == ("paid", "0.00")
    refund = Refund.objects.get()
    assert refund.status == "pending"
    # A pending refund already counts: nothing more can be refunded meanwhile.
    again = _refund(staff_client, paid_order, amount="1.00")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "refund_exceeds_captured"

    post_event(
        api_client,
        fake_stripe.refund_event(
            Payment.objects.get().provider_payment_id,
            amount=3245,
            refund_id=refund.provider_refund_id,
            metadata={"refund_id": str(refund.pk)},
        ),
    )

    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == ("refunded", Decimal("32.45"))
    assert Refund.objects.get().status == "succeeded"


def test_a_failed_stripe_refund_frees_the_amount(staff_client, api_client, paid_order, fake_stripe):
    fake_stripe.refund_status = "pending"
    _refund(staff_client, paid_order, amount="5.00")
    refund = Refund.objects.get()

    post_event(
        api_client,
        fake_stripe.refund_event(
            Payment.objects.get().provider_payment_id,
            amount=500,
            refund_id=refund.provider_refund_id,
            status="failed",
            metadata={"refund_id": str(refund.pk)},
        ),
    )

    assert Refund.objects.get().status == "failed"
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == Decimal("0")
    fake_stripe.refund_status = "succeeded"
    assert _refund(staff_client, paid_order).json()["status"] == "refunded"


def test_stripe_refusing_a_refund_is_502_and_changes_nothing(staff_client, paid_order, fake_stripe):
    fake_stripe.failure = (400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded"}})
    staff_client.raise_request_exception = False

    response = _refund(staff_client, paid_order, amount="5.00")

    assert response.status_code == 502
    error = response.json()["errors"][0]
    assert (error["code"], error["provider_code"]) == ("payment_provider_error", "charge_already_refunded")
    refund = Refund.objects.get()
    assert (refund.status, refund.failure_code) == ("failed", "charge_already_refunded")
    payment = Payment.objects.get()
    assert payment.refunded_amount == Decimal("0")
    assert PaymentTransaction.objects.filter(kind="refund").count() == 0
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == ("paid", Decimal("0"))


def test_refunds_never_exceed_the_capture(paid_order):
    refund_order(order_id=paid_order.pk, amount=Decimal("30.00"), reason="x", actor_id=None, cancel_order=False)

    from payment.errors import RefundExceedsCaptured

    with pytest.raises(RefundExceedsCaptured):
        refund_order(order_id=paid_order.pk, amount=Decimal("2.46"), reason="x", actor_id=None, cancel_order=False)
    assert Payment.objects.get().refunded_amount == Decimal("30.00")


def test_the_database_refuses_a_ledger_out_of_order(paid_order):
    """The last line of defence: CHECK refunded <= captured <= authorized."""
    payment = Payment.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=Decimal("32.46"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(captured_amount=Decimal("40.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=paid_order.pk).update(amount_refunded=Decimal("32.46"))


def test_a_refund_stripe_did_not_answer_stays_pending_and_is_retried_with_the_same_key(
    staff_client, paid_order, fake_stripe, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.2
    fake_stripe.delay_seconds = 0.6  # Stripe makes the refund; its answer comes too late
    staff_client.raise_request_exception = False

    with django_capture_on_commit_callbacks(execute=False) as retries:
        response = _refund(staff_client, paid_order, amount="5.00")

    assert response.status_code == 502
    assert response.json()["errors"][0]["detail"] == (
        "The payment provider did not answer; the refund stays pending and is retried automatically."
    )
    refund = Refund.objects.get()
    assert (refund.status, refund.provider_refund_id) == ("pending", None)
    assert len(retries) == 1
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == Decimal("0")

    fake_stripe.delay_seconds = 0
    retries[0]()  # the queued task runs (eagerly in the test settings)

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert len(fake_stripe.refunds) == 1  # Stripe's idempotency key found the first refund
    keys = {call.idempotency_key for call in fake_stripe.calls("POST", "/v1/refunds")}
    assert keys == {f"refund-{refund.pk}"}
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == Decimal("5.00")
    assert PaymentTransaction.objects.filter(kind="refund").count() == 1


def test_a_refund_failing_after_success_is_flagged_not_reversed(staff_client, api_client, paid_order, fake_stripe):
    _refund(staff_client, paid_order, amount="5.00")
    refund = Refund.objects.get()

    response = post_event(
        api_client,
        fake_stripe.refund_event(
            Payment.objects.get().provider_payment_id,
            amount=500,
            refund_id=refund.provider_refund_id,
            status="failed",
            metadata={"refund_id": str(refund.pk)},
        ),
    )

    assert response.json()["outcome"] == "refund_failed_after_success_needs_review"
    assert Refund.objects.get().status == "succeeded"
    assert Payment.objects.get().refunded_amount == Decimal("5.00")
