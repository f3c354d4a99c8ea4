"""The transactional outbox: stored with the business write, delivered once, retried with backoff,
dead-lettered, retried from the admin."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.logging import request_id_var
from core.models import OutboxMessage
from core.outbox import (
    OutboxPermanentFailure,
    OutboxRetryLater,
    outbox_backoff_seconds,
    outbox_drain,
    outbox_enqueue,
    outbox_handler_register,
    outbox_handler_unregister,
    outbox_purge_sent,
    outbox_retry,
)

TOPIC = "test.fact"
OTHER_TOPIC = "test.other"


class RecordingHandler:
    """Records what it was given; fails while `failures` has entries (popped in order)."""

    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.request_ids: list[str] = []
        self.failures = list(failures or [])

    def __call__(self, *, key: str, payload: dict) -> None:
        self.calls.append((key, payload))
        self.request_ids.append(request_id_var.get())
        if self.failures:
            raise self.failures.pop(0)

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.calls]


@pytest.fixture
def handler():
    recorder = RecordingHandler()
    outbox_handler_register(topic=TOPIC, handler=recorder)
    yield recorder
    outbox_handler_unregister(topic=TOPIC)


@pytest.fixture
def other_handler():
    recorder = RecordingHandler()
    outbox_handler_register(topic=OTHER_TOPIC, handler=recorder)
    yield recorder
    outbox_handler_unregister(topic=OTHER_TOPIC)


def enqueue(key: str, payload: dict | None = None, topic: str = TOPIC) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(topic=topic, key=key, payload=payload or {"n": key})


def make_due(*messages: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# --- enqueue ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_stores_a_pending_message_with_the_request_id():
    token = request_id_var.set("req-abc")
    try:
        message = enqueue("order-1", {"order_id": "order-1", "total": "12.50"})
    finally:
        request_id_var.reset(token)

    stored = OutboxMessage.objects.get()
    assert stored.pk == message.pk
    assert (stored.topic, stored.key, stored.payload) == (TOPIC, "order-1", {"order_id": "order-1", "total": "12.50"})
    assert stored.status == OutboxMessage.Status.PENDING
    assert stored.attempts == 0
    assert stored.request_id == "req-abc"
    assert stored.next_attempt_at <= timezone.now()


@pytest.mark.django_db
def test_the_same_fact_is_stored_once():
    first = enqueue("order-1", {"v": 1})
    second = enqueue("order-1", {"v": 2})

    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().payload == {"v": 1}


@pytest.mark.django_db
def test_the_database_refuses_a_duplicate_topic_and_key():
    enqueue("order-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(topic=TOPIC, key="order-1")


@pytest.mark.django_db
def test_a_rolled_back_business_write_takes_its_message_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(topic=TOPIC, key="order-1", payload={})
        raise RuntimeError("the business write failed")

    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(topic=TOPIC, key="order-1", payload={})

    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_a_drain_runs_right_after_commit(handler, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue("order-1")
    assert handler.calls == []  # nothing is delivered before the commit

    for callback in callbacks:
        callback()  # Celery is eager in tests: the queued drain runs here

    assert handler.keys == ["order-1"]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


# --- drain --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_drain_delivers_due_messages_oldest_first_and_marks_them_sent(handler):
    first = enqueue("a", {"n": 1})
    second = enqueue("b", {"n": 2})
    OutboxMessage.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    report = outbox_drain()

    assert handler.calls == [("b", {"n": 2}), ("a", {"n": 1})]
    assert report.as_dict() == {"sent": 2, "failed": 0, "dead": 0, "deferred": 0, "paused_topics": []}
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == OutboxMessage.Status.SENT
        assert message.attempts == 1
        assert message.sent_at is not None
        assert message.last_error == ""


@pytest.mark.django_db
def test_a_sent_message_is_never_delivered_again(handler):
    enqueue("a")
    outbox_drain()

    report = outbox_drain()

    assert handler.keys == ["a"]
    assert report.claimed == 0


@pytest.mark.django_db
def test_messages_not_yet_due_wait(handler):
    message = enqueue("later")
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))

    outbox_drain()

    assert handler.calls == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 0)


@pytest.mark.django_db
def test_the_handler_runs_under_the_request_id_that_wrote_the_message(handler):
    token = request_id_var.set("req-paid-1")
    try:
        enqueue("a")
    finally:
        request_id_var.reset(token)

    outbox_drain()

    assert handler.request_ids == ["req-paid-1"]
    assert request_id_var.get() == "-"


@pytest.mark.django_db
def test_a_failure_is_recorded_and_retried_after_a_backoff(handler, settings):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    handler.failures = [ConnectionError("receiver down")]
    message = enqueue("a")

    before = timezone.now()
    report = outbox_drain()
    after = timezone.now()

    message.refresh_from_db()
    assert report.failed == 1
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 1
    assert message.last_error == "ConnectionError: receiver down"
    assert before + timedelta(seconds=60) <= message.next_attempt_at <= after + timedelta(seconds=60)
    assert message.sent_at is None

    outbox_drain()  # not due yet
    assert handler.keys == ["a"]

    make_due(message)
    outbox_drain()

    message.refresh_from_db()
    assert handler.keys == ["a", "a"]
    assert (message.status, message.attempts, message.last_error) == (OutboxMessage.Status.SENT, 2, "")


def test_backoff_doubles_per_attempt_up_to_the_cap(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 3600

    assert [outbox_backoff_seconds(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert outbox_backoff_seconds(500) == 3600


@pytest.mark.django_db
def test_a_message_is_dead_after_the_last_attempt(handler, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    handler.failures = [TimeoutError("slow")] * 5
    message = enqueue("a")

    for expected_attempts in (1, 2):
        outbox_drain()
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, expected_attempts)
        make_due(message)
    report = outbox_drain()

    message.refresh_from_db()
    assert report.dead == 1
    assert (message.status, message.attempts) == (OutboxMessage.Status.DEAD, 3)
    assert message.last_error == "TimeoutError: slow"

    make_due(message)
    outbox_drain()
    assert len(handler.calls) == 3  # a dead message is left alone


@pytest.mark.django_db
def test_a_permanent_failure_is_dead_at_once(handler):
    handler.failures = [OutboxPermanentFailure("HTTP 422: unknown SKU")]
    message = enqueue("a")

    report = outbox_drain()

    message.refresh_from_db()
    assert report.dead == 1
    assert (message.status, message.attempts) == (OutboxMessage.Status.DEAD, 1)
    assert message.last_error == "OutboxPermanentFailure: HTTP 422: unknown SKU"


@pytest.mark.django_db
def test_retry_later_waits_without_using_an_attempt(handler):
    handler.failures = [OutboxRetryLater("integration off", delay_seconds=900)]
    message = enqueue("a")

    before = timezone.now()
    report = outbox_drain()

    message.refresh_from_db()
    assert report.deferred == 1
    assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 0)
    assert message.last_error == "integration off"
    assert message.next_attempt_at >= before + timedelta(seconds=900)


@pytest.mark.django_db
def test_after_a_failure_the_rest_of_that_topic_waits_for_the_next_run(handler, other_handler):
    handler.failures = [ConnectionError("down")]
    enqueue("a")
    second = enqueue("b")
    enqueue("x", topic=OTHER_TOPIC)

    report = outbox_drain()

    assert handler.keys == ["a"]  # one timeout per run, not one per message
    assert other_handler.keys == ["x"]  # other topics are unaffected
    assert report.paused_topics == {TOPIC}
    second.refresh_from_db()
    assert (second.status, second.attempts) == (OutboxMessage.Status.PENDING, 0)

    outbox_drain()
    assert handler.keys == ["a", "b"]


@pytest.mark.django_db
def test_messages_of_a_topic_without_handler_are_not_claimed(handler):
    orphan = enqueue("o", topic="nobody.listens")

    outbox_drain()

    orphan.refresh_from_db()
    assert (orphan.status, orphan.attempts) == (OutboxMessage.Status.PENDING, 0)


@pytest.mark.django_db
def test_drain_stops_at_its_limit(handler):
    for key in "abcde":
        enqueue(key)

    report = outbox_drain(limit=3)

    assert report.sent == 3
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 2


@pytest.mark.django_db
def test_a_claimed_message_is_hidden_from_other_drains(settings):
    """A second drain starting while the first is delivering (here: from inside the handler) must
    not take the same message: the claim leases it."""
    settings.OUTBOX_LEASE_SECONDS = 300
    seen_by_nested_drain = []

    def handler(*, key, payload):
        row = OutboxMessage.objects.get(key=key)
        seen_by_nested_drain.append((row.attempts, row.next_attempt_at > timezone.now() + timedelta(seconds=250)))
        seen_by_nested_drain.append(outbox_drain().claimed)

    outbox_handler_register(topic=TOPIC, handler=handler)
    try:
        enqueue("a")
        outbox_drain()
    finally:
        outbox_handler_unregister(topic=TOPIC)

    assert seen_by_nested_drain == [(1, True), 0]
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


@pytest.mark.django_db
def test_a_handler_database_error_does_not_break_the_callers_transaction(handler):
    def broken(*, key, payload):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    outbox_handler_unregister(topic=TOPIC)
    outbox_handler_register(topic=TOPIC, handler=broken)
    message = enqueue("a")

    with transaction.atomic():
        report = outbox_drain()
        message.refresh_from_db()  # the transaction is still usable

    assert report.failed == 1
    assert message.status == OutboxMessage.Status.FAILED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_deliver_each_message_exactly_once():
    delivered: list[str] = []
    lock = threading.Lock()

    def slow_handler(*, key, payload):
        time.sleep(0.02)
        with lock:
            delivered.append(key)

    outbox_handler_register(topic=TOPIC, handler=slow_handler)
    keys = [f"k{n:02d}" for n in range(30)]
    for key in keys:
        enqueue(key)
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            outbox_drain()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        outbox_handler_unregister(topic=TOPIC)

    assert errors == []
    assert sorted(delivered) == keys  # every message once, none twice
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, attempts=1).count() == 30


# --- retry and purge ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_gives_failed_and_dead_messages_a_fresh_start_but_leaves_sent_ones(handler):
    dead = OutboxMessage.objects.create(
        topic=TOPIC,
        key="dead",
        status=OutboxMessage.Status.DEAD,
        attempts=20,
        last_error="HTTP 401",
        next_attempt_at=timezone.now() + timedelta(days=1),
    )
    failed = OutboxMessage.objects.create(
        topic=TOPIC,
        key="failed",
        status=OutboxMessage.Status.FAILED,
        attempts=2,
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    sent_at = timezone.now() - timedelta(hours=1)
    sent = OutboxMessage.objects.create(
        topic=TOPIC, key="sent", status=OutboxMessage.Status.SENT, attempts=1, sent_at=sent_at
    )

    count = outbox_retry(message_ids=[dead.pk, failed.pk, sent.pk])

    assert count == 2
    for message in (dead, failed):
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 0)
        assert message.next_attempt_at <= timezone.now()
    dead.refresh_from_db()
    assert dead.last_error == "HTTP 401"  # kept for whoever looks next
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.sent_at) == (OutboxMessage.Status.SENT, 1, sent_at)

    outbox_drain()
    assert sorted(handler.keys) == ["dead", "failed"]


@pytest.mark.django_db
def test_purge_deletes_only_old_sent_messages(settings):
    settings.OUTBOX_SENT_RETENTION_DAYS = 30
    now = timezone.now()
    old_sent = OutboxMessage.objects.create(topic=TOPIC, key="old", status="sent", sent_at=now - timedelta(days=31))
    recent_sent = OutboxMessage.objects.create(topic=TOPIC, key="new", status="sent", sent_at=now - timedelta(days=29))
    old_dead = OutboxMessage.objects.create(topic=TOPIC, key="dead", status="dead")
    OutboxMessage.objects.filter(pk=old_dead.pk).update(created_at=now - timedelta(days=90))

    deleted = outbox_purge_sent()

    assert deleted == 1
    assert set(OutboxMessage.objects.values_list("key", flat=True)) == {recent_sent.key, old_dead.key}
    assert not OutboxMessage.objects.filter(pk=old_sent.pk).exists()
