"""The transactional outbox: facts for other systems are stored in the same transaction as the
business change they describe, then delivered by a Celery task with retries.

    # inside the service's transaction (e.g. orders.services.order_mark_paid)
    outbox_enqueue(topic="order.paid", key=str(order.id), payload={"order_id": str(order.id)})

    # in the consuming app's AppConfig.ready()
    outbox_handler_register(topic="order.paid", handler=erp_order_paid_handle)

Delivery is at least once: a worker that dies after the handler succeeded but before the row was
marked sent delivers the message again once its lease runs out. Handlers must therefore be
idempotent (the ERP push sends an Idempotency-Key). A handler signals how it failed:
- any exception: a transient failure; retried with exponential backoff, dead after
  OUTBOX_MAX_ATTEMPTS attempts;
- `OutboxPermanentFailure`: retrying cannot help (the receiver refused the message); dead at once;
- `OutboxRetryLater`: the handler cannot run yet (e.g. the integration is not configured); the
  message waits without using up an attempt.
Rows of topics without a registered handler are never claimed; they wait until one is registered.
The kernel imports no app: apps register their handlers.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .logging import get_request_id, request_id_var
from .models import OutboxMessage

logger = logging.getLogger(__name__)

DUE_STATUSES = (OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED)
MAX_ERROR_LENGTH = 2000


class OutboxHandler(Protocol):
    def __call__(self, *, key: str, payload: dict[str, Any]) -> None: ...


class OutboxPermanentFailure(Exception):
    """Raised by a handler when the receiver refused the message for good."""


class OutboxRetryLater(Exception):
    """Raised by a handler that cannot deliver yet, through nobody's fault; no attempt is used."""

    def __init__(self, reason: str, *, delay_seconds: int) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


_handlers: dict[str, OutboxHandler] = {}


def outbox_handler_register(*, topic: str, handler: OutboxHandler) -> None:
    """One handler per topic; registering another one for a taken topic is a wiring mistake."""
    current = _handlers.get(topic)
    if current is not None and current is not handler:
        raise ImproperlyConfigured(f"Outbox topic {topic!r} already has a handler: {current!r}.")
    _handlers[topic] = handler


def outbox_handler_unregister(*, topic: str) -> None:
    _handlers.pop(topic, None)


def outbox_topics() -> frozenset[str]:
    return frozenset(_handlers)


