import base64
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from ecommerce_api.celery import app as celery_app
from sms.backends import console
from sms.errors import InvalidPhoneNumber
from sms.models import SmsMessage
from sms.services import sms_deliver, sms_messages_anonymize, sms_queue

from .conftest import TWILIO_URL

pytestmark = pytest.mark.django_db

PHONE = "+14155552671"


def queue(commit, **overrides):
    with commit():
        return sms_queue(
            **{"to": PHONE, "body": "Your order 1001 has shipped.", "purpose": "order_shipped", **overrides}
        )


def test_queue_logs_the_message_and_sends_it_after_commit(commit, sms_outbox):
    message = queue(commit, to="+1 (415) 555-2671")

    message.refresh_from_db()
    assert (message.to, message.status, message.attempts) == (PHONE, "sent", 1)
    assert message.backend == "sms.backends.memory.SmsBackend"
    assert message.sent_at is not None
    assert [(sms.to, sms.body) for sms in sms_outbox] == [(PHONE, "Your order 1001 has shipped.")]
    assert message.provider_message_id == sms_outbox[0].message_id


def test_nothing_is_sent_before_commit(django_capture_on_commit_callbacks, sms_outbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = sms_queue(to=PHONE, body="Hi", purpose="test")

    assert len(callbacks) == 1
    assert sms_outbox == []
    assert SmsMessage.objects.get(pk=message.pk).status == "queued"


def test_invalid_number_is_refused_and_not_logged(commit):
    with pytest.raises(InvalidPhoneNumber) as error:
        queue(commit, to="12345")

    assert error.value.code == "invalid_phone"
    assert error.value.attr == "to"
    assert SmsMessage.objects.count() == 0


def test_sensitive_bodies_are_masked_once_sent(commit, sms_outbox):
    message = queue(commit, body="482913 is your code. It expires in 5 minutes.", sensitive=True)

    message.refresh_from_db()
    assert message.body == "****** is your code. It expires in 5 minutes."
    assert sms_outbox[0].body.startswith("482913")


def test_delivering_twice_sends_once(commit, sms_outbox):
    message = queue(commit)

    assert sms_deliver(message_id=message.pk) is None

    assert len(sms_outbox) == 1
    assert SmsMessage.objects.get(pk=message.pk).attempts == 1


def test_a_message_abandoned_mid_send_is_claimed_again(sms_outbox, settings):
    message = SmsMessage.objects.create(
        to=PHONE,
        body="Hi",
        purpose="test",
        status="sending",
        claimed_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1),
    )
    recent = SmsMessage.objects.create(to=PHONE, body="Hi", purpose="test", status="sending", claimed_at=timezone.now())

    sms_deliver(message_id=message.pk)
    sms_deliver(message_id=recent.pk)

    assert SmsMessage.objects.get(pk=message.pk).status == "sent"
    assert SmsMessage.objects.get(pk=recent.pk).status == "sending"
    assert len(sms_outbox) == 1


def test_console_backend_prints_the_message():
    stream = StringIO()

    message_id = console.SmsBackend(stream=stream).send(to=PHONE, body="Hello there")

    assert message_id.startswith("console-")
    assert f"SMS to {PHONE}" in stream.getvalue()
    assert "Hello there" in stream.getvalue()


def test_default_backend_is_the_console_one(settings, commit, capsys):
    settings.SMS_BACKEND = "sms.backends.console.SmsBackend"

    message = queue(commit)

    assert "Your order 1001 has shipped." in capsys.readouterr().out
    assert SmsMessage.objects.get(pk=message.pk).backend == "sms.backends.console.SmsBackend"


def test_sms_tasks_go_to_the_sms_queue():
    route = celery_app.amqp.router.route({}, "sms.tasks.sms_send", args=(), kwargs={})

    assert route["queue"].name == "sms"


