"""Point the project's Celery app at another broker for one test, and put it back afterwards.

Tests run eagerly on the in-memory broker (settings.test). A test that needs real queuing (an
embedded worker, an unreachable broker) switches the app with `celery_app_using(...)`; connection
and producer pools are dropped on the way in and out, so nothing keeps talking to the other broker.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.contrib.testing.worker import start_worker
from kombu import pools

from ecommerce_api.celery import app as project_app

UNREACHABLE_BROKER_URL = "redis://127.0.0.1:1/0"  # port 1: connection refused at once
SAVED_SETTINGS = ("broker_url", "broker_transport_options", "task_always_eager")


def _drop_pools(app: Celery) -> None:
    # kombu keeps one pool per broker URL process-wide; reset() closes them and forgets them, so the
    # next publish opens a fresh connection to whichever broker is configured now.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_app_using(broker_url: str, *, eager: bool = False, key_prefix: str | None = None) -> Iterator[Celery]:
    """The project's app, publishing to `broker_url` (not eagerly unless told). With Redis,
    `key_prefix` isolates this test's queues from anything else using the same database."""
    app = project_app
    saved = {name: app.conf[name] for name in SAVED_SETTINGS}
    options: dict[str, Any] = dict(saved["broker_transport_options"] or {})
    if key_prefix:
        options["global_keyprefix"] = key_prefix
    _drop_pools(app)
    app.conf.update(broker_url=broker_url, broker_transport_options=options, task_always_eager=eager)
    try:
        yield app
    finally:
        _drop_pools(app)
        app.conf.update(saved)


@contextmanager
def running_worker(broker_url: str, *, queues: list[str], key_prefix: str | None = None) -> Iterator[Celery]:
    """A real Celery worker (celery's embedded test worker, solo pool, in a thread) consuming
    `queues` from `broker_url`; stopped, and the app restored, when the block ends."""
    with celery_app_using(broker_url, key_prefix=key_prefix) as app:
        try:
            with start_worker(app, queues=queues, perform_ping_check=False, shutdown_timeout=30):
                yield app
        finally:
            # The worker's logging setup routes warnings into logging; give them back to pytest.
            logging.captureWarnings(False)


def redis_key_prefix() -> str:
    return f"test-bg-{uuid.uuid4().hex[:12]}:"


def redis_delete_prefixed(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