def outbox_enqueue(*, topic: str, key: str, payload: dict[str, Any], drain_after_commit: bool = True) -> OutboxMessage:
    """Store a fact for delivery, in the caller's transaction: it is delivered only if the caller
    commits, and is lost with nothing else if it rolls back. Enqueuing the same (topic, key) again
    returns the stored message unchanged. After commit, a drain is queued so delivery starts at once
    instead of at the next beat tick."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_enqueue() must run inside the transaction of the change it describes.")
    message, created = OutboxMessage.objects.get_or_create(
        topic=topic,
        key=str(key),
        defaults={"payload": payload, "request_id": _current_request_id()},
    )
    if created and drain_after_commit:
        transaction.on_commit(_drain_soon, robust=True)
    return message


def _current_request_id() -> str:
    request_id = get_request_id()
    return "" if request_id == "-" else request_id


def _drain_soon() -> None:
    from .outbox_tasks import outbox_drain

    try:
        outbox_drain.apply_async()
    except BrokerError:
        # The message is safe in the table; beat's next drain delivers it.
        logger.warning("Could not queue an outbox drain (broker unreachable); beat will run it.")


def outbox_backoff_seconds(attempts: int) -> int:
    """Delay before the next attempt after `attempts` failed ones: base * 2^(attempts-1), capped."""
    exponent = max(attempts - 1, 0)
    # Cap the exponent too, so a large attempt count cannot build a huge integer.
    delay = settings.OUTBOX_BACKOFF_SECONDS * 2 ** min(exponent, 32)
    return min(delay, settings.OUTBOX_BACKOFF_MAX_SECONDS)


@dataclass
class DrainReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    paused_topics: set[str] = field(default_factory=set)

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.dead + self.deferred

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "deferred": self.deferred,
            "paused_topics": sorted(self.paused_topics),
        }


def outbox_drain(*, limit: int | None = None, time_budget_seconds: float | None = None) -> DrainReport:
    """Deliver due messages, oldest due first, one at a time.

    Each message is claimed in its own short transaction (row lock with SKIP LOCKED, then a lease
    pushed into next_attempt_at), so concurrent drains never take the same message and no
    transaction stays open during a handler's network call. After a transient failure, the rest of
    that topic waits for the next run: an unreachable receiver costs one timeout per run, not one
    per message."""
    limit = settings.OUTBOX_BATCH_SIZE if limit is None else limit
    budget = settings.OUTBOX_DRAIN_TIME_BUDGET_SECONDS if time_budget_seconds is None else time_budget_seconds
    deadline = time.monotonic() + budget
    report = DrainReport()
    while report.claimed < limit and time.monotonic() < deadline:
        topics = outbox_topics() - report.paused_topics
        if not topics:
            break
        message = _claim_next(topics)
        if message is None:
            break
        _deliver(message, report)
    if report.claimed:
        logger.info("Outbox drain: %s", report.as_dict())
    return report


def _claim_next(topics: Iterable[str]) -> OutboxMessage | None:
    while True:
        now = timezone.now()
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(status__in=DUE_STATUSES, next_attempt_at__lte=now, topic__in=list(topics))
                .order_by("next_attempt_at", "id")
                .first()
            )
            if message is None:
                return None
            # Guarded on what was read, so a database without row locks (SQLite) still hands each
            # claim to one drain only.
            claimed = OutboxMessage.objects.filter(
                pk=message.pk, attempts=message.attempts, next_attempt_at=message.next_attempt_at
            ).update(
                attempts=message.attempts + 1,
                next_attempt_at=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS),
                updated_at=now,
            )
        if claimed == 1:
            message.attempts += 1
            return message


def _deliver(message: OutboxMessage, report: DrainReport) -> None:
    handler = _handlers[message.topic]
    # The handler logs (and queues tasks) under the id of the request that wrote the message.
    token = request_id_var.set(message.request_id or "-")
    # Inside a caller's transaction, a savepoint keeps a database error of the handler from breaking
    # it. Otherwise the handler runs in autocommit: no transaction stays open across its network call.
    scope = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with scope:
            handler(key=message.key, payload=message.payload)
    except OutboxRetryLater as exc:
        _finish(
            message,
            attempts=message.attempts - 1,
            next_attempt_at=timezone.now() + timedelta(seconds=exc.delay_seconds),
            last_error=str(exc),
        )
        report.deferred += 1
    except OutboxPermanentFailure as exc:
        logger.error("Outbox %s gave up after a permanent failure: %s", message, exc)
        _finish(message, status=OutboxMessage.Status.DEAD, last_error=_describe(exc))
        report.dead += 1
    except Exception as exc:
        report.paused_topics.add(message.topic)
        if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            logger.exception("Outbox %s is dead after %d attempts", message, message.attempts)
            _finish(message, status=OutboxMessage.Status.DEAD, last_error=_describe(exc))
            report.dead += 1
        else:
            delay = outbox_backoff_seconds(message.attempts)
            logger.warning("Outbox %s attempt %d failed, retry in %d s: %s", message, message.attempts, delay, exc)
            _finish(
                message,
                status=OutboxMessage.Status.FAILED,
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
                last_error=_describe(exc),
            )
            report.failed += 1
    else:
        _finish(message, status=OutboxMessage.Status.SENT, sent_at=timezone.now(), last_error="")
        report.sent += 1
    finally:
        request_id_var.reset(token)


def _finish(message: OutboxMessage, **changes: Any) -> None:
    # Only the holder of the current claim may record the outcome: if the lease ran out and another
    # drain claimed the message again, attempts moved on and this update matches nothing.
    OutboxMessage.objects.filter(pk=message.pk, attempts=message.attempts).update(updated_at=timezone.now(), **changes)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


@transaction.atomic
def outbox_retry(*, message_ids: Iterable[int]) -> int:
    """Give failed or dead messages a fresh set of attempts, due now (the admin's retry action).
    Sent messages are left alone: retrying them would deliver a fact twice."""
    retried = OutboxMessage.objects.filter(pk__in=list(message_ids)).exclude(status=OutboxMessage.Status.SENT)
    count = retried.update(
        status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), updated_at=timezone.now()
    )
    if count:
        transaction.on_commit(_drain_soon, robust=True)
    return count


def outbox_purge_sent(*, older_than: datetime | None = None) -> int:
    """Delete sent messages older than OUTBOX_SENT_RETENTION_DAYS (their facts were delivered)."""
    cutoff = older_than or timezone.now() - timedelta(days=settings.OUTBOX_SENT_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, sent_at__lt=cutoff).delete()
    return deleted
