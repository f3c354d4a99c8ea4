"""With the broker unreachable, a checkout still succeeds; its notification must not be lost."""

from __future__ import annotations

import pytest

from core.jobs import CELERY_TASK_TOPIC
from core.models import OutboxMessage
from core.tests.celery_support import UNREACHABLE_BROKER_URL, celery_app_using
from orders.models import Order
from orders.tests import fixtures as order_fixtures
from orders.tests.fixtures import ORDERS_URL

pytestmark = pytest.mark.django_db

shop = order_fixtures.shop  # the orders tests' small shop, as a fixture here


def place_order(client, user, shop):
    shop.fill_cart(user)
    return client.post(ORDERS_URL, shop.body(user), format="json", HTTP_IDEMPOTENCY_KEY="broker-down-1")


def test_placing_an_order_succeeds_while_the_broker_is_down(
    auth_client,
    user,
    shop,
    django_capture_on_commit_callbacks,
):
    with celery_app_using(UNREACHABLE_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        response = place_order(auth_client, user, shop)

    assert response.status_code == 201
    assert Order.objects.filter(pk=response.json()["id"], user=user).exists()


def test_the_order_notification_is_kept_in_the_outbox_while_the_broker_is_down(
    auth_client,
    user,
    shop,
    django_capture_on_commit_callbacks,
):
    with celery_app_using(UNREACHABLE_BROKER_URL), django_capture_on_commit_callbacks(execute=True):
        response = place_order(auth_client, user, shop)

    assert response.status_code == 201
    kept = OutboxMessage.objects.get(topic=CELERY_TASK_TOPIC)
    assert kept.payload["task"] == "orders.tasks.order_event_notify"
