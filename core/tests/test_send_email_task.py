"""core.tasks.send_email: multi-part rendering, dedupe, and retries of transient SMTP failures.

SMTP is faked at the email-backend boundary: FlakyBackend plays a server that fails as scripted."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from core.tasks import is_transient_smtp_error, send_email
from ecommerce_api.celery import app as celery_app


class FlakyBackend(BaseEmailBackend):
    script: list = []  # exceptions to raise, one per attempt, before succeeding
    attempts = 0

    def send_messages(self, messages):
        type(self).attempts += 1
        if self.script:
            raise self.script.pop(0)
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings, monkeypatch):
    settings.EMAIL_BACKEND = "core.tests.test_send_email_task.FlakyBackend"
    FlakyBackend.script, FlakyBackend.attempts = [], 0
    # Without eager propagation Celery runs the retries in place, as a worker would over time.
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    return FlakyBackend


def test_sends_a_multipart_email_from_the_templates(mailoutbox, settings):
    sent = send_email.delay(
        to="ann@example.com",
        subject="Confirm\nyour email",
        template="verify_email",
        context={
            "first_name": "Ann",
            "email": "ann@example.com",
            "verify_url": "https://x.test/v/abc/",
            "expires_hours": 48,
        },
    ).get()

    assert sent == 1
    message = mailoutbox[0]
    assert message.to == ["ann@example.com"]
    assert message.subject == "Confirm your email"  # no header injection
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert "Hello Ann," in message.body
    assert "https://x.test/v/abc/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<a href="https://x.test/v/abc/"' in html
    assert "E-commerce Shop" in html  # shop_name is always in the context


def test_several_recipients_and_text_only_templates(mailoutbox, settings, tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "plain_note.txt").write_text("Note for {{ name }} from {{ shop_name }}.")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    send_email.delay(
        to=["a@example.com", "b@example.com"], subject="Note", template="plain_note", context={"name": "Bo"}
    )

    message = mailoutbox[0]
    assert message.to == ["a@example.com", "b@example.com"]
    assert message.body == "Note for Bo from E-commerce Shop."
    assert message.alternatives == []


def test_dedupe_key_makes_a_second_run_send_nothing(mailoutbox):
    kwargs = {
        "to": "a@example.com",
        "subject": "Shipped",
        "template": "password_changed",
        "dedupe_key": "order:1:shipped",
    }

    assert send_email.delay(**kwargs).get() == 1
    assert send_email.delay(**kwargs).get() == 0
    assert len(mailoutbox) == 1


def test_transient_failures_are_retried_until_sent(flaky, mailoutbox):
    flaky.script = [smtplib.SMTPServerDisconnected("gone"), smtplib.SMTPResponseException(421, b"try later")]

    send_email.delay(to="a@example.com", subject="Hi", template="password_changed")

    assert flaky.attempts == 3
    assert len(mailoutbox) == 1


def test_permanent_failures_are_not_retried(flaky, mailoutbox):
    flaky.script = [smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")})]

    result = send_email.delay(to="a@example.com", subject="Hi", template="password_changed")

    assert result.failed()
    assert flaky.attempts == 1
    assert mailoutbox == []


def test_gives_up_after_the_retries(flaky, mailoutbox):
    flaky.script = [ConnectionRefusedError()] * 10

    result = send_email.delay(to="a@example.com", subject="Hi", template="password_changed")

    assert result.failed()
    assert flaky.attempts == send_email.max_retries + 1
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (smtplib.SMTPServerDisconnected("x"), True),
        (smtplib.SMTPConnectError(421, "busy"), True),
        (smtplib.SMTPSenderRefused(451, b"greylisted", "shop@example.com"), True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (450, b"mailbox busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x.test": (550, b"unknown"), "b@x.test": (450, b"busy")}), False),
        (smtplib.SMTPNotSupportedError("no STARTTLS"), False),
        (TimeoutError(), True),
        (ConnectionRefusedError(), True),
        (ValueError("template bug"), False),
    ],
)
def test_transient_smtp_error_classification(exc, transient):
    assert is_transient_smtp_error(exc) is transient


def test_email_task_goes_to_the_email_queue():
    route = celery_app.amqp.router.route({}, "core.tasks.send_email", args=(), kwargs={})

    assert route["queue"].name == "email"
