"""The order admin: lists, search, filters, inlines, and actions that go through the services."""

from decimal import Decimal

import pytest
from django.test import Client

from orders.models import Order, OrderEvent
from payment.services import payment_create

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def admin_client_(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser(email="admin@example.com", password="admin-password-1")
    client = Client()
    client.force_login(admin)
    return client


def _paid(shop, user):
    order = shop.place(user)
    payment_create(user=user, order_id=order.pk)
    order.refresh_from_db()
    return order


def _action(client, action: str, orders, **extra):
    data = {"action": action, "_selected_action": [str(order.pk) for order in orders], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_changelist_searches_by_number_and_email_and_filters_by_status(admin_client_, user, other_user, shop):
    mine = _paid(shop, user)
    theirs = shop.place(other_user, items=[(shop.shirt, 1)])

    by_number = admin_client_.get(CHANGELIST, {"q": mine.number})
    by_email = admin_client_.get(CHANGELIST, {"q": "other@example.com"})
    pending = admin_client_.get(CHANGELIST, {"status__exact": "pending_payment"})

    assert by_number.status_code == by_email.status_code == pending.status_code == 200
    assert list(by_number.context["cl"].result_list) == [mine]
    assert list(by_email.context["cl"].result_list) == [theirs]
    assert list(pending.context["cl"].result_list) == [theirs]


def test_change_page_shows_lines_events_and_payments(admin_client_, user, shop):
    order = _paid(shop, user)

    response = admin_client_.get(f"{CHANGELIST}{order.pk}/change/")

    assert response.status_code == 200
    inline_models = [formset.formset.model.__name__ for formset in response.context["inline_admin_formsets"]]
    assert inline_models == ["OrderLine", "OrderEvent", "Payment", "PaymentDispute"]
    content = response.content.decode()
    assert "SHIRT-M" in content
    assert "succeeded" in content


def test_cancel_action_uses_the_service(admin_client_, user, shop):
    order = shop.place(user)

    response = _action(admin_client_, "cancel_orders", [order])

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "cancelled"
    shop.shirt.refresh_from_db()
    assert shop.shirt.quantity_allocated == 0
    assert OrderEvent.objects.filter(order=order, kind="cancelled", actor_role="staff").count() == 1


def test_ship_action_asks_for_tracking_then_ships(admin_client_, user, other_user, shop):
    first, second = _paid(shop, user), _paid(shop, other_user)

    form = _action(admin_client_, "ship_orders", [first, second])
    assert form.status_code == 200
    assert f'name="tracking_{first.pk}"' in form.content.decode()
    assert Order.objects.filter(status="shipped").count() == 0

    _action(
        admin_client_,
        "ship_orders",
        [first, second],
        apply="1",
        carrier="UPS",
        **{f"tracking_{first.pk}": "1Z-A", f"tracking_{second.pk}": "1Z-B"},
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.carrier, first.tracking_number) == ("shipped", "UPS", "1Z-A")
    assert (second.status, second.tracking_number) == ("shipped", "1Z-B")
    shop.shirt.refresh_from_db()
    assert (shop.shirt.quantity_on_hand, shop.shirt.quantity_allocated) == (6, 0)


def test_refund_action_refunds_in_full_and_reports_refusals(admin_client_, user, other_user, shop):
    paid = _paid(shop, user)
    unpaid = shop.place(other_user, items=[(shop.shirt, 1)])

    response = _action(admin_client_, "refund_orders", [paid, unpaid])

    paid.refresh_from_db()
    unpaid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == ("refunded", Decimal("32.45"))
    assert unpaid.status == "pending_payment"
    messages = [str(message) for message in response.context["messages"]]
    assert f"{unpaid.number}: An order cannot go from pending_payment to refunded." in messages
    assert "1 order(s) refunded." in messages


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_client_, user, shop):
    order = shop.place(user)

    assert admin_client_.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client_.get(f"{CHANGELIST}{order.pk}/delete/").status_code == 403
