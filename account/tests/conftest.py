import pytest
from django.core.cache import cache
from waffle.testutils import override_flag

from account.models import AuthCounter
from sms.backends import memory

from .factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def sms_outbox():
    memory.outbox.clear()
    yield memory.outbox
    memory.outbox.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit(): ...` runs the on_commit callbacks (queued emails and SMS) of the block, as the
    commit of a real request would; the test transaction itself never commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def otp_flag():
    with override_flag("otp_login", active=True):
        yield


@pytest.fixture
def social_flag():
    with override_flag("social_login", active=True):
        yield


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def customer(db):
    return UserFactory(email="jane@example.com", first_name="Jane")


@pytest.fixture
def clear_cache():
    """Forget counters mid-test: the cache's (email cooldowns, throttles; on Redis only this process's
    keys, FLUSHDB would hit parallel runs) and the brute-force counters in the database."""

    def clear() -> None:
        if hasattr(cache, "delete_pattern"):
            cache.delete_pattern("*")
        else:
            cache.clear()
        AuthCounter.objects.all().delete()

    return clear
