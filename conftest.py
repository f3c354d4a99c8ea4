"""Fixtures shared by every app's tests."""

import faulthandler
import os
import sys
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    has_redis = bool(os.environ.get("REDIS_URL"))
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://... (CI does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not has_redis:
            item.add_marker(skip_redis)


SHUTDOWN_GRACE_SECONDS = 60


def pytest_unconfigure(config):
    """A thread a test left stuck (an event loop that never finishes, say) would keep the
    interpreter from exiting and hang CI until its time limit. Normal exits take well under a
    second; past the grace period, print every thread's stack and fail."""

    def fail_the_stuck_exit():
        sys.stderr.write(
            f"\nThe test process did not exit within {SHUTDOWN_GRACE_SECONDS} s of the session's end; "
            "a test left a thread running. Stacks:\n"
        )
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(1)

    watchdog = threading.Timer(SHUTDOWN_GRACE_SECONDS, fail_the_stuck_exit)
    watchdog.daemon = True
    watchdog.start()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters, lockouts and cached pages must not leak between tests."""
    _clear_cache()
    yield
    _clear_cache()


def _clear_cache():
    # On Redis, delete only this process's prefixed keys: FLUSHDB would hit parallel runs.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture
def throttle_rates(settings):
    """`throttle_rates(login="2/hour")` sets throttle rates for one test (core.throttling reads them
    per request). Hour windows: a minute boundary inside a test would reset a fixed-window counter."""

    def set_rates(**rates: str | None) -> None:
        current = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {
            **current,
            "DEFAULT_THROTTLE_RATES": {**current["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        email="customer@example.com", password="correct-horse-battery", email_verified=True, first_name="Cam"
    )


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(
        email="other@example.com", password="correct-horse-battery", email_verified=True
    )


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        email="staff@example.com", password="correct-horse-battery", email_verified=True, is_staff=True
    )


def bearer_for(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(user))
    return client


@pytest.fixture
def other_client(other_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(other_user))
    return client


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(staff_user))
    return client
