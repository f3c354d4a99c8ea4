"""Telling the customer what happened to their order: one email (text + HTML) per status event,
and an SMS when the customer has a verified phone and opted in to SMS.

Queued after the event's transaction commits, sent by a Celery task that takes the event id. The
task is safe to run twice: the email carries a dedupe key, and the SMS is sent only by the run that
claims the event (`notified_at` set by a guarded update).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.jobs import enqueue_on_commit
from core.links import frontend_link
from core.tasks import send_email
from sms.services import sms_queue

from .models import OrderEvent

NOTIFIED_KINDS = frozenset(
    {
        OrderEvent.Kind.PLACED,
        OrderEvent.Kind.PAID,
        OrderEvent.Kind.SHIPPED,
        OrderEvent.Kind.DELIVERED,
        OrderEvent.Kind.CANCELLED,
        OrderEvent.Kind.REFUNDED,
    }
)

SUBJECTS = {
    OrderEvent.Kind.PLACED: "We received your order {number}",
    OrderEvent.Kind.PAID: "Payment received for order {number}",
    OrderEvent.Kind.SHIPPED: "Your order {number} is on its way",
    OrderEvent.Kind.DELIVERED: "Your order {number} was delivered",
    OrderEvent.Kind.CANCELLED: "Your order {number} was cancelled",
    OrderEvent.Kind.REFUNDED: "A refund for your order {number}",
}

SMS_BODIES = {
    OrderEvent.Kind.PLACED: "{shop}: order {number} received, total {total} {currency}. Please complete the payment.",
    OrderEvent.Kind.PAID: "{shop}: payment received for order {number}. Thank you!",
    OrderEvent.Kind.SHIPPED: "{shop}: order {number} has shipped with {carrier}, tracking {tracking}.",
    OrderEvent.Kind.DELIVERED: "{shop}: order {number} was delivered.",
    OrderEvent.Kind.CANCELLED: "{shop}: order {number} was cancelled.",
    OrderEvent.Kind.REFUNDED: "{shop}: {amount} {currency} refunded for order {number}.",
}


def order_event_notify_on_commit(event: OrderEvent, *, order_url: str | None = None) -> None:
    """`order_url` overrides the link of the email: a guest's confirmation carries the one link
    with the order's secret, known only in the checkout request: the order keeps only its hash, the
    link lives in the job's message until the email is sent (docs/ORDERS.md, "Guest checkout")."""
    if event.kind not in NOTIFIED_KINDS:
        return
    from .tasks import order_event_notify

    # A broker outage never fails the committed checkout, and the job is kept in the outbox.
    if order_url:
        enqueue_on_commit(order_event_notify, event.pk, order_url=order_url)
    else:
        enqueue_on_commit(order_event_notify, event.pk)


def order_link(order, *, order_url: str | None = None) -> str:
    """The link an email about `order` carries. A customer's order page; for a guest order only
    the confirmation has a link (with the secret): later emails point back to that email."""
    if order_url:
        return order_url
    if order.user_id is None:
        return ""
    return frontend_link("order", order_id=order.pk)


def _context(event: OrderEvent, *, order_url: str | None = None) -> dict:
    order = event.order
    user = order.user
    # A guest is greeted without a name: what anyone types as a name must not become text of the
    # shop's email to any address they type.
    first_name = user.first_name if user is not None else ""
    return {
        "event": event.kind,
        "first_name": first_name,
        "guest": user is None,
        "order_id": str(order.pk),
        "order_number": order.number,
        "order_url": order_link(order, order_url=order_url),
        "status": order.status,
        "note": event.note,
        "amount": str(event.amount) if event.amount is not None else "",
        "currency": order.currency,
        "subtotal": str(order.subtotal),
        "discount_total": str(order.discount_total),
        "shipping_total": str(order.shipping_total),
        "tax_total": str(order.tax_total),
        "total": str(order.total),
        "amount_refunded": str(order.amount_refunded),
        "payment_due_by": order.payment_due_by.isoformat(),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "lines": [
            {
                "product_name": line.product_name,
                "variant_name": line.variant_name,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "line_total": str(line.line_total),
            }
            for line in order.lines.all()
        ],
    }


def order_event_notify_send(*, event_id: int, order_url: str | None = None) -> bool:
    """Send the customer the email (and SMS) for one event. False when there is nothing to do."""
    event = (
        OrderEvent.objects.select_related("order__user").prefetch_related("order__lines").filter(pk=event_id).first()
    )
    if event is None or event.notified_at is not None or event.kind not in NOTIFIED_KINDS:
        return False
    order, user = event.order, event.order.user
    email = (user.email if user is not None else "") or order.email
    if email:
        send_email.delay(
            to=email,
            subject=SUBJECTS[event.kind].format(number=order.number),
            template=f"orders_{event.kind}",
            context=_context(event, order_url=order_url),
            dedupe_key=f"orders:event:{event.pk}",
        )
    with transaction.atomic():
        claimed = OrderEvent.objects.filter(pk=event.pk, notified_at__isnull=True).update(notified_at=timezone.now())
        if claimed and user is not None and user.phone and user.phone_verified and user.sms_opt_in:
            sms_queue(
                to=user.phone,
                body=SMS_BODIES[event.kind].format(
                    shop=settings.SHOP_NAME,
                    number=order.number,
                    total=order.total,
                    currency=order.currency,
                    carrier=order.carrier or "the carrier",
                    tracking=order.tracking_number or "-",
                    amount=event.amount if event.amount is not None else "",
                ),
                purpose=f"order_{event.kind}",
            )
    return bool(claimed)
