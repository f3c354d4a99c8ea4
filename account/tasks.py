from celery import shared_task

from .services import otp_codes_delete_expired, users_purge_inactive


@shared_task(name="account.tasks.purge_inactive_users")
def purge_inactive_users() -> int:
    """Beat, daily: anonymise accounts past PERSONAL_DATA_RETENTION_DAYS of inactivity."""
    return len(users_purge_inactive())


@shared_task(name="account.tasks.delete_expired_otp_codes")
def delete_expired_otp_codes() -> int:
    """Beat, hourly: one-time codes are useless a day after they expire."""
    return otp_codes_delete_expired()
