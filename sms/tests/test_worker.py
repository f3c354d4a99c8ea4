"""One SMS through a real Celery worker (in a thread, over the in-memory broker): routing to the
`sms` queue, the task and the database write are exercised as in production."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from ecommerce_api.celery import app
from sms.models import SmsMessage
from sms.services import sms_queue


# The worker thread needs its own connection to the same committed data; SQLite's shared in-memory
# test database does not give that reliably across threads.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_queued_sms(monkeypatch, sms_outbox):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    # Named explicitly, with a fresh producer pool: another test may have left a different broker
    # URL in the app's config, and a pool connected to it.
    monkeypatch.setitem(app.conf, "broker_url", "memory://")
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    monkeypatch.setitem(app.conf, "broker_transport_options", {"polling_interval": 0.05})

    with start_worker(app, pool="solo", perform_ping_check=False, queues=["sms"], shutdown_timeout=10):
        message = sms_queue(to="+14155552671", body="Your order has shipped.", purpose="order_shipped")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.status == SmsMessage.Status.SENT:
                break
            time.sleep(0.05)

    assert message.status == SmsMessage.Status.SENT, (message.attempts, message.last_error)
    assert message.attempts == 1
    assert [(sms.to, sms.body) for sms in sms_outbox] == [("+14155552671", "Your order has shipped.")]