def test_anonymize_removes_number_and_text_but_keeps_the_row(commit):
    message = queue(commit)
    other = queue(commit, to="+33612345678")

    assert sms_messages_anonymize(phone=PHONE) == 1

    message.refresh_from_db()
    assert (message.to, message.body, message.status) == ("", "(removed: personal data erased)", "sent")
    assert SmsMessage.objects.get(pk=other.pk).to == "+33612345678"


# --- Twilio, faked at its HTTP API ------------------------------------------------------------------


def test_twilio_sends_with_basic_auth_and_records_the_sid(commit, twilio):
    twilio.post(TWILIO_URL, status=201, json={"sid": "SM0001", "status": "queued"})

    message = queue(commit)

    message.refresh_from_db()
    assert (message.status, message.provider_message_id, message.backend) == (
        "sent",
        "SM0001",
        "sms.backends.twilio.SmsBackend",
    )
    request = twilio.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC0123456789:twilio-secret").decode()
    assert parse_qs(request.body) == {
        "To": [PHONE],
        "From": ["+15005550006"],
        "Body": ["Your order 1001 has shipped."],
    }


def test_twilio_server_errors_are_retried_until_accepted(commit, twilio):
    twilio.post(TWILIO_URL, status=503, json={"code": 20503, "message": "Service unavailable"})
    twilio.post(TWILIO_URL, status=429, json={"code": 20429, "message": "Too many requests"})
    twilio.post(TWILIO_URL, status=201, json={"sid": "SM0002"})

    message = queue(commit)

    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_message_id) == ("sent", 3, "SM0002")
    assert message.last_error == ""
    assert len(twilio.calls) == 3


def test_twilio_timeouts_are_retried(commit, twilio):
    twilio.post(TWILIO_URL, body=requests.Timeout("slow"))
    twilio.post(TWILIO_URL, status=201, json={"sid": "SM0003"})

    message = queue(commit)

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)


def test_twilio_outage_gives_up_after_the_retries(commit, twilio, settings):
    settings.SMS_MAX_RETRIES = 2
    twilio.post(TWILIO_URL, status=500, json={"code": 20500, "message": "Internal error"})

    message = queue(commit, body="123456 is your code", sensitive=True)

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    assert "500" in message.last_error
    assert message.body == "****** is your code"
    assert len(twilio.calls) == 3


def test_twilio_refusal_fails_at_once_without_retry(commit, twilio):
    twilio.post(TWILIO_URL, status=400, json={"code": 21211, "message": "The 'To' number is not a valid phone number."})

    message = queue(commit)

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error == "Twilio refused the message (400): 21211 The 'To' number is not a valid phone number."
    assert len(twilio.calls) == 1


def test_twilio_without_credentials_fails_without_calling(commit, twilio, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    message = queue(commit)

    message.refresh_from_db()
    assert message.status == "failed"
    assert "TWILIO_AUTH_TOKEN" in message.last_error
    assert len(twilio.calls) == 0


# --- Admin --------------------------------------------------------------------------------------------


def test_admin_retry_resends_failed_messages_only(client, django_user_model, commit, sms_outbox):
    admin = django_user_model.objects.create_superuser(email="admin@example.com", password="admin-pass-123456")
    client.force_login(admin)
    failed = SmsMessage.objects.create(to=PHONE, body="Shipped", purpose="order_shipped", status="failed")
    masked = SmsMessage.objects.create(
        to=PHONE, body="****** code", purpose="otp_login", status="failed", sensitive=True
    )

    with commit():
        response = client.post(
            reverse("admin:sms_smsmessage_changelist"),
            {"action": "retry_failed", "_selected_action": [failed.pk, masked.pk]},
        )

    assert response.status_code == 302
    assert SmsMessage.objects.get(pk=failed.pk).status == "sent"
    assert SmsMessage.objects.get(pk=masked.pk).status == "failed"
    assert [sms.body for sms in sms_outbox] == ["Shipped"]
