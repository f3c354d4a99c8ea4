"""The API's one throttle: the global rate (`anon` per client address, `user` per account) and the
view's `throttle_scope` rate are fixed-window counters, all bumped in ONE Redis round trip (a
MULTI/EXEC pipeline of INCR + EXPIRE per rate). INCR is atomic, so parallel requests all count,
where DRF's throttles read and rewrote a pickled list of timestamps per class (two round trips per
class, and concurrent requests overwrote each other's history).

A window is `duration` seconds aligned to the epoch: up to twice the rate can pass across a window
boundary (docs/OPERATIONS.md, "Throttling"). Every request counts, refused ones too.
Anonymous callers are told apart by `core.net.client_ip` (X-Forwarded-For only from
TRUSTED_PROXIES). The cache unavailable: the request passes (fail open, like the rest of the cache)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django_redis.cache import RedisCache
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .net import client_ip

logger = logging.getLogger("core.cache")

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@lru_cache(maxsize=64)
def parse_rate(rate: str) -> tuple[int, int]:
    """`"20/minute"` -> (20, 60); DRF's format (only the period's first letter matters)."""
    count, period = rate.split("/")
    return int(count), _SECONDS[period[0]]


@dataclass(frozen=True)
class Window:
    key: str
    limit: int
    ends_at: int  # epoch second the window ends


def throttle_windows(*, scopes: list[str], ident: str, now: float) -> list[Window]:
    rates = api_settings.DEFAULT_THROTTLE_RATES  # read per request: settings overrides apply at once
    windows = []
    for scope in scopes:
        rate = rates.get(scope)
        if rate is None:  # a rate set to None turns that limit off, as in DRF
            continue
        limit, duration = parse_rate(rate)
        number = int(now // duration)
        # {ident} is a Redis hash tag: with CACHE_URLS every key of one caller lands on one shard.
        windows.append(Window(f"throttle:{scope}:{{{ident}}}:{number}", limit, (number + 1) * duration))
    return windows


def count_requests(windows: list[Window], *, now: float) -> list[int] | None:
    """Bump every window's counter; None when the cache cannot answer."""
    backend = caches["default"]
    try:
        if isinstance(backend, RedisCache):
            return _count_on_redis(backend, windows, now=now)
        return _count_on_cache(backend, windows, now=now)
    except (RedisError, OSError, ValueError) as exc:  # ValueError: a counter another cache evicted
        _warn_cache_down(exc, now=now)
        return None


_CACHE_DOWN_WARNING_SECONDS = 60.0
_last_cache_down_warning = -math.inf


def _warn_cache_down(exc: Exception, *, now: float) -> None:
    # Once a minute per process, not once per request: an outage must not flood the logs.
    global _last_cache_down_warning
    if now - _last_cache_down_warning >= _CACHE_DOWN_WARNING_SECONDS:
        _last_cache_down_warning = now
        logger.warning("throttle skipped, cache unavailable: %r", exc)


def _ttl(window: Window, now: float) -> int:
    # One second of slack so a key never expires before its window ends.
    return math.ceil(window.ends_at - now) + 1


def _count_on_redis(backend, windows: list[Window], *, now: float) -> list[int]:
    keys = [str(backend.make_key(window.key)) for window in windows]
    client = backend.client
    redis = client.get_server(keys[0]) if hasattr(client, "get_server") else client.get_client(write=True)
    pipe = redis.pipeline(transaction=True)  # MULTI/EXEC: a counter never lives without its TTL
    for key, window in zip(keys, windows, strict=True):
        pipe.incr(key)
        pipe.expire(key, _ttl(window, now))
    return pipe.execute()[::2]


def _count_on_cache(backend, windows: list[Window], *, now: float) -> list[int]:
    """Any other cache (local memory in tests without REDIS_URL): incr, or add on a new window."""
    counts = []
    for window in windows:
        try:
            counts.append(backend.incr(window.key))
        except ValueError:  # no counter yet for this window
            created = backend.add(window.key, 1, timeout=_ttl(window, now))
            counts.append(1 if created else backend.incr(window.key))
    return counts


class RateThrottle(BaseThrottle):
    """settings.REST_FRAMEWORK's only throttle class: the `anon` or `user` rate, plus the rate of
    the view's `throttle_scope` when it has one (ImproperlyConfigured for a scope with no rate)."""

    timer = time.time

    def __init__(self):
        self.retry_after: int | None = None

    def allow_request(self, request, view) -> bool:
        user = request.user
        if user and user.is_authenticated:
            scopes, ident = ["user"], f"user:{user.pk}"
        else:
            scopes, ident = ["anon"], f"ip:{client_ip(request)}"
        scope = getattr(view, "throttle_scope", None)
        if scope:
            if scope not in api_settings.DEFAULT_THROTTLE_RATES:
                raise ImproperlyConfigured(f"No throttle rate set for scope {scope!r}.")
            scopes.append(scope)

        now = self.timer()
        windows = throttle_windows(scopes=scopes, ident=ident, now=now)
        if not windows:
            return True
        counts = count_requests(windows, now=now)
        if counts is None:
            return True
        exceeded = [window for window, count in zip(windows, counts, strict=True) if count > window.limit]
        if not exceeded:
            return True
        self.retry_after = max(1, max(math.ceil(window.ends_at - now) for window in exceeded))
        return False

    def wait(self) -> int | None:
        return self.retry_after
