"""Celery conventions: queue after commit, keep jobs in the outbox while the broker is down, carry
the request id into the worker, one beat schedule whose every task exists."""

from __future__ import annotations

import inspect
import logging
import threading

import pytest
from celery import shared_task
from django.conf import settings as django_settings

from core.jobs import CELERY_TASK_TOPIC, enqueue_on_commit
from core.logging import RequestIdFilter, get_request_id, request_id_var
from core.models import OutboxMessage
from core.outbox import outbox_drain
from core.outbox_tasks import outbox_drain as outbox_drain_task
from core.tests.celery_support import UNREACHABLE_BROKER_URL, celery_app_using, running_worker
from ecommerce_api.celery import app
from ecommerce_api.schedule import BEAT_SCHEDULE

logger = logging.getLogger("core.tests.celery_conventions")

calls: list[tuple] = []
seen_request_ids: dict[str, str] = {}
seen_done = threading.Event()


@shared_task(name="core.tests.record_call")
def record_call(label: str, n: int = 0) -> None:
    calls.append((label, n))


@shared_task(name="core.tests.record_request_id")
def record_request_id(label: str, expected: int) -> None:
    logger.warning("task %s running", label)
    seen_request_ids[label] = get_request_id()
    if label == "parent":
        record_request_id.delay("child", expected)  # queued from inside a task: the id carries on
    if len(seen_request_ids) >= expected:
        seen_done.set()


@pytest.fixture(autouse=True)
def _reset_recorders():
    calls.clear()
    seen_request_ids.clear()
    seen_done.clear()


# --- enqueue_on_commit --------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_on_commit_queues_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task_id = enqueue_on_commit(record_call, "after-commit", n=3)
    assert calls == []

    for callback in callbacks:
        callback()

    assert calls == [("after-commit", 3)]
    assert len(task_id) == 36


