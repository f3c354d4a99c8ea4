"""GDPR: the orders section of the account export, and erasure keeping orders without personal data."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from account.services import user_anonymize
from cart.models import Cart
from core.models import IdempotencyKey
from orders.gdpr import orders_anonymize_for_user
from orders.models import Order, OrderEvent
from orders.services import order_deliver, order_ship
from orders.tests.fixtures import paid_order

from .fixtures import ORDERS_URL, new_key, order_url

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/account/export/"
ME = "/api/v1/account/me/"
PLACED_AT = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
PAID_AT = datetime(2030, 1, 2, 9, 35, 12, 500000, tzinfo=UTC)

FULL_ADDRESS = {
    "first_name": "Cam",
    "last_name": "Buyer",
    "company": "",
    "line1": "1 Market Street",
    "line2": "",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
    "phone": "+14155550123",
}
SCRUBBED_ADDRESS = {
    "first_name": "",
    "last_name": "",
    "company": "",
    "line1": "",
    "line2": "",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "",
    "country": "US",
    "phone": "",
}


def _delivered_order(shop, user, staff_user) -> Order:
    order = paid_order(shop, user)
    order_ship(order_id=order.pk, actor=staff_user, carrier="UPS", tracking_number="1Z999", tracking_url="")
    return order_deliver(order_id=order.pk, actor=staff_user)


def _pin_times(order: Order) -> None:
    """Fixed timestamps, so the export can be compared with exact strings."""
    Order.objects.filter(pk=order.pk).update(created_at=PLACED_AT, paid_at=PAID_AT)
    OrderEvent.objects.filter(order=order, kind="placed").update(created_at=PLACED_AT)
    OrderEvent.objects.filter(order=order, kind="paid").update(created_at=PAID_AT)


def _delete_account(client):
    return client.delete(ME, {"password": "correct-horse-battery"})


def test_export_has_the_users_orders_with_lines_addresses_method_and_timeline(auth_client, user, other_user, shop):
    order = paid_order(shop, user)
    _pin_times(order)
    paid_order(shop, other_user)  # not in the user's export

    response = auth_client.get(EXPORT)

    assert response.status_code == 200
    assert response.json()["orders"] == [
        {
            "id": str(order.pk),
            "number": order.number,
            "status": "paid",
            "created_at": "2030-01-02T09:30:00Z",
            "email": "customer@example.com",
            "currency": "USD",
            "subtotal": "24.50",
            "discount_total": "0.00",
            "shipping_total": "5.00",
            "tax_total": "2.95",
            "total": "32.45",
            "amount_paid": "32.45",
            "amount_refunded": "0.00",
            "coupon_code": "",
            "lines": [
                {
                    "product_name": "Linen shirt",
                    "variant_name": "M / White",
                    "sku": "SHIRT-M",
                    "unit_price": "10.00",
                    "quantity": 2,
                    "line_total": "20.00",
                    "discount": "0.00",
                    "tax": "2.00",
                },
                {
                    "product_name": "Wool socks",
                    "variant_name": "One size",
                    "sku": "SOCKS-1",
                    "unit_price": "4.50",
                    "quantity": 1,
                    "line_total": "4.50",
                    "discount": "0.00",
                    "tax": "0.45",
                },
            ],
            "shipping_address": FULL_ADDRESS,
            "billing_address": FULL_ADDRESS,
            "shipping_method": {
                "id": str(shop.method.pk),
                "name": "Standard",
                "description": "Ground shipping",
                "min_delivery_days": 2,
                "max_delivery_days": 5,
                "price": "5.00",
                "currency": "USD",
            },
            "carrier": "",
            "tracking_number": "",
            "tracking_url": "",
            "cancellation_reason": "",
            "paid_at": "2030-01-02T09:35:12.500000Z",
            "shipped_at": None,
            "delivered_at": None,
            "cancelled_at": None,
            "refunded_at": None,
            "events": [
                {"from": "", "to": "pending_payment", "time": "2030-01-02T09:30:00Z", "note": ""},
                {"from": "pending_payment", "to": "paid", "time": "2030-01-02T09:35:12.500000Z", "note": ""},
            ],
        }
    ]


def test_export_without_orders_is_an_empty_list(auth_client):
    assert auth_client.get(EXPORT).json()["orders"] == []


def test_export_query_count_does_not_grow_with_orders(auth_client, user, shop):
    def export_queries() -> tuple[int, list[dict]]:
        """The queries of one export, and the orders that very response carried with their lines."""
        with CaptureQueriesContext(connection) as context:
            response = auth_client.get(EXPORT)
            assert response.status_code == 200
            orders = response.json()["orders"]
        return len(context.captured_queries), orders

    paid_order(shop, user)
    queries_for_one, orders = export_queries()
    assert len(orders) == 1
    assert all(order["lines"] and order["events"] for order in orders)
    for _ in range(3):
        paid_order(shop, user)
    queries_for_four, orders = export_queries()

    assert len(orders) == 4
    assert all(order["lines"] and order["events"] for order in orders)
    assert queries_for_four == queries_for_one


def test_deleting_the_account_keeps_orders_and_removes_their_personal_data(
    auth_client, user, other_client, other_user, shop, staff_user
):
    shipped = _delivered_order(shop, user, staff_user)
    shop.fill_cart(user)
    placed = auth_client.post(ORDERS_URL, shop.body(user), format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert placed.status_code == 201
    cancelled_id = placed.json()["id"]
    reason = "Moving to 5 Elm Road, call me on +14155550199"
    assert auth_client.post(order_url(cancelled_id, "cancel/"), {"reason": reason}).status_code == 200
    assert Order.objects.get(pk=cancelled_id).cancellation_reason == reason
    shop.fill_cart(other_user)
    theirs = other_client.post(ORDERS_URL, shop.body(other_user), format="json", HTTP_IDEMPOTENCY_KEY=new_key())
    assert theirs.status_code == 201
    before = {order.pk: (order.number, order.status, order.total, order.amount_paid) for order in Order.objects.all()}

    response = _delete_account(auth_client)

    assert response.status_code == 204
    after = {order.pk: (order.number, order.status, order.total, order.amount_paid) for order in Order.objects.all()}
    assert after == before  # every order kept, amounts and statuses untouched
    shipped.refresh_from_db()
    assert (shipped.email, shipped.shipping_address, shipped.billing_address) == (
        "",
        SCRUBBED_ADDRESS,
        SCRUBBED_ADDRESS,
    )
    assert (shipped.carrier, shipped.tracking_number, shipped.status) == ("UPS", "1Z999", "delivered")
    assert shipped.user_id == user.pk
    assert [line.sku for line in shipped.lines.all()] == ["SHIRT-M", "SOCKS-1"]
    cancelled = Order.objects.get(pk=cancelled_id)
    assert (cancelled.email, cancelled.shipping_address, cancelled.cancellation_reason) == ("", SCRUBBED_ADDRESS, "")
    assert list(OrderEvent.objects.filter(order=cancelled).values_list("kind", "note")) == [
        ("placed", ""),
        ("cancelled", ""),
    ]
    assert not IdempotencyKey.objects.filter(user=user).exists()

    other_order = Order.objects.get(pk=theirs.json()["id"])
    assert other_order.email == "other@example.com"
    assert other_order.shipping_address == FULL_ADDRESS
    assert other_order.billing_address == FULL_ADDRESS
    assert IdempotencyKey.objects.filter(user=other_user, scope="orders.create").count() == 1


def test_a_staff_cancellation_reason_is_kept(user, shop, staff_user):
    order = shop.place(user)
    Order.objects.filter(pk=order.pk).update(status="cancelled", cancellation_reason="Fraud check failed")
    OrderEvent.objects.create(
        order=order, kind="cancelled", from_status="pending_payment", to_status="cancelled",
        actor=staff_user, actor_role="staff", note="Fraud check failed",
    )  # fmt: skip

    user_anonymize(user=user)

    order.refresh_from_db()
    assert order.cancellation_reason == "Fraud check failed"
    assert OrderEvent.objects.get(order=order, kind="cancelled").note == "Fraud check failed"


def test_the_orders_anonymizer_can_run_twice(user, shop, staff_user):
    order = _delivered_order(shop, user, staff_user)

    orders_anonymize_for_user(user)
    orders_anonymize_for_user(user)

    order.refresh_from_db()
    assert (order.email, order.shipping_address) == ("", SCRUBBED_ADDRESS)


def test_a_refused_deletion_leaves_the_orders_untouched(auth_client, user, shop):
    order = paid_order(shop, user)

    response = auth_client.delete(ME, {"password": "wrong"})

    assert response.status_code == 400
    order.refresh_from_db()
    assert (order.email, order.shipping_address) == ("customer@example.com", FULL_ADDRESS)


def test_an_anonymised_customers_order_is_still_served_to_staff(auth_client, user, staff_client, staff_user, shop):
    order = _delivered_order(shop, user, staff_user)
    assert _delete_account(auth_client).status_code == 204

    response = staff_client.get(order_url(order.pk))

    assert response.status_code == 200
    assert response.json()["shipping_address"] == SCRUBBED_ADDRESS
    assert response.json()["total"] == "32.45"


def test_the_retention_purge_scrubs_orders_through_the_same_anonymizers(user, other_user, shop, settings, staff_user):
    settings.PERSONAL_DATA_RETENTION_DAYS = 365
    long_ago = timezone.now() - timedelta(days=400)
    type(user).objects.filter(pk=user.pk).update(last_login=long_ago, date_joined=long_ago)
    type(user).objects.filter(pk=other_user.pk).update(last_login=timezone.now())
    stale_order = _delivered_order(shop, user, staff_user)
    active_order = paid_order(shop, other_user)
    shop.fill_cart(user, items=[(shop.socks, 1)])
    shop.fill_cart(other_user, items=[(shop.socks, 1)])
    out = StringIO()

    call_command("purge_inactive_users", stdout=out)

    assert "1 account(s) inactive for over 365 days anonymised." in out.getvalue()
    stale_order.refresh_from_db()
    active_order.refresh_from_db()
    assert (stale_order.email, stale_order.shipping_address, stale_order.status) == (
        "",
        SCRUBBED_ADDRESS,
        "delivered",
    )
    assert (active_order.email, active_order.shipping_address) == ("other@example.com", FULL_ADDRESS)
    # The other apps' anonymizers ran in the same erasure: the stale customer's cart is gone.
    assert (Cart.objects.filter(user=user).exists(), Cart.objects.filter(user=other_user).exists()) == (False, True)
