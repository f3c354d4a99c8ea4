"""Brute-force counters in the database: the limits hold with Redis down, parallel failures all count,
ended windows restart and are cleaned up."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from account import ratelimit
from account.errors import LoginLocked
from account.models import AuthCounter, PhoneOtp
from account.tasks import delete_expired_auth_counters
from ecommerce_api.schedule import BEAT_SCHEDULE

from .factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/authentication/login/"
OTP_REQUEST = "/api/v1/authentication/otp/request/"
PHONE = "+14155552671"


@pytest.fixture
def dead_redis(settings):
    """The project's production cache (django-redis, fail open) pointed at a port nobody listens on."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.1,
                "SOCKET_TIMEOUT": 0.1,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    cache.set("probe", 1)
    assert cache.get("probe") is None  # down, and failing open rather than raising
    yield


def login(client, password, ip):
    return client.post(LOGIN, {"email": "jane@example.com", "password": password}, REMOTE_ADDR=ip)


def test_lockout_holds_while_redis_is_down(api_client, customer, dead_redis, settings):
    failures = [login(api_client, "nope", ip=f"10.9.0.{i}").status_code for i in range(settings.LOGIN_FAILURE_LIMIT)]

    locked = login(api_client, PASSWORD, ip="10.9.0.99")

    assert failures == [401] * settings.LOGIN_FAILURE_LIMIT
    assert locked.status_code == 429
    assert locked.json()["errors"][0]["code"] == "login_locked"
    assert 0 < int(locked["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS


def test_login_works_while_redis_is_down(api_client, customer, dead_redis):
    assert login(api_client, PASSWORD, ip="10.9.1.1").status_code == 200


def test_otp_limits_hold_while_redis_is_down(api_client, commit, otp_flag, sms_outbox, dead_redis):
    with commit():
        first = api_client.post(OTP_REQUEST, {"phone": PHONE}, REMOTE_ADDR="10.9.2.1")
        second = api_client.post(OTP_REQUEST, {"phone": PHONE}, REMOTE_ADDR="10.9.2.2")

    assert first.status_code == 202
    assert second.status_code == 429
    assert second.json()["errors"][0]["code"] == "otp_rate_limited"
    assert 0 < int(second["Retry-After"]) <= 60
    assert PhoneOtp.objects.count() == len(sms_outbox) == 1


def test_a_window_that_ended_restarts_at_the_next_failure(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    key = ratelimit._key("login-fail", "email", "jane@example.com")
    AuthCounter.objects.create(key=key, count=2, window_ends=timezone.now() - timedelta(seconds=1))

    ratelimit.login_failure_record(email="jane@example.com", ip="10.9.3.1")

    counter = AuthCounter.objects.get(key=key)
    assert counter.count == 1  # not 3: the old window's failures no longer count, and no lock
    assert counter.window_ends > timezone.now() + timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS - 60)
    ratelimit.login_lock_check(email="jane@example.com", ip="10.9.3.1")


def test_expired_counters_are_deleted_by_an_hourly_beat_task():
    now = timezone.now()
    AuthCounter.objects.create(key="account:login-lock:old", count=0, window_ends=now - timedelta(seconds=1))
    AuthCounter.objects.create(key="account:login-lock:live", count=0, window_ends=now + timedelta(minutes=5))

    assert delete_expired_auth_counters() == 1

    assert list(AuthCounter.objects.values_list("key", flat=True)) == ["account:login-lock:live"]
    entry = BEAT_SCHEDULE["account-delete-expired-auth-counters"]
    assert entry["task"] == delete_expired_auth_counters.name


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_failures_all_count_on_postgres(settings):
    """Eight failed logins at once, each on its own connection: the eighth locks, so none was lost."""
    workers = 8
    settings.LOGIN_FAILURE_LIMIT = workers
    start = threading.Barrier(workers)

    def fail(i):
        try:
            start.wait()
            ratelimit.login_failure_record(email="jane@example.com", ip=f"10.9.4.{i}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fail, range(workers)))

    with pytest.raises(LoginLocked):
        ratelimit.login_lock_check(email="jane@example.com", ip="10.9.4.200")
    # Each IP failed once: eight rows at 1, no IP lock.
    ip_counts = [ratelimit._key("login-fail", "ip", f"10.9.4.{i}") for i in range(workers)]
    assert list(AuthCounter.objects.filter(key__in=ip_counts).values_list("count", flat=True)) == [1] * workers
    assert not AuthCounter.objects.filter(key=ratelimit._key("login-fail", "email", "jane@example.com")).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_failures_below_the_limit_count_exactly_on_postgres(settings):
    workers = 8
    settings.LOGIN_FAILURE_LIMIT = 100
    start = threading.Barrier(workers)

    def fail(_):
        try:
            start.wait()
            ratelimit.login_failure_record(email="jane@example.com", ip="10.9.5.1")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fail, range(workers)))

    counts = dict(AuthCounter.objects.values_list("key", "count"))
    assert counts == {
        ratelimit._key("login-fail", "email", "jane@example.com"): workers,
        ratelimit._key("login-fail", "ip", "10.9.5.1"): workers,
    }
