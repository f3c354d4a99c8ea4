"""Each status event emails the customer (text + HTML) and texts them when they opted in."""

import pytest
from django.core import mail

from orders.models import OrderEvent
from orders.services import order_ship
from orders.tasks import order_event_notify
from payment.services import payment_create
from sms.backends import memory as sms_memory
from sms.models import SmsMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms_memory.outbox.clear()
    yield
    sms_memory.outbox.clear()


def _texting_customer(user):
    user.phone = "+14155550199"
    user.phone_verified = True
    user.sms_opt_in = True
    user.save()
    return user


def test_placing_an_order_sends_an_email_and_an_sms(user, shop, django_capture_on_commit_callbacks):
    _texting_customer(user)

    with django_capture_on_commit_callbacks(execute=True):
        order = shop.place(user)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["customer@example.com"]
    assert email.subject == f"We received your order {order.number}"
    assert "Hello Cam," in email.body
    assert "2 x Linen shirt (M / White) [SHIRT-M]  20.00 USD" in email.body
    assert "Total     32.45 USD" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert f"<strong>{order.number}</strong>" in html
    assert [(sms.to, sms.body) for sms in sms_memory.outbox] == [
        (
            "+14155550199",
            f"E-commerce Shop: order {order.number} received, total 32.45 USD. Please complete the payment.",
        )
    ]
    assert SmsMessage.objects.get().purpose == "order_placed"
    assert OrderEvent.objects.get(order=order).notified_at is not None


def test_no_sms_without_opt_in_or_verified_phone(user, shop, django_capture_on_commit_callbacks):
    user.phone = "+14155550199"
    user.phone_verified = True
    user.sms_opt_in = False
    user.save()

    with django_capture_on_commit_callbacks(execute=True):
        shop.place(user)

    assert len(mail.outbox) == 1
    assert sms_memory.outbox == []
    assert SmsMessage.objects.count() == 0


def test_running_the_notification_twice_sends_once(user, shop, django_capture_on_commit_callbacks):
    _texting_customer(user)
    with django_capture_on_commit_callbacks(execute=True):
        order = shop.place(user)
    event = OrderEvent.objects.get(order=order)

    assert order_event_notify.delay(event.pk).get() is False

    assert len(mail.outbox) == 1
    assert len(sms_memory.outbox) == 1


def test_paid_shipped_and_refunded_each_notify_with_their_details(
    user, staff_user, shop, django_capture_on_commit_callbacks
):
    _texting_customer(user)
    with django_capture_on_commit_callbacks(execute=True):
        order = shop.place(user)
    with django_capture_on_commit_callbacks(execute=True):
        payment_create(user=user, order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(order_id=order.pk, actor=staff_user, carrier="UPS", tracking_number="1Z999")
    from orders.services import order_refund

    with django_capture_on_commit_callbacks(execute=True):
        order_refund(order_id=order.pk, actor=staff_user, amount=None, reason="Returned")

    assert [email.subject for email in mail.outbox] == [
        f"We received your order {order.number}",
        f"Payment received for order {order.number}",
        f"Your order {order.number} is on its way",
        f"A refund for your order {order.number}",
    ]
    assert "shipped with UPS. Tracking number: 1Z999" in mail.outbox[2].body
    assert "we refunded 32.45 USD for your order" in mail.outbox[3].body
    assert [sms.body for sms in sms_memory.outbox][1:] == [
        f"E-commerce Shop: payment received for order {order.number}. Thank you!",
        f"E-commerce Shop: order {order.number} has shipped with UPS, tracking 1Z999.",
        f"E-commerce Shop: 32.45 USD refunded for order {order.number}.",
    ]
