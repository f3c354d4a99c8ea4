"""Email for every app. Queue it after commit:

    transaction.on_commit(lambda: send_email.delay(
        to=user.email, subject="Your order has shipped", template="order_shipped",
        context={"order_number": order.number}, dedupe_key=f"order:{order.id}:shipped"))

`template` is a base name: `templates/email/<template>.txt` is required, `.html` is optional (sent as
the HTML alternative). `context` must be JSON-serialisable (it travels through the broker);
`shop_name` and `frontend_url` are added to it. See docs/ACCOUNTS.md.
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from core.links import frontend_link

logger = logging.getLogger(__name__)

MAX_RETRIES = 5
DEDUPE_TTL_SECONDS = 7 * 24 * 3600


@shared_task(bind=True, name="core.tasks.send_email", acks_late=True, max_retries=MAX_RETRIES)
def send_email(
    self,
    to: str | list[str],
    subject: str,
    template: str,
    context: dict | None = None,
    *,
    from_email: str | None = None,
    reply_to: list[str] | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Render and send one multi-part email (routed to the `email` queue). Transient SMTP failures
    (4xx replies, dropped or refused connections) retry with exponential backoff; permanent ones
    (5xx, bad credentials) fail at once. With `dedupe_key`, a second run after a successful send
    sends nothing, so the task is safe to run twice. Returns the number of messages sent."""
    sent_marker = f"core:email-sent:{dedupe_key}" if dedupe_key else None
    if sent_marker and cache.get(sent_marker):
        return 0
    message = build_email(to=to, subject=subject, template=template, context=context or {}, from_email=from_email)
    if reply_to:
        message.reply_to = list(reply_to)
    try:
        sent = message.send()
    except Exception as exc:
        if not is_transient_smtp_error(exc):
            raise
        logger.warning("Email %r to %s failed, will retry: %s", template, message.to, exc)
        countdown = min(900, 30 * 2**self.request.retries) + random.uniform(0, 10)
        raise self.retry(exc=exc, countdown=countdown)
    if sent_marker:
        cache.set(sent_marker, True, DEDUPE_TTL_SECONDS)
    return sent


def build_email(
    *, to: str | list[str], subject: str, template: str, context: dict, from_email: str | None = None
) -> EmailMultiAlternatives:
    recipients = [to] if isinstance(to, str) else list(to)
    # frontend_url: the shop's home page, the storefront's or the demo one (core.links).
    context = {"shop_name": settings.SHOP_NAME, "frontend_url": frontend_link("home"), **context}
    # A newline in a subject would be a header injection; Django refuses it, we flatten it.
    subject = " ".join(subject.splitlines()).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"email/{template}.txt", context),
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    with contextlib.suppress(TemplateDoesNotExist):
        message.attach_alternative(render_to_string(f"email/{template}.html", context), "text/html")
    return message


def is_transient_smtp_error(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):  # an OSError too, but e.g. "not supported" never heals
        return False
    # Refused connections, DNS failures and timeouts.
    return isinstance(exc, OSError)
