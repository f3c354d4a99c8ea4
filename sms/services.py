"""Writes for the SMS log. Other apps call `sms_queue`; the `sms_send` task calls `sms_deliver`."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.jobs import enqueue_on_commit

from .backends import SmsPermanentError, SmsTransientError, get_backend
from .models import SmsMessage
from .phones import phone_to_e164

logger = logging.getLogger(__name__)

REMOVED_BODY = "(removed: personal data erased)"


@transaction.atomic
def sms_queue(*, to: str, body: str, purpose: str, sensitive: bool = False) -> SmsMessage:
    """Log an SMS and send it from the `sms` queue once the caller's transaction commits.
    `to` is normalised to E.164 (InvalidPhoneNumber otherwise). `sensitive` bodies (one-time codes)
    are masked in the log as soon as sending is over."""
    message = SmsMessage.objects.create(
        to=phone_to_e164(to, attr="to"), body=body, purpose=purpose, sensitive=sensitive
    )
    _send_after_commit(message)
    return message


def sms_deliver(*, message_id) -> SmsMessage | None:
    """Send one logged message through the configured backend. Safe to run twice: only a queued
    message (or one whose sender died mid-send) is claimed, by a guarded update.
    Raises SmsTransientError after putting the message back in the queue, so the task retries."""
    now = timezone.now()
    abandoned_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = (
        SmsMessage.objects.filter(pk=message_id)
        .filter(
            Q(status=SmsMessage.Status.QUEUED) | Q(status=SmsMessage.Status.SENDING, claimed_at__lt=abandoned_before)
        )
        .update(status=SmsMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    )
    if not claimed:
        return None
    message = SmsMessage.objects.get(pk=message_id)
    message.backend = settings.SMS_BACKEND
    try:
        provider_message_id = get_backend().send(to=message.to, body=message.body)
    except SmsTransientError as exc:
        _save_outcome(message, status=SmsMessage.Status.QUEUED, last_error=str(exc))
        raise
    except (SmsPermanentError, ImproperlyConfigured) as exc:
        logger.error("SMS %s failed for good: %s", message.pk, exc)
        return _save_outcome(message, status=SmsMessage.Status.FAILED, last_error=str(exc))
    return _save_outcome(
        message,
        status=SmsMessage.Status.SENT,
        provider_message_id=provider_message_id,
        sent_at=timezone.now(),
        last_error="",
    )


def sms_give_up(*, message_id, error: str) -> None:
    """Retries are exhausted: the message is failed for good."""
    message = SmsMessage.objects.filter(pk=message_id).exclude(status=SmsMessage.Status.SENT).first()
    if message is not None:
        logger.error("SMS %s failed after retries: %s", message.pk, error)
        _save_outcome(message, status=SmsMessage.Status.FAILED, last_error=error)


@transaction.atomic
def sms_retry(*, message: SmsMessage) -> bool:
    """Staff action: queue a failed message again. Masked bodies cannot be resent."""
    requeued = SmsMessage.objects.filter(pk=message.pk, status=SmsMessage.Status.FAILED, sensitive=False).update(
        status=SmsMessage.Status.QUEUED, updated_at=timezone.now()
    )
    if requeued:
        _send_after_commit(message)
    return bool(requeued)


def sms_messages_anonymize(*, phone: str) -> int:
    """GDPR erasure: keep the log rows (counts, costs) but drop the number and the text."""
    return SmsMessage.objects.filter(to=phone).update(to="", body=REMOVED_BODY, updated_at=timezone.now())


def _send_after_commit(message: SmsMessage) -> None:
    from .tasks import sms_send

    enqueue_on_commit(sms_send, str(message.pk))


def _save_outcome(message: SmsMessage, *, status: str, **fields) -> SmsMessage:
    message.status = status
    for name, value in fields.items():
        setattr(message, name, value)
    if message.sensitive and status != SmsMessage.Status.QUEUED:
        message.body = mask_digits(message.body)
    message.save()
    return message


def mask_digits(text: str) -> str:
    """Hide codes (4+ digits in a row) and keep the rest readable: 'code 123456' -> 'code ******'."""
    return re.sub(r"\d{4,}", lambda match: "*" * len(match.group()), text)
