"""Celery tasks of the outbox (core.outbox): delivery every minute and after each commit that
enqueues, and a daily purge of delivered messages. Registered by CoreConfig.ready()."""

from __future__ import annotations

from celery import shared_task

from . import outbox
from .jobs import BaseTask


@shared_task(bind=True, base=BaseTask, name="core.outbox_tasks.outbox_drain", soft_time_limit=120, time_limit=150)
def outbox_drain(self) -> dict:
    """Deliver due outbox messages (beat every minute). Safe to run concurrently: each message is
    claimed by one run only."""
    return outbox.outbox_drain().as_dict()


@shared_task(bind=True, base=BaseTask, name="core.outbox_tasks.outbox_purge_sent", soft_time_limit=300, time_limit=360)
def outbox_purge_sent(self) -> int:
    """Delete messages delivered more than OUTBOX_SENT_RETENTION_DAYS ago (beat, daily)."""
    return outbox.outbox_purge_sent()
