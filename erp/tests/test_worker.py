"""The ERP integration through a real Celery worker consuming from Redis: the drain queued after
commit pushes a paid order to the fake ERP, and the inventory pull retries on the `erp` queue."""

from __future__ import annotations

import os
import time

import pytest
from django.db import transaction

from core.jobs import enqueue_on_commit
from core.logging import request_id_var
from core.models import OutboxMessage
from core.outbox import outbox_enqueue
from core.tests.celery_support import redis_delete_prefixed, redis_key_prefix, running_worker
from ecommerce_api.celery import app
from erp.models import ErpOrderExport
from erp.services import ORDER_PAID_TOPIC
from erp.tasks import erp_inventory_pull
from orders.services import order_mark_paid
from shop.models import ProductVariant

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(condition, *, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def worker():
    url, prefix = os.environ["REDIS_URL"], redis_key_prefix()
    try:
        with running_worker(url, queues=["default", "erp"], key_prefix=prefix) as celery_app:
            yield celery_app
    finally:
        redis_delete_prefixed(url, prefix)
    assert app.conf.task_always_eager is True  # restored for the rest of the suite


def test_a_paid_order_reaches_the_erp_through_a_real_worker(fake_erp, shop, user, worker):
    order = shop.place(user)
    token = request_id_var.set("req-webhook-42")
    try:
        with transaction.atomic():  # the transaction of order_mark_paid, with the outbox row in it
            order_mark_paid(order_id=order.pk, amount=order.total, currency=order.currency, reference="pay_1")
            outbox_enqueue(topic=ORDER_PAID_TOPIC, key=str(order.pk), payload={"order_id": str(order.pk)})
    finally:
        request_id_var.reset(token)

    assert wait_for(lambda: ErpOrderExport.objects.filter(order_id=order.pk).exists())
    message = OutboxMessage.objects.get(topic=ORDER_PAID_TOPIC, key=str(order.pk))
    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.SENT)
    assert ErpOrderExport.objects.get(order_id=order.pk).erp_id == "SO-00001"
    [request] = fake_erp.order_requests
    assert request["headers"]["Idempotency-Key"] == str(order.pk)
    assert request["headers"]["X-Request-Id"] == "req-webhook-42"  # carried through broker and outbox


def test_the_inventory_pull_retries_on_the_erp_queue_until_the_erp_answers(fake_erp, shop, worker, monkeypatch):
    monkeypatch.setattr(erp_inventory_pull, "retry_backoff_base_seconds", 0)  # retry at once
    fake_erp.add_item("SHIRT-M", 42)
    fake_erp.fail_next("inventory", 503)

    with transaction.atomic():
        enqueue_on_commit(erp_inventory_pull)

    assert wait_for(lambda: ProductVariant.objects.get(sku="SHIRT-M").quantity_on_hand == 42)
    assert len(fake_erp.inventory_requests) == 2  # the 503, then the retry
    assert ProductVariant.objects.get(sku="SHIRT-M").quantity_allocated == 0
