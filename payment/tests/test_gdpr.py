"""GDPR: the payments section of the account export, and erasure of what Stripe sent about the person."""

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import IdempotencyKey
from orders.models import Order
from orders.services import order_refund
from payment.models import Payment, PaymentTransaction, Refund, WebhookEvent

from .helpers import pay, post_event

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/account/export/"
ME = "/api/v1/account/me/"
PAID_AT = datetime(2030, 1, 2, 9, 35, tzinfo=UTC)
REFUNDED_AT = datetime(2030, 1, 3, 10, 0, tzinfo=UTC)

BILLING_DETAILS = {
    "name": "Cam Buyer",
    "email": "customer@example.com",
    "phone": "+14155550123",
    "address": {"line1": "1 Market Street", "city": "San Francisco", "postal_code": "94105", "country": "US"},
}


def test_export_lists_payments_with_their_refunds(auth_client, user, other_user, shop, staff_user):
    order = shop.place(user)
    assert pay(auth_client, order).status_code == 201  # the dummy gateway pays at once
    order_refund(order_id=order.pk, actor=staff_user, amount=Decimal("5.00"), reason="Damaged parcel")
    payment = Payment.objects.get(order=order)
    Payment.objects.filter(pk=payment.pk).update(created_at=PAID_AT, succeeded_at=PAID_AT)
    Refund.objects.filter(payment=payment).update(created_at=REFUNDED_AT)
    shop.place(other_user)

    response = auth_client.get(EXPORT)

    assert response.status_code == 200
    assert response.json()["payments"] == [
        {
            "id": str(payment.pk),
            "order_number": order.number,
            "provider": "dummy",
            "status": "succeeded",
            "amount": "32.45",
            "currency": "USD",
            "captured_amount": "32.45",
            "refunded_amount": "5.00",
            "failure_code": "",
            "created_at": "2030-01-02T09:35:00Z",
            "succeeded_at": "2030-01-02T09:35:00Z",
            "refunds": [
                {"amount": "5.00", "currency": "USD", "status": "succeeded", "created_at": "2030-01-03T10:00:00Z"}
            ],
        }
    ]


def test_export_query_count_does_not_grow_with_payments(auth_client, user, shop):
    def export_queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert auth_client.get(EXPORT).status_code == 200
        return len(context.captured_queries)

    pay(auth_client, shop.place(user))
    with_one = export_queries()
    for _ in range(2):
        pay(auth_client, shop.place(user))
    with_three = export_queries()

    assert len(auth_client.get(EXPORT).json()["payments"]) == 3
    assert with_three == with_one


def _stripe_payment(client, user, shop, fake_stripe) -> tuple[Payment, str]:
    order = shop.place(user)
    assert pay(client, order).status_code == 201
    payment = Payment.objects.get(order=order)
    return payment, payment.provider_payment_id


def _charge(intent_id: str, *, email: str) -> dict:
    return {
        "id": f"ch_{intent_id}",
        "object": "charge",
        "amount": 3245,
        "amount_captured": 3245,
        "amount_refunded": 0,
        "currency": "usd",
        "payment_intent": intent_id,
        "status": "succeeded",
        "paid": True,
        "refunded": False,
        "receipt_email": email,
        "billing_details": {**BILLING_DETAILS, "email": email},
        "payment_method_details": {"type": "card", "card": {"last4": "4242", "fingerprint": "Xt5EWLLDS7FJjR1c"}},
        "refunds": {"object": "list", "data": []},
    }


def test_deleting_the_account_strips_personal_data_from_stored_provider_events(
    auth_client, other_client, user, other_user, shop, fake_stripe, api_client
):
    payment, intent_id = _stripe_payment(auth_client, user, shop, fake_stripe)
    failed = fake_stripe.failed_event(intent_id)
    failed["data"]["object"]["last_payment_error"]["payment_method"] = {
        "id": "pm_1",
        "billing_details": BILLING_DETAILS,
    }
    succeeded = fake_stripe.succeeded_event(intent_id)
    succeeded["data"]["object"].update(
        receipt_email="customer@example.com",
        shipping={"name": "Cam Buyer", "phone": "+14155550123", "address": BILLING_DETAILS["address"]},
    )
    charge = fake_stripe.event("charge.refunded", _charge(intent_id, email="customer@example.com"))
    _, their_intent_id = _stripe_payment(other_client, other_user, shop, fake_stripe)
    theirs = fake_stripe.succeeded_event(their_intent_id)
    theirs["data"]["object"]["receipt_email"] = "other@example.com"
    for event in (failed, succeeded, charge, theirs):
        assert post_event(api_client, event).status_code == 200
    ledger_before = list(PaymentTransaction.objects.order_by("pk").values_list("payment_id", "kind", "amount"))
    Order.objects.filter(pk=payment.order_id).update(status="delivered")  # an open order blocks the erasure

    response = auth_client.delete(ME, {"password": "correct-horse-battery"})

    assert response.status_code == 204
    stored = {event.event_id: event.payload for event in WebhookEvent.objects.all()}
    common = {"object": "event", "api_version": "2024-06-20", "livemode": False, "personal_data_removed": True}
    assert stored[failed["id"]] == {
        **common,
        "id": failed["id"],
        "created": failed["created"],
        "type": "payment_intent.payment_failed",
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": 3245,
                "amount_received": 0,
                "currency": "usd",
                "status": "requires_payment_method",
                "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.pk)},
                "latest_charge": None,
                "livemode": False,
                "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
            }
        },
    }
    assert stored[succeeded["id"]]["data"]["object"] == {
        "id": intent_id,
        "object": "payment_intent",
        "amount": 3245,
        "amount_received": 3245,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.pk)},
        "latest_charge": f"ch_{intent_id}",
        "livemode": False,
    }
    assert stored[charge["id"]]["data"]["object"] == {
        "id": f"ch_{intent_id}",
        "object": "charge",
        "amount": 3245,
        "amount_captured": 3245,
        "amount_refunded": 0,
        "currency": "usd",
        "payment_intent": intent_id,
        "status": "succeeded",
        "paid": True,
        "refunded": False,
        "refunds": {"object": "list", "data": []},
    }
    assert stored[theirs["id"]] == theirs  # another customer's event is untouched
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount, payment.provider_payment_id) == (
        "succeeded",
        Decimal("32.45"),
        intent_id,
    )
    assert list(PaymentTransaction.objects.order_by("pk").values_list("payment_id", "kind", "amount")) == ledger_before
    assert not IdempotencyKey.objects.filter(user=user).exists()
    assert IdempotencyKey.objects.filter(user=other_user, scope="payments.create").count() == 1


def test_a_refused_deletion_leaves_provider_events_untouched(auth_client, user, shop, fake_stripe, api_client):
    _, intent_id = _stripe_payment(auth_client, user, shop, fake_stripe)
    succeeded = fake_stripe.succeeded_event(intent_id)
    succeeded["data"]["object"]["receipt_email"] = "customer@example.com"
    post_event(api_client, succeeded)
    stored_before = copy.deepcopy(WebhookEvent.objects.get().payload)

    response = auth_client.delete(ME, {"password": "wrong"})

    assert response.status_code == 400
    assert WebhookEvent.objects.get().payload == stored_before == succeeded
