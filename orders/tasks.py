"""Background work of the orders app: customer notifications and the expiry of unpaid orders."""

from __future__ import annotations

from celery import shared_task
from kombu.exceptions import OperationalError

from .notifications import order_event_notify_send
from .services import orders_expire_overdue


@shared_task(
    name="orders.tasks.order_event_notify",
    acks_late=True,
    autoretry_for=(OperationalError,),  # the email broker was unreachable: try again later
    max_retries=5,
    retry_backoff=True,
)
def order_event_notify(event_id: int, order_url: str | None = None) -> bool:
    return order_event_notify_send(event_id=event_id, order_url=order_url)


@shared_task(name="orders.tasks.orders_expire_unpaid", acks_late=True)
def orders_expire_unpaid() -> int:
    """Cancel unpaid orders past `payment_due_by`, releasing their stock and coupon uses (beat)."""
    return orders_expire_overdue()
