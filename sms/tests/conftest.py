import pytest
import responses

from sms.backends import memory


@pytest.fixture(autouse=True)
def sms_outbox():
    memory.outbox.clear()
    yield memory.outbox
    memory.outbox.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def eager_retries(monkeypatch):
    """With eager propagation (the test default) a retry surfaces as an exception; without it Celery
    runs the retries in place, one after the other, as a worker would over time."""
    from ecommerce_api.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


@pytest.fixture
def twilio(settings, eager_retries):
    settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
    settings.TWILIO_ACCOUNT_SID = "AC0123456789"
    settings.TWILIO_AUTH_TOKEN = "twilio-secret"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    with responses.RequestsMock() as mock:
        yield mock


TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789/Messages.json"
