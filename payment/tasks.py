"""Background work of the payment app: refunds the customer did not wait for (automatic refunds of
payments an order could not take) and closing the open attempts of cancelled orders. Both retry a
provider that did not answer, with backoff, always with the same idempotency key."""

from __future__ import annotations

import logging

from celery import shared_task

from .errors import PaymentProviderError
from .services import payments_close_for_order, refund_submit

logger = logging.getLogger(__name__)

MAX_RETRIES = 8


def _backoff(retries: int) -> int:
    return min(3600, 30 * 2**retries)


@shared_task(bind=True, name="payment.tasks.refund_submit_task", acks_late=True, max_retries=MAX_RETRIES)
def refund_submit_task(self, refund_id: str) -> str:
    try:
        refund = refund_submit(refund_id=refund_id)
    except PaymentProviderError as error:
        if error.answered:
            # The provider refused for good; the refund is marked failed for staff to look at.
            logger.error("refund %s refused by the provider: %s", refund_id, error.extra)
            return "failed"
        raise self.retry(exc=error, countdown=_backoff(self.request.retries))
    return refund.status


@shared_task(bind=True, name="payment.tasks.payments_close_for_order_task", acks_late=True, max_retries=MAX_RETRIES)
def payments_close_for_order_task(self, order_id: str) -> int:
    try:
        return payments_close_for_order(order_id=order_id)
    except PaymentProviderError as error:
        raise self.retry(exc=error, countdown=_backoff(self.request.retries))