@pytest.mark.django_db
def test_a_rolled_back_transaction_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        from django.db import transaction

        with transaction.atomic():
            enqueue_on_commit(record_call, "never")
            raise RuntimeError("rolled back")

    assert calls == []
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_broker_down_keeps_the_job_in_the_outbox_and_the_caller_succeeds(django_capture_on_commit_callbacks):
    token = request_id_var.set("req-broker-down")
    try:
        with celery_app_using(UNREACHABLE_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
            task_id = enqueue_on_commit(record_call, "kept", n=7)  # no exception reaches the caller
    finally:
        request_id_var.reset(token)

    message = OutboxMessage.objects.get()
    assert message.topic == CELERY_TASK_TOPIC
    assert message.key == task_id
    assert message.payload == {"task": "core.tests.record_call", "args": ["kept"], "kwargs": {"n": 7}}
    assert message.status == OutboxMessage.Status.PENDING
    assert message.request_id == "req-broker-down"
    assert calls == []


@pytest.mark.django_db
def test_a_kept_job_waits_while_the_broker_is_down_and_is_sent_once_it_is_back(django_capture_on_commit_callbacks):
    with celery_app_using(UNREACHABLE_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(record_call, "kept", n=1)
    message = OutboxMessage.objects.get()

    with celery_app_using(UNREACHABLE_BROKER_URL):
        still_down = outbox_drain()
    message.refresh_from_db()
    assert still_down.failed == 1
    assert (message.status, message.attempts) == (OutboxMessage.Status.FAILED, 1)
    assert message.last_error.startswith("OperationalError: ")
    assert calls == []

    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)
    back = outbox_drain()  # the test broker: eager, so the job runs here

    message.refresh_from_db()
    assert back.sent == 1
    assert message.status == OutboxMessage.Status.SENT
    assert calls == [("kept", 1)]
    outbox_drain()
    assert calls == [("kept", 1)]  # sent once


# --- request id ---------------------------------------------------------------------------------


class RecordingLogHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_real_worker_runs_tasks_under_the_request_id_that_queued_them():
    log_handler = RecordingLogHandler()
    logger.addHandler(log_handler)
    try:
        with running_worker("memory://", queues=["default"]):
            token = request_id_var.set("req-worker-1")
            try:
                record_request_id.delay("parent", 3)
            finally:
                request_id_var.reset(token)
            record_request_id.delay("outside-a-request", 3)
            assert seen_done.wait(timeout=20), seen_request_ids
    finally:
        logger.removeHandler(log_handler)

    assert seen_request_ids == {"parent": "req-worker-1", "child": "req-worker-1", "outside-a-request": "-"}
    assert sorted((r.getMessage(), r.request_id) for r in log_handler.records) == [
        ("task child running", "req-worker-1"),
        ("task outside-a-request running", "-"),
        ("task parent running", "req-worker-1"),
    ]
    assert app.conf.task_always_eager is True  # the app is back to the test setup


def test_eager_tasks_keep_the_request_id_of_the_caller():
    token = request_id_var.set("req-eager")
    try:
        record_request_id.delay("eager", 1)
        assert get_request_id() == "req-eager"
    finally:
        request_id_var.reset(token)

    assert seen_request_ids == {"eager": "req-eager"}


# --- schedule, routes, limits -------------------------------------------------------------------


def unregistered_scheduled_tasks(schedule: dict, registry) -> list[str]:
    return sorted(entry["task"] for entry in schedule.values() if entry["task"] not in registry)


def registered_tasks():
    app.loader.import_default_modules()  # runs autodiscovery, as a worker does at start
    return app.tasks


def test_every_scheduled_task_is_a_registered_task():
    assert unregistered_scheduled_tasks(BEAT_SCHEDULE, registered_tasks()) == []


def test_the_schedule_check_catches_a_misspelt_task_name():
    schedule = {**BEAT_SCHEDULE, "typo": {"task": "erp.tasks.erp_inventory_pul", "schedule": 60.0}}

    assert unregistered_scheduled_tasks(schedule, registered_tasks()) == ["erp.tasks.erp_inventory_pul"]


def test_scheduled_arguments_fit_each_task():
    tasks = registered_tasks()
    for name, entry in BEAT_SCHEDULE.items():
        signature = inspect.signature(tasks[entry["task"]].run)
        signature.bind(*entry.get("args", ()), **entry.get("kwargs", {}))  # TypeError names the entry
        assert entry["schedule"], name


def test_beat_runs_the_schedule_with_the_jobs_of_the_background_issue():
    assert app.conf.beat_schedule is BEAT_SCHEDULE
    scheduled = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert {
        "orders.tasks.orders_expire_unpaid",
        "cart.tasks.cart_delete_expired_anonymous",
        "erp.tasks.erp_inventory_pull",
        "core.outbox_tasks.outbox_drain",
        "account.tasks.purge_inactive_users",
    } <= scheduled
    assert BEAT_SCHEDULE["outbox-drain"]["schedule"] == 60.0
    assert BEAT_SCHEDULE["erp-inventory-pull"]["schedule"] == 900.0
    assert BEAT_SCHEDULE["erp-inventory-pull-full"]["kwargs"] == {"full": True}


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("erp.tasks.erp_inventory_pull", "erp"),
        ("core.outbox_tasks.outbox_drain", "default"),
        ("core.outbox_tasks.outbox_purge_sent", "default"),
        ("core.tasks.send_email", "email"),
    ],
)
def test_tasks_are_routed_to_their_queue(task_name, queue):
    route = app.amqp.router.route({}, task_name)

    assert route["queue"].name == queue


def test_time_limits_apply_to_every_task_and_slow_ones_set_their_own():
    tasks = registered_tasks()
    assert app.conf.task_time_limit == django_settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.task_soft_time_limit == django_settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    drain = tasks["core.outbox_tasks.outbox_drain"]
    assert (drain.soft_time_limit, drain.time_limit) == (120, 150)
    pull = tasks["erp.tasks.erp_inventory_pull"]
    limit = django_settings.ERP_INVENTORY_PULL_TIME_LIMIT
    assert (pull.soft_time_limit, pull.time_limit) == (limit, limit + 60)
    assert pull.acks_late is True and drain.acks_late is True


def test_retry_backoff_doubles_up_to_the_tasks_cap():
    pull = registered_tasks()["erp.tasks.erp_inventory_pull"]
    delays = []
    for retries in range(6):
        pull.push_request(retries=retries)
        try:
            delays.append(pull.backoff_seconds())
        finally:
            pull.pop_request()

    assert delays == [60, 120, 240, 480, 900, 900]


@pytest.mark.django_db
def test_the_drain_task_returns_its_report():
    result = outbox_drain_task.delay().get(timeout=5)

    assert result == {"sent": 0, "failed": 0, "dead": 0, "deferred": 0, "paused_topics": []}
