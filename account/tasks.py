from celery import shared_task

from .ratelimit import auth_counters_delete_expired
from .services import (
    otp_codes_delete_expired,
    password_reset_email_send,
    pending_registrations_delete_expired,
    users_purge_inactive,
)


@shared_task(name="account.tasks.purge_inactive_users")
def purge_inactive_users() -> int:
    """Beat, daily: anonymise accounts past PERSONAL_DATA_RETENTION_DAYS of inactivity."""
    return len(users_purge_inactive())


@shared_task(name="account.tasks.delete_expired_otp_codes")
def delete_expired_otp_codes() -> int:
    """Beat, hourly: one-time codes are useless a day after they expire."""
    return otp_codes_delete_expired()


@shared_task(name="account.tasks.delete_expired_auth_counters")
def delete_expired_auth_counters() -> int:
    """Beat, hourly: login-failure, lockout and OTP-request counters whose window has ended."""
    return auth_counters_delete_expired()


@shared_task(name="account.tasks.send_password_reset_email")
def send_password_reset_email(email: str) -> bool:
    """Queued by password/reset/ for every address; only an active account gets the email."""
    return password_reset_email_send(email=email)


@shared_task(name="account.tasks.delete_expired_registrations")
def delete_expired_registrations() -> int:
    """Beat, hourly: sign-ups whose verification links have expired (password hashes and names)."""
    return pending_registrations_delete_expired()
