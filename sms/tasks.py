import random

from celery import shared_task
from django.conf import settings

from .backends import SmsTransientError
from .services import sms_deliver, sms_give_up


@shared_task(bind=True, name="sms.tasks.sms_send", acks_late=True)
def sms_send(self, message_id: str) -> None:
    """Send one logged SMS (queue `sms`); transient provider failures retry with exponential backoff."""
    try:
        sms_deliver(message_id=message_id)
    except SmsTransientError as exc:
        if self.request.retries >= settings.SMS_MAX_RETRIES:
            sms_give_up(message_id=message_id, error=str(exc))
            return
        countdown = min(600, 15 * 2**self.request.retries) + random.uniform(0, 5)
        raise self.retry(exc=exc, countdown=countdown, max_retries=settings.SMS_MAX_RETRIES)
