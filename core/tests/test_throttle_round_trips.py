"""core.throttling: every rate of a request (anon or user, plus the view's scope) in one Redis round
trip, atomic under parallel requests, the same 429 + Retry-After, a local-memory fallback, and
fail-open when the cache is down."""

import math
import os
import threading
import time
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from redis.connection import AbstractConnection
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.throttling import RateThrottle

THROTTLED = "/test/throttled/"  # AllowAny, throttle_scope "tests", no database, no other cache use
WHOAMI = "/test/whoami/"
HOUR = 3600


@pytest.fixture(autouse=True)
def _test_urls(settings):
    settings.ROOT_URLCONF = "core.tests.urls"


def _redis_config(location=None, client_class="django_redis.client.DefaultClient"):
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location or os.environ.get("REDIS_URL", ""),
        "KEY_PREFIX": f"throttle-test-{uuid.uuid4()}",
        "OPTIONS": {"CLIENT_CLASS": client_class, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }


def _shard_locations():
    base = os.environ.get("REDIS_URL", "").rstrip("/").rsplit("/", 1)[0]
    return [f"{base}/1", f"{base}/2"]


@pytest.fixture
def redis_cache():
    with override_settings(CACHES={"default": _redis_config()}):
        yield caches["default"]
        caches["default"].delete_pattern("*")


@pytest.fixture(
    params=[
        pytest.param("locmem"),
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("sharded", marks=pytest.mark.redis),
    ]
)
def any_cache(request):
    if request.param == "locmem":
        config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-tests"}
    elif request.param == "redis":
        config = _redis_config()
    else:
        config = _redis_config(_shard_locations(), "django_redis.client.ShardClient")
    with override_settings(CACHES={"default": config}):
        backend = caches["default"]
        yield backend
        backend.delete_pattern("*") if request.param != "locmem" else backend.clear()


@pytest.fixture
def round_trips(monkeypatch):
    """Counts what redis-py sends: one packed send is one round trip (a pipeline is one)."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(b"".join(command) if isinstance(command, list | tuple) else command)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


def _seconds_to_window_end(duration: int) -> float:
    return duration - time.time() % duration


# --- the limits ---------------------------------------------------------------------------------


def test_the_scope_rate_refuses_with_429_and_the_seconds_left_in_the_window(any_cache, api_client, throttle_rates):
    throttle_rates(tests="2/hour")

    codes = [api_client.get(THROTTLED).status_code for _ in range(2)]
    refused = api_client.get(THROTTLED)
    expected_wait = _seconds_to_window_end(HOUR)

    assert codes == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert abs(int(refused["Retry-After"]) - expected_wait) <= 2


def test_the_anon_rate_counts_per_client_address(any_cache, api_client, throttle_rates):
    throttle_rates(anon="2/hour", tests="100/hour")

    first = [api_client.get(THROTTLED, REMOTE_ADDR="198.51.100.1").status_code for _ in range(3)]
    other = api_client.get(THROTTLED, REMOTE_ADDR="198.51.100.2").status_code

    assert first == [200, 200, 429]
    assert other == 200


@pytest.mark.django_db
def test_the_user_rate_counts_per_account_and_the_anon_rate_does_not_apply(
    any_cache, auth_client, other_client, throttle_rates
):
    throttle_rates(anon="1/hour", user="2/hour")

    codes = [auth_client.get(WHOAMI).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    assert other_client.get(WHOAMI).status_code == 200


def test_a_rate_set_to_none_is_no_limit(any_cache, api_client, throttle_rates):
    throttle_rates(anon=None, tests=None)

    assert {api_client.get(THROTTLED).status_code for _ in range(5)} == {200}


def test_a_scope_without_a_rate_is_a_configuration_error(api_client):
    with pytest.raises(ImproperlyConfigured, match="tests"):
        api_client.get(THROTTLED)


# --- Redis: one round trip, atomic, with a TTL ---------------------------------------------------


@pytest.mark.redis
@pytest.mark.parametrize("location", ["single", "sharded"])
def test_an_anonymous_scoped_request_costs_one_redis_round_trip(location, api_client, throttle_rates, round_trips):
    config = (
        _redis_config()
        if location == "single"
        else _redis_config(_shard_locations(), "django_redis.client.ShardClient")
    )
    with override_settings(CACHES={"default": config}):
        throttle_rates(tests="100/hour")
        api_client.get(THROTTLED)  # opens the connection (its handshake is not a request's cost)
        round_trips.clear()

        codes = [api_client.get(THROTTLED).status_code for _ in range(5)]
        sent = list(round_trips)
        caches["default"].delete_pattern("*")

    assert codes == [200] * 5
    assert len(sent) == 5
    # Both rates (anon, tests) in each: MULTI, INCRBY + EXPIRE twice, EXEC.
    assert all(packet.count(b"INCRBY") == 2 and packet.count(b"EXPIRE") == 2 for packet in sent)


@pytest.mark.redis
@pytest.mark.django_db
def test_an_authenticated_request_costs_one_redis_round_trip(redis_cache, auth_client, throttle_rates, round_trips):
    throttle_rates(user="100/hour")
    auth_client.get(WHOAMI)
    round_trips.clear()

    codes = [auth_client.get(WHOAMI).status_code for _ in range(3)]

    assert codes == [200] * 3
    assert len(round_trips) == 3


@pytest.mark.redis
def test_a_refused_request_costs_one_round_trip_too(redis_cache, api_client, throttle_rates, round_trips):
    throttle_rates(tests="1/hour")
    api_client.get(THROTTLED)
    round_trips.clear()

    assert api_client.get(THROTTLED).status_code == 429
    assert len(round_trips) == 1


@pytest.mark.redis
def test_counters_expire_when_their_window_ends(redis_cache, api_client, throttle_rates):
    throttle_rates(tests="10/minute")
    api_client.get(THROTTLED)
    client = redis_cache.client.get_client()

    keys = [key.decode() for key in client.keys(f"{redis_cache.key_prefix}:*")]
    ttls = {key.split(":")[3]: client.ttl(key) for key in keys}

    assert set(ttls) == {"anon", "tests"}
    assert 0 < ttls["tests"] <= math.ceil(_seconds_to_window_end(60)) + 1
    assert 0 < ttls["anon"] <= math.ceil(_seconds_to_window_end(60)) + 1


@pytest.mark.redis
def test_parallel_requests_all_count(redis_cache, throttle_rates):
    throttle_rates(tests="50/hour")
    factory = APIRequestFactory()
    view = type("View", (), {"throttle_scope": "tests"})()
    allowed: list[bool] = []
    start = threading.Barrier(8)

    def hammer():
        start.wait()
        for _ in range(10):
            request = Request(factory.get("/", REMOTE_ADDR="203.0.113.50"))
            request.user = AnonymousUser()
            allowed.append(RateThrottle().allow_request(request, view))
        caches["default"].close()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(allowed) == 80
    assert allowed.count(True) == 50  # a lost update would let more through


# --- the cache down: fail open ------------------------------------------------------------------


def test_requests_pass_when_redis_is_unreachable(api_client, throttle_rates, caplog, monkeypatch):
    from core import throttling

    monkeypatch.setattr(throttling, "_last_cache_down_warning", float("-inf"))  # no earlier outage
    throttle_rates(tests="1/hour")
    with override_settings(CACHES={"default": _redis_config("redis://127.0.0.1:1/0")}):
        codes = [api_client.get(THROTTLED).status_code for _ in range(3)]

    assert codes == [200, 200, 200]
    # Said once, not once per request: an outage must not flood the logs.
    assert caplog.text.count("throttle skipped, cache unavailable") == 1
