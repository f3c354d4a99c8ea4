"""How our Celery tasks are queued and run (docs/BACKGROUND.md).

- `enqueue_on_commit(task, *args, **kwargs)` queues a task once the current transaction commits.
  If the broker is unreachable at that moment the request still succeeds: the job is kept in the
  outbox (topic "celery.task") and `outbox_drain` sends it when the broker is back.
- The request id of the request that queued a task travels in the message headers and is restored
  in the worker, so the task's log lines (and tasks it queues in turn) carry it.
- `BaseTask` gives our tasks late acks and an exponential-backoff retry helper; time limits come
  from CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT unless a task sets its own.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from typing import Any

from celery import Task, current_app
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from .logging import get_request_id, request_id_var
from .outbox import outbox_enqueue

logger = logging.getLogger(__name__)

CELERY_TASK_TOPIC = "celery.task"
REQUEST_ID_HEADER = "request_id"


class BaseTask(Task):
    """Our tasks acknowledge a message only after running it, so a worker lost mid-task hands the
    message to another worker (tasks are written to be safe to run twice)."""

    acks_late = True
    reject_on_worker_lost = True
    retry_backoff_base_seconds = 30
    retry_backoff_max_seconds = 900

    def backoff_seconds(self) -> int:
        return min(self.retry_backoff_base_seconds * 2**self.request.retries, self.retry_backoff_max_seconds)

    def retry_with_backoff(self, exc: BaseException):
        """Raise Celery's Retry with an exponential countdown (or `exc` once retries are used up)."""
        return self.retry(exc=exc, countdown=self.backoff_seconds())


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> str:
    """Queue `task(*args, **kwargs)` after the current transaction commits (at once outside one).
    Returns the task id. Arguments must be JSON-serialisable: ids, not model instances."""
    task_id = str(uuid.uuid4())
    request_id = get_request_id()

    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs, task_id=task_id)
        except BrokerError as exc:
            logger.warning("Broker unreachable, keeping %s[%s] in the outbox: %s", task.name, task_id, exc)
            _keep_in_outbox(task_name=task.name, task_id=task_id, args=args, kwargs=kwargs, request_id=request_id)

    # robust: whatever goes wrong here is logged and never turns a committed request into an error.
    transaction.on_commit(send, robust=True)
    return task_id


def _keep_in_outbox(*, task_name: str, task_id: str, args: tuple, kwargs: dict[str, Any], request_id: str) -> None:
    token = request_id_var.set(request_id)
    try:
        with transaction.atomic():
            # No drain is queued after this commit: the broker it would go through is down.
            outbox_enqueue(
                topic=CELERY_TASK_TOPIC,
                key=task_id,
                payload={"task": task_name, "args": list(args), "kwargs": kwargs},
                drain_after_commit=False,
            )
    finally:
        request_id_var.reset(token)


def celery_task_resend(*, key: str, payload: dict[str, Any]) -> None:
    """Outbox handler for "celery.task": queue the kept job again, under its original task id. A
    broker still down raises, and the outbox retries later."""
    task = current_app.tasks.get(payload["task"])
    options = {"task_id": key}
    if task is not None:
        task.apply_async(args=payload.get("args", []), kwargs=payload.get("kwargs", {}), **options)
    else:  # a task only the workers know: send it by name
        current_app.send_task(
            payload["task"], args=payload.get("args", []), kwargs=payload.get("kwargs", {}), **options
        )


# --- request id propagation ---------------------------------------------------------------------

_worker_tokens: dict[str, contextvars.Token[str]] = {}


@before_task_publish.connect(dispatch_uid="core.jobs.attach_request_id")
def _attach_request_id(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    request_id = get_request_id()
    if headers is not None and request_id != "-":
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect(dispatch_uid="core.jobs.restore_request_id")
def _restore_request_id(task_id: str | None = None, task: Task | None = None, **_kwargs: Any) -> None:
    # Eager tasks carry no headers and already run inside the request's context: nothing to do.
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    if task_id and isinstance(request_id, str) and request_id:
        _worker_tokens[task_id] = request_id_var.set(request_id[:128])


@task_postrun.connect(dispatch_uid="core.jobs.forget_request_id")
def _forget_request_id(task_id: str | None = None, **_kwargs: Any) -> None:
    token = _worker_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        request_id_var.reset(token)
