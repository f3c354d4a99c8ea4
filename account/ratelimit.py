"""Counters for brute-force protection and OTP limits, and the auth-email cooldown.

The security counters (failed logins per account and per IP, their lockouts, code requests per
phone) live in the database table AuthCounter, not in the cache: the cache fails open (a Redis
outage reads as "no count"), which would switch brute-force protection off exactly when Redis is
down. Each counter is a fixed window counted by one upsert (INSERT ... ON CONFLICT DO UPDATE, on
PostgreSQL and SQLite), so parallel requests on any number of workers all count, with no read
before the write. Rows whose window ended are deleted by the beat task
account.tasks.delete_expired_auth_counters. Only the auth-email cooldown stays in the cache: failing
open there costs an extra email, not a guessed password.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .errors import LoginLocked, OtpRateLimited
from .models import AuthCounter


def _key(*parts: str) -> str:
    # Hash what users type, so keys stay short and the table holds no email, phone or IP.
    digest = hashlib.sha256("\x1f".join(parts[1:]).encode()).hexdigest()[:40]
    return f"account:{parts[0]}:{digest}"


def _as_aware(value: datetime | str) -> datetime:
    # PostgreSQL returns an aware datetime; SQLite's RETURNING may hand back the stored UTC text.
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


# One statement counts an event: a window that has ended restarts at it. SET reads the row as it
# was before the statement, in both CASEs. Plain SQL, as the ORM's upsert cannot add to a column.
_WINDOW_HIT_SQL = """
    INSERT INTO "account_authcounter" ("key", "count", "window_ends") VALUES (%s, 1, %s)
    ON CONFLICT ("key") DO UPDATE SET
        "count" = CASE WHEN "account_authcounter"."window_ends" > %s
                       THEN "account_authcounter"."count" + 1 ELSE 1 END,
        "window_ends" = CASE WHEN "account_authcounter"."window_ends" > %s
                             THEN "account_authcounter"."window_ends" ELSE excluded."window_ends" END
    RETURNING "count", "window_ends"
"""


def _window_hit(key: str, *, window_seconds: int) -> tuple[int, int]:
    """Count one event; return (events in the current window, seconds until the window ends)."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(_WINDOW_HIT_SQL, [key, adapt(now + timedelta(seconds=window_seconds)), adapt(now), adapt(now)])
        events, window_ends = cursor.fetchone()
    return int(events), _seconds_until(_as_aware(window_ends), now)


def _lock_set(key: str, *, seconds: int) -> None:
    AuthCounter.objects.bulk_create(
        [AuthCounter(key=key, count=0, window_ends=timezone.now() + timedelta(seconds=seconds))],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["count", "window_ends"],
    )


# --- Login lockout ---------------------------------------------------------------------------


def login_lock_check(*, email: str, ip: str) -> None:
    """Raise LoginLocked while the account or the client IP is locked out."""
    now = timezone.now()
    until = AuthCounter.objects.filter(
        key__in=[_key("login-lock", "email", email), _key("login-lock", "ip", ip)], window_ends__gt=now
    ).aggregate(until=Max("window_ends"))["until"]
    if until is not None:
        raise LoginLocked(retry_after=_seconds_until(until, now))


def login_failure_record(*, email: str, ip: str) -> None:
    """Count a failed login for the account and for the IP; the LOGIN_FAILURE_LIMIT-th failure within
    LOGIN_FAILURE_WINDOW_SECONDS locks that account (or IP) out for LOGIN_LOCKOUT_SECONDS.
    Unknown emails count too, so a lockout says nothing about whether an account exists.
    Call it outside any transaction the refusal rolls back, or the failure is forgotten."""
    for scope, value in (("email", email), ("ip", ip)):
        failures = _key("login-fail", scope, value)
        count, _ = _window_hit(failures, window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        if count >= settings.LOGIN_FAILURE_LIMIT:
            _lock_set(_key("login-lock", scope, value), seconds=settings.LOGIN_LOCKOUT_SECONDS)
            AuthCounter.objects.filter(key=failures).delete()


def login_failures_clear(*, email: str) -> None:
    """A successful login or a password reset forgives the account's earlier failures (not the IP's)."""
    AuthCounter.objects.filter(
        key__in=[_key("login-fail", "email", email), _key("login-lock", "email", email)]
    ).delete()


def auth_counters_delete_expired() -> int:
    """Rows whose window or lockout has ended count nothing any more."""
    deleted, _ = AuthCounter.objects.filter(window_ends__lte=timezone.now()).delete()
    return deleted


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
