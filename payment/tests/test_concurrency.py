"""Webhooks racing each other, on PostgreSQL: threads with their own connections."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from orders.models import Order, OrderEvent
from payment.models import Payment, PaymentTransaction, WebhookEvent
from payment.services import payment_create
from tests.support.locks import backends_waiting_for_a_lock

from .fake_stripe import sign
from .helpers import WEBHOOK_URL

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _deliver_at_once(events: list[dict]) -> list[tuple[int, str]]:
    start = threading.Barrier(len(events))

    def deliver(event):
        payload = json.dumps(event)
        try:
            start.wait()
            response = APIClient().post(
                WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
            )
            return response.status_code, response.json().get("outcome", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(deliver, events))


@pytest.fixture
def stripe_order(user, shop, fake_stripe):
    order = shop.place(user)
    payment_create(user=user, order_id=order.pk)
    return order


def _final_state(order):
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    return (
        order.status,
        order.amount_paid,
        payment.status,
        payment.captured_amount,
        PaymentTransaction.objects.count(),
        OrderEvent.objects.filter(order=order, kind="paid").count(),
    )


def test_one_event_delivered_five_times_at_once_is_applied_once(stripe_order, fake_stripe):
    event = fake_stripe.succeeded_event(Payment.objects.get().provider_payment_id)

    results = _deliver_at_once([event] * 5)

    assert sorted(results) == [(200, "duplicate")] * 4 + [(200, "order_paid")]
    assert WebhookEvent.objects.count() == 1
    assert _final_state(stripe_order) == ("paid", Decimal("32.45"), "succeeded", Decimal("32.45"), 2, 1)


def test_success_and_failure_racing_end_paid(stripe_order, fake_stripe):
    intent_id = Payment.objects.get().provider_payment_id
    success, failure = fake_stripe.succeeded_event(intent_id), fake_stripe.failed_event(intent_id)

    results = _deliver_at_once([success, failure, success, failure, success])

    assert {status for status, _ in results} == {200}
    assert [outcome for _, outcome in results].count("order_paid") == 1
    assert _final_state(stripe_order) == ("paid", Decimal("32.45"), "succeeded", Decimal("32.45"), 2, 1)
    assert Order.objects.count() == 1


def test_no_row_lock_is_held_while_stripe_is_called(user, shop, fake_stripe, staff_user):
    """While the shop waits for Stripe, another connection can lock the order and payment rows at
    once (NOWAIT): checkout and refunds never hold a lock across the network call."""
    from orders.services import order_refund

    order = shop.place(user)
    seen = []

    def lock_rows_from_another_connection(request):
        try:
            with transaction.atomic():
                Order.objects.select_for_update(nowait=True).get(pk=order.pk)
                list(Payment.objects.select_for_update(nowait=True).filter(order=order))
            seen.append((request.path, "free"))
        except Exception as error:  # DatabaseError "could not obtain lock" when a lock is held
            seen.append((request.path, type(error).__name__))
        finally:
            connection.close()

    fake_stripe.on_request = lock_rows_from_another_connection
    payment_create(user=user, order_id=order.pk)
    fake_stripe.on_request = None
    from .helpers import post_event

    post_event(APIClient(), fake_stripe.succeeded_event(Payment.objects.get().provider_payment_id))
    fake_stripe.on_request = lock_rows_from_another_connection
    order_refund(order_id=order.pk, actor=staff_user, amount=Decimal("1.00"), reason="Goodwill")

    assert seen == [("/v1/payment_intents", "free"), ("/v1/refunds", "free")]
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("1.00")


def _payment_lockable_elsewhere(payment_pk) -> bool:
    """Whether another connection can lock the payment row at once (NOWAIT)."""

    def attempt():
        try:
            with transaction.atomic():
                Payment.objects.select_for_update(nowait=True).get(pk=payment_pk)
            return True
        except DatabaseError:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(attempt).result()


def test_a_webhook_waits_for_the_order_before_locking_the_payment(stripe_order, fake_stripe):
    """The shop's one lock order is order -> payment. A webhook that finds the order locked (by a
    payment retry or a cancellation, which hold the order and then touch its payments) must wait
    holding nothing, or the two would deadlock."""
    payment = Payment.objects.get()
    event = fake_stripe.succeeded_event(payment.provider_payment_id)

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=stripe_order.pk)
            delivery = pool.submit(_deliver_at_once, [event])
            for _ in range(200):
                if backends_waiting_for_a_lock():
                    break
                time.sleep(0.05)
            assert backends_waiting_for_a_lock() == 1, "the webhook never queued behind the order lock"
            assert _payment_lockable_elsewhere(payment.pk), "the webhook held the payment while waiting"
        assert delivery.result(timeout=10) == [(200, "order_paid")]

    assert _final_state(stripe_order) == ("paid", Decimal("32.45"), "succeeded", Decimal("32.45"), 2, 1)
