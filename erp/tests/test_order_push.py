"""Paid orders reach the ERP through the outbox: once, with an idempotency key, surviving outages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage
from core.outbox import outbox_drain, outbox_enqueue
from erp.errors import ErpOrderMissing, ErpUnavailable
from erp.models import ErpOrderExport
from erp.services import ORDER_PAID_TOPIC, erp_order_push
from orders.models import Order
from orders.services import order_mark_paid

pytestmark = pytest.mark.django_db


def paid_order(shop, user) -> Order:
    order = shop.place(user)
    assert order_mark_paid(order_id=order.pk, amount=order.total, currency=order.currency, reference="pay_1")
    order.refresh_from_db()
    return order


def enqueue_paid(order: Order) -> OutboxMessage:
    """What orders.services.order_mark_paid does inside its transaction."""
    with transaction.atomic():
        return outbox_enqueue(
            topic=ORDER_PAID_TOPIC, key=str(order.pk), payload={"order_id": str(order.pk), "number": order.number}
        )


def make_due() -> None:
    OutboxMessage.objects.update(next_attempt_at=timezone.now())


def test_push_sends_the_order_with_its_id_as_idempotency_key(fake_erp, shop, user):
    order = paid_order(shop, user)

    export = erp_order_push(order_id=str(order.pk))

    assert export.erp_id == "SO-00001"
    assert ErpOrderExport.objects.get().order_id == order.pk
    [request] = fake_erp.order_requests
    assert request["headers"]["Idempotency-Key"] == str(order.pk)
    assert request["headers"]["Authorization"] == "Bearer erp-test-key"
    assert request["body"] == {
        "id": str(order.pk),
        "number": order.number,
        "created_at": order.created_at.isoformat(),
        "paid_at": order.paid_at.isoformat(),
        "currency": "USD",
        "subtotal": "24.50",
        "discount_total": "0.00",
        "shipping_total": "5.00",
        "tax_total": "2.95",
        "total": "32.45",
        "lines": [
            {
                "sku": "SHIRT-M",
                "name": "Linen shirt",
                "quantity": 2,
                "unit_price": "10.00",
                "line_total": "20.00",
                "discount": "0.00",
                "tax": "2.00",
            },
            {
                "sku": "SOCKS-1",
                "name": "Wool socks",
                "quantity": 1,
                "unit_price": "4.50",
                "line_total": "4.50",
                "discount": "0.00",
                "tax": "0.45",
            },
        ],
        "customer": {"email": "customer@example.com"},
        "shipping_address": order.shipping_address,
        "shipping_method": "Standard",
    }
    assert order.shipping_address["line1"] == "1 Market Street"


def test_an_acknowledged_order_is_not_sent_again(fake_erp, shop, user):
    order = paid_order(shop, user)
    first = erp_order_push(order_id=str(order.pk))

    second = erp_order_push(order_id=str(order.pk))

    assert second.pk == first.pk
    assert len(fake_erp.order_requests) == 1


def test_a_push_whose_answer_was_lost_is_resent_with_the_same_key_and_makes_one_erp_order(fake_erp, shop, user):
    order = paid_order(shop, user)
    fake_erp.fail_next("orders", "timeout")  # the ERP stores the order, the answer never arrives

    with pytest.raises(ErpUnavailable):
        erp_order_push(order_id=str(order.pk))
    assert not ErpOrderExport.objects.exists()

    export = erp_order_push(order_id=str(order.pk))

    assert export.erp_id == "SO-00001"
    assert len(fake_erp.orders) == 1  # one order in the ERP
    assert [r["headers"]["Idempotency-Key"] for r in fake_erp.order_requests] == [str(order.pk)] * 2
    assert fake_erp.order_requests[0]["body"] == fake_erp.order_requests[1]["body"]


def test_pushing_a_missing_order_fails_for_good(fake_erp):
    with pytest.raises(ErpOrderMissing):
        erp_order_push(order_id="00000000-0000-0000-0000-000000000000")
    assert fake_erp.order_requests == []


# --- through the outbox -------------------------------------------------------------------------


def test_the_outbox_survives_an_erp_outage_and_drains_once_it_returns(fake_erp, shop, user, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    order = paid_order(shop, user)
    message = enqueue_paid(order)
    fake_erp.fail_next("orders", 503, 500)

    outbox_drain()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 1)
    assert message.last_error == "ErpUnavailable: POST /orders: HTTP 503."
    assert not ErpOrderExport.objects.exists()

    outbox_drain()  # not due yet: the ERP is not hammered
    assert len(fake_erp.order_requests) == 1

    make_due()
    outbox_drain()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 2)
    assert message.last_error == "ErpUnavailable: POST /orders: HTTP 500."

    make_due()
    outbox_drain()  # the ERP is back
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxMessage.Status.SENT, 3, "")
    assert ErpOrderExport.objects.get(order=order).erp_id == "SO-00001"

    make_due()
    outbox_drain()  # a sent message is never taken again
    assert len(fake_erp.order_requests) == 3
    assert len(fake_erp.orders) == 1  # nothing sent twice
    assert {r["headers"]["Idempotency-Key"] for r in fake_erp.order_requests} == {str(order.pk)}


def test_the_outbox_rides_out_an_erp_that_is_not_listening(fake_erp, shop, user, settings):
    order = paid_order(shop, user)
    message = enqueue_paid(order)
    settings.ERP_API_URL = "http://127.0.0.1:1/erp"  # connection refused

    outbox_drain()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 1)
    assert message.last_error.startswith("ErpUnavailable: POST /orders: ConnectionError")

    settings.ERP_API_URL = fake_erp.base_url
    make_due()
    outbox_drain()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert ErpOrderExport.objects.filter(order=order).count() == 1


def test_an_order_the_erp_refuses_is_dead_at_once(fake_erp, shop, user):
    order = paid_order(shop, user)
    message = enqueue_paid(order)
    fake_erp.fail_next("orders", 422)

    report = outbox_drain()

    message.refresh_from_db()
    assert report.dead == 1
    assert (message.status, message.attempts) == (OutboxMessage.Status.DEAD, 1)
    assert message.last_error == "OutboxPermanentFailure: POST /orders: HTTP 422: upstream trouble"


def test_an_order_is_dead_after_the_last_attempt(fake_erp, shop, user, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    order = paid_order(shop, user)
    message = enqueue_paid(order)
    fake_erp.fail_next("orders", 500, 502, 504, 500)

    for _ in range(4):
        outbox_drain()
        make_due()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.DEAD, 3)
    assert message.last_error == "ErpUnavailable: POST /orders: HTTP 504."
    assert len(fake_erp.order_requests) == 3
    assert not ErpOrderExport.objects.exists()


def test_paid_orders_wait_in_the_outbox_while_the_erp_is_not_configured(shop, user, settings):
    settings.ERP_API_URL = ""
    order = paid_order(shop, user)
    message = enqueue_paid(order)

    report = outbox_drain()

    message.refresh_from_db()
    assert report.deferred == 1
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 0)
    assert message.last_error == "ERP_API_URL is not set; the ERP integration is off."
    assert (message.next_attempt_at - timezone.now()).total_seconds() > 14 * 60


def test_a_missing_order_is_dead(fake_erp):
    with transaction.atomic():
        message = outbox_enqueue(topic=ORDER_PAID_TOPIC, key="00000000-0000-0000-0000-000000000000", payload={})

    outbox_drain()

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD
    assert message.last_error == ("OutboxPermanentFailure: Order 00000000-0000-0000-0000-000000000000 does not exist.")


# --- integration with orders --------------------------------------------------------------------


def test_marking_an_order_paid_writes_the_outbox_row_that_reaches_the_erp(
    fake_erp, shop, user, django_capture_on_commit_callbacks
):
    """orders.services.order_mark_paid must call outbox_enqueue(topic="order.paid",
    key=str(order.id), ...) inside its transaction; the drain queued after commit pushes it."""
    order = shop.place(user)

    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=order.pk, amount=Decimal("32.45"), currency="USD", reference="pay_9")

    message = OutboxMessage.objects.get(topic=ORDER_PAID_TOPIC)
    assert message.key == str(order.pk)
    assert message.status == OutboxMessage.Status.SENT
    assert ErpOrderExport.objects.get(order=order).erp_id == "SO-00001"
    assert [r["body"]["number"] for r in fake_erp.order_requests] == [order.number]


def test_a_payment_that_does_not_mark_the_order_paid_writes_nothing(fake_erp, shop, user):
    order = shop.place(user)
    order_mark_paid(order_id=order.pk, amount=Decimal("32.45"), currency="USD", reference="pay_1")
    OutboxMessage.objects.all().delete()

    assert order_mark_paid(order_id=order.pk, amount=Decimal("32.45"), currency="USD", reference="pay_2") is False

    assert OutboxMessage.objects.count() == 0
