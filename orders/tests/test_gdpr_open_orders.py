"""Erasure and open orders: an account with an order still to pay, ship or deliver is not erased, a
checkout cannot slip in under an erasure, and an open order of an erased account is scrubbed when it
closes."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from account.errors import AccountHasOpenOrders
from account.models import User
from account.services import user_anonymize, users_purge_inactive
from core.errors import DomainError
from orders.gdpr import orders_anonymize_for_user
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_deliver, order_place, order_ship
from orders.tests.fixtures import paid_order
from tests.support.locks import backends_waiting_for_a_lock

pytestmark = pytest.mark.django_db

ME = "/api/v1/account/me/"


def _ship(order, staff_user) -> None:
    order_ship(order_id=order.pk, actor=staff_user, carrier="UPS", tracking_number="1Z999", tracking_url="")


def _erased_behind_the_checks(user) -> None:
    """The state the checks prevent, made by hand: an erased account that still owns open orders."""
    orders_anonymize_for_user(user)
    User.objects.filter(pk=user.pk).update(anonymized_at=timezone.now(), is_active=False, email=None)


def test_deleting_the_account_is_refused_while_an_order_is_paid_and_allowed_once_delivered(
    auth_client, user, shop, staff_user
):
    order = paid_order(shop, user)

    refused = auth_client.delete(ME, {"password": "correct-horse-battery"})

    assert refused.status_code == 409
    (error,) = refused.json()["errors"]
    assert error["code"] == "account_has_open_orders"
    assert error["open_orders"] == 1
    assert error["detail"].startswith("1 order is not finished yet")
    user.refresh_from_db()
    order.refresh_from_db()
    assert (user.is_active, user.email, user.anonymized_at) == (True, "customer@example.com", None)
    assert (order.email, order.shipping_address["line1"]) == ("customer@example.com", "1 Market Street")

    _ship(order, staff_user)
    assert auth_client.delete(ME, {"password": "correct-horse-battery"}).status_code == 409
    order_deliver(order_id=order.pk, actor=staff_user)

    assert auth_client.delete(ME, {"password": "correct-horse-battery"}).status_code == 204
    order.refresh_from_db()
    assert (order.email, order.shipping_address["line1"], order.shipping_address["city"]) == ("", "", "San Francisco")


@pytest.mark.parametrize("status", ["pending_payment", "payment_processing", "paid", "shipped"])
def test_every_open_status_blocks_the_erasure_for_every_caller(user, shop, status):
    order = shop.place(user)
    Order.objects.filter(pk=order.pk).update(status=status)

    with pytest.raises(AccountHasOpenOrders):
        user_anonymize(user=user, reason="by staff")

    user.refresh_from_db()
    assert (user.is_active, user.anonymized_at) == (True, None)


@pytest.mark.parametrize("status", ["delivered", "cancelled", "refunded"])
def test_closed_orders_do_not_block_the_erasure(user, shop, status):
    order = shop.place(user)
    Order.objects.filter(pk=order.pk).update(status=status)

    user_anonymize(user=user)

    user.refresh_from_db()
    assert user.anonymized_at is not None


def test_the_refusal_counts_the_open_orders(user, shop):
    shop.place(user)
    shop.place(user, items=[(shop.socks, 1)])

    with pytest.raises(AccountHasOpenOrders) as refused:
        user_anonymize(user=user)

    assert refused.value.extra == {"open_orders": 2}
    assert refused.value.detail.startswith("2 orders are not finished yet")


def test_the_admin_action_reports_accounts_with_open_orders_and_erases_the_others(admin_client, user, other_user, shop):
    shop.place(user)

    response = admin_client.post(
        reverse("admin:account_user_changelist"),
        {"action": "anonymize_selected", "_selected_action": [user.pk, other_user.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [(message.level_tag, str(message)) for message in response.context["messages"]]
    errors = [text for level, text in shown if level == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("customer@example.com was not anonymised: 1 order is not finished yet")
    assert ("success", "1 account(s) anonymised.") in shown
    user.refresh_from_db()
    other_user.refresh_from_db()
    assert (user.is_active, other_user.is_active) == (True, False)


def test_the_retention_purge_skips_accounts_with_open_orders_and_logs_it(user, other_user, shop, settings, caplog):
    settings.PERSONAL_DATA_RETENTION_DAYS = 365
    long_ago = timezone.now() - timedelta(days=400)
    User.objects.filter(pk__in=[user.pk, other_user.pk]).update(last_login=long_ago, date_joined=long_ago)
    paid_order(shop, user)

    with caplog.at_level(logging.INFO, logger="account.services"):
        purged = users_purge_inactive()

    assert [account.pk for account in purged] == [other_user.pk]
    user.refresh_from_db()
    assert (user.is_active, user.email) == (True, "customer@example.com")
    assert f"Account {user.pk} not anonymised: 1 order is not finished yet" in caplog.text
    assert "Could not anonymise" not in caplog.text


def test_the_orders_anonymizer_never_scrubs_an_open_order(user, shop, staff_user):
    open_order = paid_order(shop, user)
    closed = paid_order(shop, user)
    _ship(closed, staff_user)
    order_deliver(order_id=closed.pk, actor=staff_user)

    orders_anonymize_for_user(user)

    open_order.refresh_from_db()
    closed.refresh_from_db()
    assert (open_order.email, open_order.shipping_address["line1"]) == ("customer@example.com", "1 Market Street")
    assert (closed.email, closed.shipping_address["line1"]) == ("", "")


def test_an_open_order_of_an_erased_account_is_scrubbed_when_it_is_delivered(user, shop, staff_user):
    order = paid_order(shop, user)
    _erased_behind_the_checks(user)
    _ship(order, staff_user)
    order.refresh_from_db()
    assert order.shipping_address["line1"] == "1 Market Street"  # still needed by the carrier

    delivered = order_deliver(order_id=order.pk, actor=staff_user)

    assert (delivered.email, delivered.shipping_address["line1"]) == ("", "")
    order.refresh_from_db()
    assert (order.status, order.email) == ("delivered", "")
    assert order.shipping_address["city"] == order.billing_address["city"] == "San Francisco"
    assert order.billing_address["postal_code"] == ""
    assert (order.carrier, order.tracking_number) == ("UPS", "1Z999")


def test_an_open_order_of_an_erased_account_is_scrubbed_when_staff_cancel_it(user, shop, staff_user):
    order = shop.place(user)
    _erased_behind_the_checks(user)

    order_cancel(order_id=order.pk, actor=staff_user, reason="Customer unreachable")

    order.refresh_from_db()
    assert (order.status, order.email, order.shipping_address["line1"]) == ("cancelled", "", "")
    assert order.cancellation_reason == "Customer unreachable"  # staff wrote it, not the customer
    assert OrderEvent.objects.get(order=order, kind="cancelled").note == "Customer unreachable"


def test_closing_an_order_of_a_live_account_keeps_its_copies(user, shop, staff_user):
    order = shop.place(user)

    order_cancel(order_id=order.pk, actor=staff_user, reason="Out of stock")

    order.refresh_from_db()
    assert (order.email, order.shipping_address["line1"]) == ("customer@example.com", "1 Market Street")


def test_a_checkout_for_an_erased_account_is_refused(user, other_user, shop):
    shop.fill_cart(user)
    address = shop.address_of(user)
    User.objects.filter(pk=user.pk).update(is_active=False, anonymized_at=timezone.now())

    with pytest.raises(DomainError) as refused:
        order_place(user=user, shipping_address_id=address.pk, shipping_method_id=shop.method.pk)

    assert refused.value.code == "account_disabled"
    assert not Order.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkout_that_races_an_erasure_waits_for_it_and_is_refused(user, shop):
    """The erasure holds the user row; the checkout queues behind it (not behind the cart, which
    would deadlock against the erasure deleting that cart) and then finds the account closed."""
    shop.fill_cart(user)
    address = shop.address_of(user)

    def checkout():
        try:
            order_place(user=user, shipping_address_id=address.pk, shipping_method_id=shop.method.pk)
            return "placed"
        except DomainError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            User.objects.select_for_update().get(pk=user.pk)  # the erasure's lock, taken first
            placing = pool.submit(checkout)
            for _ in range(200):
                if backends_waiting_for_a_lock():
                    break
                time.sleep(0.05)
            assert backends_waiting_for_a_lock() == 1, "the checkout never queued behind the erasure"
            user_anonymize(user=user, reason="deleted by the user")
        assert placing.result(timeout=10) == "account_disabled"

    assert not Order.objects.exists()
    assert User.objects.get(pk=user.pk).anonymized_at is not None
