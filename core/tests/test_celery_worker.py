"""A real Celery worker (celery's embedded test worker) consuming from Redis: a task queued after
commit runs in the worker and its write is visible to the test."""

from __future__ import annotations

import os
import time

import pytest
import redis
from celery import shared_task
from django.db import transaction

from core.jobs import enqueue_on_commit
from core.models import OutboxMessage
from core.tests.celery_support import redis_delete_prefixed, redis_key_prefix, running_worker
from ecommerce_api.celery import app

SEEN = "seen by the worker"


@shared_task(name="core.tests.mark_message_seen")
def mark_message_seen(message_id: int) -> int:
    # Matches nothing if the task ran before the row was committed.
    return OutboxMessage.objects.filter(pk=message_id).update(last_error=SEEN)


def wait_for(condition, *, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def broker_keys(url: str, prefix: str) -> set[str]:
    client = redis.Redis.from_url(url)
    try:
        return {key.decode() for key in client.scan_iter(match=f"{prefix}*")}
    finally:
        client.close()


@pytest.fixture
def redis_broker():
    url = os.environ["REDIS_URL"]
    prefix = redis_key_prefix()
    yield url, prefix
    redis_delete_prefixed(url, prefix)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_queued_after_commit_runs_in_a_real_worker_and_its_write_is_visible(redis_broker):
    url, prefix = redis_broker
    with running_worker(url, queues=["default"], key_prefix=prefix):
        with transaction.atomic():
            message = OutboxMessage.objects.create(topic="test.worker", key="w1")
            enqueue_on_commit(mark_message_seen, message.pk)

        assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).last_error == SEEN)
        assert broker_keys(url, prefix) >= {f"{prefix}_kombu.binding.default"}  # it went through Redis

    assert app.conf.task_always_eager is True
    assert app.conf.broker_url == "memory://"
