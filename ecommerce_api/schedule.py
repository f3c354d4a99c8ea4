"""The one place that declares Celery beat's schedule. Each entry names a task by its dotted path,
so this module imports no app. Apps add their periodic jobs here."""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # cart: anonymous carts idle for CART_INACTIVITY_DAYS are deleted once a day, off-peak.
    "cart-delete-expired-anonymous": {
        "task": "cart.tasks.cart_delete_expired_anonymous",
        "schedule": crontab(hour=3, minute=17),
    },
    # orders: unpaid orders past payment_due_by are cancelled (stock and coupon use released).
    "orders-expire-unpaid": {
        "task": "orders.tasks.orders_expire_unpaid",
        "schedule": 60.0,
    },
    # account: GDPR retention, accounts inactive for PERSONAL_DATA_RETENTION_DAYS are anonymised.
    "account-purge-inactive-users": {
        "task": "account.tasks.purge_inactive_users",
        "schedule": crontab(hour=3, minute=41),
    },
    # account: one-time SMS codes are deleted a day after they expire.
    "account-delete-expired-otp-codes": {
        "task": "account.tasks.delete_expired_otp_codes",
        "schedule": crontab(minute=23),
    },
    # account: brute-force counters (failed logins, lockouts, OTP requests) whose window has ended.
    "account-delete-expired-auth-counters": {
        "task": "account.tasks.delete_expired_auth_counters",
        "schedule": crontab(minute=29),
    },
    # account: sign-ups whose verification links have expired.
    "account-delete-expired-registrations": {
        "task": "account.tasks.delete_expired_registrations",
        "schedule": crontab(minute=31),
    },
    # erp: stock counts the ERP changed since the last complete pull (docs/ERP.md).
    "erp-inventory-pull": {
        "task": "erp.tasks.erp_inventory_pull",
        "schedule": 15 * 60.0,
    },
    # erp: every stock count once a night, catching anything an incremental pull skipped.
    "erp-inventory-pull-full": {
        "task": "erp.tasks.erp_inventory_pull",
        "schedule": crontab(hour=4, minute=7),
        "kwargs": {"full": True},
    },
    # core: deliver due outbox messages (paid orders to the ERP, jobs kept while the broker was down).
    "outbox-drain": {
        "task": "core.outbox_tasks.outbox_drain",
        "schedule": 60.0,
    },
    # core: delete outbox messages delivered more than OUTBOX_SENT_RETENTION_DAYS ago.
    "outbox-purge-sent": {
        "task": "core.outbox_tasks.outbox_purge_sent",
        "schedule": crontab(hour=4, minute=37),
    },
}
