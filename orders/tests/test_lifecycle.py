"""After checkout: cancel, pay, ship, deliver, refund, expire; every move on the timeline."""

from datetime import timedelta
from datetime import timezone as tz
from decimal import Decimal

import pytest
from django.utils import timezone

from coupons.models import CouponRedemption
from orders.models import Order, OrderEvent
from orders.services import order_expire, order_mark_paid
from orders.tasks import orders_expire_unpaid
from payment.models import Payment, Refund
from payment.services import payment_create
from shop.models import ProductPurchase

from .factories import CouponFactory
from .fixtures import order_url

pytestmark = pytest.mark.django_db


def _stock(variant) -> tuple[int, int]:
    variant.refresh_from_db()
    return variant.quantity_on_hand, variant.quantity_allocated


def _paid(shop, user, **kwargs) -> Order:
    """An order placed and paid through the dummy gateway (the settings of the test suite)."""
    order = shop.place(user, **kwargs)
    payment_create(user=user, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _timeline(order) -> list[tuple[str, str, str, str]]:
    return list(
        OrderEvent.objects.filter(order=order)
        .order_by("created_at", "id")
        .values_list("kind", "from_status", "to_status", "actor_role")
    )


def test_customer_cancels_unpaid_order_releasing_stock_and_coupon(auth_client, user, shop):
    coupon = CouponFactory(usage_limit=3)
    order = shop.place(user, coupon=coupon)
    assert _stock(shop.shirt) == (10, 2)

    response = auth_client.post(order_url(order.pk, "cancel/"), {"reason": "Changed my mind"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation_reason"] == "Changed my mind"
    assert _stock(shop.shirt) == (10, 0)
    assert _stock(shop.socks) == (7, 0)
    coupon.refresh_from_db()
    assert coupon.times_used == 0
    assert CouponRedemption.objects.count() == 0
    assert _timeline(order) == [
        ("placed", "", "pending_payment", "customer"),
        ("cancelled", "pending_payment", "cancelled", "customer"),
    ]


def test_cancelling_twice_is_an_invalid_transition(auth_client, user, shop):
    order = shop.place(user)
    auth_client.post(order_url(order.pk, "cancel/"), format="json")

    response = auth_client.post(order_url(order.pk, "cancel/"), format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invalid_transition"
    assert _stock(shop.shirt) == (10, 0)  # released once, not twice


@pytest.mark.parametrize("method,suffix", [("get", ""), ("get", "events/"), ("post", "cancel/")])
def test_another_customers_order_is_404(other_client, user, shop, method, suffix):
    order = shop.place(user)

    response = getattr(other_client, method)(order_url(order.pk, suffix), format="json")

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_customer_cannot_cancel_a_paid_order(auth_client, user, shop):
    order = _paid(shop, user)

    response = auth_client.post(order_url(order.pk, "cancel/"), format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "cancel_not_allowed"
    order.refresh_from_db()
    assert order.status == "paid"
    assert _stock(shop.shirt) == (10, 2)


def test_staff_cancel_of_a_paid_order_refunds_it_and_releases_everything(staff_client, user, shop):
    coupon = CouponFactory(usage_limit=3)
    order = _paid(shop, user, coupon=coupon)

    response = staff_client.post(order_url(order.pk, "cancel/"), {"reason": "Out of stock in warehouse"}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["amount_paid"], body["amount_refunded"]) == ("cancelled", "29.76", "29.76")
    payment = Payment.objects.get(order=order)
    assert (payment.captured_amount, payment.refunded_amount) == (Decimal("29.76"), Decimal("29.76"))
    refund = Refund.objects.get()
    assert (refund.status, refund.source, refund.amount) == ("succeeded", "cancellation", Decimal("29.76"))
    assert _stock(shop.shirt) == (10, 0)
    coupon.refresh_from_db()
    assert coupon.times_used == 0
    assert _timeline(order) == [
        ("placed", "", "pending_payment", "customer"),
        ("paid", "pending_payment", "paid", "payment_provider"),
        ("cancelled", "paid", "cancelled", "staff"),
    ]


def test_ship_turns_the_allocation_into_a_stock_decrement(staff_client, user, shop):
    order = _paid(shop, user)

    response = staff_client.post(
        order_url(order.pk, "ship/"),
        {"carrier": "UPS", "tracking_number": "1Z999", "tracking_url": "https://ups.example/1Z999"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["carrier"], body["tracking_number"], body["tracking_url"]) == (
        "shipped",
        "UPS",
        "1Z999",
        "https://ups.example/1Z999",
    )
    assert _stock(shop.shirt) == (8, 0)
    assert _stock(shop.socks) == (6, 0)
    assert _timeline(order)[-1] == ("shipped", "paid", "shipped", "staff")


def test_shipping_an_unpaid_order_is_409_and_changes_nothing(staff_client, user, shop):
    order = shop.place(user)

    response = staff_client.post(
        order_url(order.pk, "ship/"), {"carrier": "UPS", "tracking_number": "1"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invalid_transition"
    order.refresh_from_db()
    assert (order.status, order.carrier) == ("pending_payment", "")
    assert _stock(shop.shirt) == (10, 2)


@pytest.mark.parametrize("suffix", ["ship/", "deliver/", "refund/"])
def test_staff_actions_are_refused_to_customers(auth_client, user, shop, suffix):
    order = _paid(shop, user)

    response = auth_client.post(
        order_url(order.pk, suffix), {"carrier": "UPS", "tracking_number": "1", "reason": "x"}, format="json"
    )

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "paid"


def test_deliver_follows_ship_only(staff_client, user, shop):
    order = _paid(shop, user)

    too_early = staff_client.post(order_url(order.pk, "deliver/"), format="json")
    staff_client.post(order_url(order.pk, "ship/"), {"carrier": "DHL", "tracking_number": "42"}, format="json")
    delivered = staff_client.post(order_url(order.pk, "deliver/"), format="json")

    assert too_early.status_code == 409
    assert delivered.status_code == 200
    assert delivered.json()["status"] == "delivered"
    assert delivered.json()["delivered_at"] is not None


def test_partial_refund_keeps_the_status_and_the_rest_refunds_the_order(staff_client, user, shop):
    order = _paid(shop, user)
    staff_client.post(order_url(order.pk, "ship/"), {"carrier": "DHL", "tracking_number": "42"}, format="json")

    partial = staff_client.post(order_url(order.pk, "refund/"), {"amount": "10.00", "reason": "Damaged"}, format="json")

    assert partial.status_code == 200, partial.json()
    assert (partial.json()["status"], partial.json()["amount_refunded"]) == ("shipped", "10.00")
    last = OrderEvent.objects.filter(order=order).order_by("-id").first()
    assert (last.kind, last.from_status, last.to_status, last.amount, last.note) == (
        "refunded",
        "shipped",
        "shipped",
        Decimal("10.00"),
        "Damaged",
    )

    rest = staff_client.post(order_url(order.pk, "refund/"), {"reason": "Returned"}, format="json")

    assert rest.status_code == 200
    assert (rest.json()["status"], rest.json()["amount_refunded"]) == ("refunded", "32.45")
    payment = Payment.objects.get(order=order)
    assert payment.refunded_amount == Decimal("32.45")
    assert _stock(shop.shirt) == (8, 0)  # shipped goods are not restocked by a refund

    again = staff_client.post(order_url(order.pk, "refund/"), {"reason": "Again"}, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "invalid_transition"


def test_refund_larger_than_what_is_left_is_409(staff_client, user, shop):
    order = _paid(shop, user)

    response = staff_client.post(order_url(order.pk, "refund/"), {"amount": "32.46", "reason": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0] | {"detail": ""} == {
        "code": "refund_exceeds_paid",
        "detail": "",
        "attr": "amount",
        "refundable": "32.45",
    }
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == ("paid", Decimal("0"))
    assert Refund.objects.count() == 0


def test_refund_with_idempotency_key_is_not_repeated(staff_client, user, shop):
    order = _paid(shop, user)
    body = {"amount": "5.00", "reason": "Goodwill"}

    first = staff_client.post(order_url(order.pk, "refund/"), body, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    second = staff_client.post(order_url(order.pk, "refund/"), body, format="json", HTTP_IDEMPOTENCY_KEY="r1")

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert Refund.objects.count() == 1
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("5.00")


def test_full_refund_before_shipping_releases_the_stock_but_keeps_the_coupon_use(staff_client, user, shop):
    coupon = CouponFactory(usage_limit=3)
    order = _paid(shop, user, coupon=coupon)

    response = staff_client.post(order_url(order.pk, "refund/"), {"reason": "Customer request"}, format="json")

    assert response.json()["status"] == "refunded"
    assert _stock(shop.shirt) == (10, 0)
    coupon.refresh_from_db()
    assert coupon.times_used == 1


def test_expiry_cancels_only_overdue_unpaid_orders(user, other_user, shop, django_capture_on_commit_callbacks):
    coupon = CouponFactory(usage_limit=3)
    overdue = shop.place(user, coupon=coupon)
    fresh = shop.place(other_user, items=[(shop.socks, 1)])
    Order.objects.filter(pk=overdue.pk).update(payment_due_by=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        expired = orders_expire_unpaid.delay().get()

    assert expired == 1
    overdue.refresh_from_db()
    fresh.refresh_from_db()
    assert (overdue.status, overdue.cancellation_reason) == ("cancelled", "Payment not received in time.")
    assert fresh.status == "pending_payment"
    assert _stock(shop.shirt) == (10, 0)
    assert _stock(shop.socks) == (7, 1)  # the fresh order still holds its pair of socks
    coupon.refresh_from_db()
    assert coupon.times_used == 0
    assert _timeline(overdue)[-1] == ("cancelled", "pending_payment", "cancelled", "system")


def test_expiry_leaves_an_order_paid_meanwhile_alone(user, shop):
    order = _paid(shop, user)
    Order.objects.filter(pk=order.pk).update(payment_due_by=timezone.now() - timedelta(minutes=5))

    assert order_expire(order_id=order.pk) is False
    assert orders_expire_unpaid.delay().get() == 0
    order.refresh_from_db()
    assert order.status == "paid"
    assert _stock(shop.shirt) == (10, 2)


def test_paid_orders_make_reviews_possible(user, shop):
    order = _paid(shop, user)

    purchases = set(ProductPurchase.objects.filter(order_id=order.pk).values_list("user_id", "product_id"))

    assert purchases == {(user.pk, shop.shirt.product_id), (user.pk, shop.socks.product_id)}


def test_mark_paid_is_idempotent_and_refuses_closed_orders(user, shop):
    order = shop.place(user)

    assert order_mark_paid(order_id=order.pk, amount=Decimal("32.45"), currency="USD", reference="p1") is True
    assert order_mark_paid(order_id=order.pk, amount=Decimal("32.45"), currency="USD", reference="p1") is True
    assert order_mark_paid(order_id=order.pk, amount=Decimal("32.45"), currency="USD", reference="p2") is False
    assert OrderEvent.objects.filter(order=order, kind="paid").count() == 1

    cancelled = shop.place(user)
    cancelled_id = cancelled.pk
    Order.objects.filter(pk=cancelled_id).update(status="cancelled")
    assert order_mark_paid(order_id=cancelled_id, amount=Decimal("32.45"), currency="USD", reference="p3") is False


def test_events_endpoint_is_the_timeline(auth_client, staff_client, user, shop):
    order = _paid(shop, user)
    staff_client.post(order_url(order.pk, "ship/"), {"carrier": "DHL", "tracking_number": "42"}, format="json")

    response = auth_client.get(order_url(order.pk, "events/"))

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [
        (event["kind"], event["from_status"], event["to_status"], event["actor_role"], event["amount"])
        for event in response.json()["results"]
    ] == [
        ("placed", "", "pending_payment", "customer", "32.45"),
        ("paid", "pending_payment", "paid", "payment_provider", "32.45"),
        ("shipped", "paid", "shipped", "staff", None),
    ]
    assert response.json()["results"][2]["note"] == "DHL 42"


def test_list_filters_by_status_and_shows_only_my_orders(auth_client, user, other_user, shop):
    paid = _paid(shop, user)
    pending = shop.place(user, items=[(shop.shirt, 1)])
    shop.place(other_user, items=[(shop.shirt, 1)])

    everything = auth_client.get("/api/v1/orders/").json()
    only_paid = auth_client.get("/api/v1/orders/?status=paid").json()
    two_statuses = auth_client.get("/api/v1/orders/?status=paid&status=pending_payment").json()

    assert [order["id"] for order in everything["results"]] == [str(pending.pk), str(paid.pk)]
    assert [order["id"] for order in only_paid["results"]] == [str(paid.pk)]
    assert two_statuses["count"] == 2


def test_list_filters_by_creation_time_in_any_offset(auth_client, user, shop):
    order = shop.place(user, items=[(shop.shirt, 1)])
    created = order.created_at

    def listed(**params):
        response = auth_client.get("/api/v1/orders/", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    # -19:50 is a legal ISO offset that PostgreSQL cannot store: compared in UTC instead.
    just_before = (created - timedelta(minutes=1)).astimezone(tz(timedelta(hours=-19, minutes=-50)))
    assert listed(created_after=just_before.isoformat()) == [str(order.pk)]
    assert listed(created_before=just_before.isoformat()) == []


def test_a_creation_time_that_leaves_the_calendar_in_utc_is_a_400(auth_client):
    response = auth_client.get("/api/v1/orders/", {"created_after": "0001-01-01T00:00:00+05:00"})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {"code": "invalid", "detail": "Date out of range.", "attr": "created_after"}


def test_staff_see_every_order(staff_client, user, other_user, shop):
    shop.place(user, items=[(shop.shirt, 1)])
    shop.place(other_user, items=[(shop.shirt, 1)])

    assert staff_client.get("/api/v1/orders/").json()["count"] == 2


@pytest.mark.parametrize("orders", [1, 6])
def test_list_and_detail_cost_a_fixed_number_of_queries(auth_client, user, shop, django_assert_num_queries, orders):
    placed = [shop.place(user, items=[(shop.shirt, 1), (shop.socks, 1)]) for _ in range(orders)]

    # user (auth), count, orders, lines
    with django_assert_num_queries(4):
        assert len(auth_client.get("/api/v1/orders/").json()["results"]) == orders
    # user, order, lines
    with django_assert_num_queries(3):
        assert auth_client.get(order_url(placed[0].pk)).status_code == 200
    # user, order, count, events
    with django_assert_num_queries(4):
        assert auth_client.get(order_url(placed[0].pk, "events/")).status_code == 200
