"""Counters for brute-force protection and OTP limits, kept in the cache (Redis in production).

Every counter is a fixed window: `cache.add` creates it with the window as its timeout and
`cache.incr` bumps it atomically, so parallel requests on several workers all count. A sibling key
remembers when the window ends, for `Retry-After`. With the cache down, counters read as zero: the
API keeps serving (fail open), like the rest of the project's cache use.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from .errors import LoginLocked, OtpRateLimited


def _key(*parts: str) -> str:
    # Hash what users type, so keys stay short and safe for any cache backend.
    digest = hashlib.sha256("\x1f".join(parts[1:]).encode()).hexdigest()[:40]
    return f"account:{parts[0]}:{digest}"


def _window_hit(key: str, *, window_seconds: int) -> tuple[int, int]:
    """Count one event; return (events in the current window, seconds until the window ends)."""
    now = time.time()
    cache.add(f"{key}:ends", now + window_seconds, window_seconds)
    cache.add(key, 0, window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr: this event opens a new one
        cache.add(key, 0, window_seconds)
        count = cache.incr(key)
    ends = cache.get(f"{key}:ends") or now + window_seconds
    return int(count or 0), max(1, math.ceil(ends - now))


def _lock_remaining(key: str) -> int:
    until = cache.get(key)
    if not until:
        return 0
    return max(0, math.ceil(until - time.time()))


# --- Login lockout ---------------------------------------------------------------------------


def login_lock_check(*, email: str, ip: str) -> None:
    """Raise LoginLocked while the account or the client IP is locked out."""
    remaining = max(_lock_remaining(_key("login-lock", "email", email)), _lock_remaining(_key("login-lock", "ip", ip)))
    if remaining:
        raise LoginLocked(retry_after=remaining)


def login_failure_record(*, email: str, ip: str) -> None:
    """Count a failed login for the account and for the IP; the LOGIN_FAILURE_LIMIT-th failure within
    LOGIN_FAILURE_WINDOW_SECONDS locks that account (or IP) out for LOGIN_LOCKOUT_SECONDS.
    Unknown emails count too, so a lockout says nothing about whether an account exists."""
    for scope, value in (("email", email), ("ip", ip)):
        count, _ = _window_hit(_key("login-fail", scope, value), window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        if count >= settings.LOGIN_FAILURE_LIMIT:
            lockout = settings.LOGIN_LOCKOUT_SECONDS
            cache.set(_key("login-lock", scope, value), time.time() + lockout, lockout)
            cache.delete(_key("login-fail", scope, value))


def login_failures_clear(*, email: str) -> None:
    """A successful login or a password reset forgives the account's earlier failures (not the IP's)."""
    cache.delete_many([_key("login-fail", "email", email), _key("login-lock", "email", email)])


# --- OTP requests ----------------------------------------------------------------------------


def otp_request_count(*, phone: str) -> None:
    """Count a code request for the phone; raise OtpRateLimited beyond OTP_MAX_PER_PHONE_PER_MINUTE
    or OTP_MAX_PER_PHONE_PER_HOUR."""
    for name, window, limit in (
        ("otp-minute", 60, settings.OTP_MAX_PER_PHONE_PER_MINUTE),
        ("otp-hour", 3600, settings.OTP_MAX_PER_PHONE_PER_HOUR),
    ):
        count, retry_after = _window_hit(_key(name, phone), window_seconds=window)
        if count > limit:
            raise OtpRateLimited(retry_after=retry_after)


# --- Auth emails -----------------------------------------------------------------------------


def auth_email_cooldown_claim(*, purpose: str, email: str) -> bool:
    """True at most once per AUTH_EMAIL_COOLDOWN_SECONDS per address and purpose: nobody can use
    the resend or reset endpoints to flood someone's inbox."""
    seconds = settings.AUTH_EMAIL_COOLDOWN_SECONDS
    if seconds <= 0:
        return True
    return bool(cache.add(_key("email-cooldown", purpose, email.lower()), 1, seconds))
