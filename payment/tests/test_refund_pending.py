"""A refund sent to Stripe and not yet confirmed blocks shipping, and the order shows it."""

from decimal import Decimal

import pytest

from orders.models import Order
from payment.models import Payment, Refund
from shop.models import ProductVariant

from .helpers import pay, post_event

pytestmark = pytest.mark.django_db

SHIP = {"carrier": "UPS", "tracking_number": "1Z999"}


@pytest.fixture
def paid_order(auth_client, api_client, user, shop, fake_stripe):
    order = shop.place(user)
    pay(auth_client, order)
    post_event(api_client, fake_stripe.succeeded_event(Payment.objects.get(order=order).provider_payment_id))
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _allocated(shop) -> tuple[int, int]:
    return tuple(ProductVariant.objects.get(pk=v.pk).quantity_allocated for v in (shop.shirt, shop.socks))


def _settle(api_client, fake_stripe, refund: Refund, status: str):
    return post_event(
        api_client,
        fake_stripe.refund_event(
            Payment.objects.get().provider_payment_id,
            amount=int(refund.amount * 100),
            refund_id=refund.provider_refund_id,
            status=status,
            metadata={"refund_id": str(refund.pk)},
        ),
    )


def test_a_paid_order_cancelled_with_its_refund_pending_cannot_ship(
    staff_client, api_client, paid_order, shop, fake_stripe
):
    fake_stripe.refund_status = "pending"
    cancel = staff_client.post(f"/api/v1/orders/{paid_order.pk}/cancel/", {"reason": "Out of stock"}, format="json")
    assert cancel.status_code == 200
    assert (cancel.json()["status"], cancel.json()["refund_pending"], cancel.json()["amount_refund_pending"]) == (
        "paid",
        True,
        "32.45",
    )

    ship = staff_client.post(f"/api/v1/orders/{paid_order.pk}/ship/", SHIP, format="json")

    assert ship.status_code == 409
    assert ship.json()["errors"][0]["code"] == "refund_pending"
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.carrier, paid_order.shipped_at) == ("paid", "", None)
    assert _allocated(shop) == (2, 1)

    # Stripe confirms: the order is cancelled, its stock released, and a cancelled order never ships.
    _settle(api_client, fake_stripe, Refund.objects.get(), "succeeded")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refund_pending) == ("cancelled", Decimal("0.00"))
    assert _allocated(shop) == (0, 0)
    again = staff_client.post(f"/api/v1/orders/{paid_order.pk}/ship/", SHIP, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "invalid_transition"


def test_a_pending_partial_refund_blocks_shipping_until_stripe_settles_it(
    staff_client, api_client, paid_order, fake_stripe
):
    fake_stripe.refund_status = "pending"
    refund_response = staff_client.post(
        f"/api/v1/orders/{paid_order.pk}/refund/", {"amount": "5.00", "reason": "Late"}, format="json"
    )
    assert (refund_response.json()["refund_pending"], refund_response.json()["amount_refund_pending"]) == (
        True,
        "5.00",
    )

    blocked = staff_client.post(f"/api/v1/orders/{paid_order.pk}/ship/", SHIP, format="json")
    assert blocked.status_code == 409
    assert blocked.json()["errors"][0]["code"] == "refund_pending"

    _settle(api_client, fake_stripe, Refund.objects.get(), "failed")
    shown = staff_client.get(f"/api/v1/orders/{paid_order.pk}/").json()
    assert (shown["refund_pending"], shown["amount_refund_pending"]) == (False, "0.00")
    shipped = staff_client.post(f"/api/v1/orders/{paid_order.pk}/ship/", SHIP, format="json")
    assert (shipped.status_code, shipped.json()["status"]) == (200, "shipped")


def test_a_confirmed_refund_does_not_block_shipping(staff_client, paid_order, fake_stripe):
    staff_client.post(f"/api/v1/orders/{paid_order.pk}/refund/", {"amount": "5.00", "reason": "Late"}, format="json")

    shipped = staff_client.post(f"/api/v1/orders/{paid_order.pk}/ship/", SHIP, format="json")

    assert shipped.status_code == 200
    assert Order.objects.get().amount_refunded == Decimal("5.00")
