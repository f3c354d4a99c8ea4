"""The beat task that deletes abandoned anonymous carts."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from cart.models import Cart, CartLine
from cart.services import cart_delete_expired
from cart.tasks import cart_delete_expired_anonymous
from cart.tests.factories import CartFactory, CartLineFactory
from ecommerce_api.celery import app
from ecommerce_api.schedule import BEAT_SCHEDULE

pytestmark = pytest.mark.django_db


def idle_for(cart, days: float) -> Cart:
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(days=days))
    return cart


@override_settings(CART_INACTIVITY_DAYS=30)
def test_deletes_only_anonymous_carts_idle_longer_than_the_setting(user):
    abandoned = idle_for(CartLineFactory(quantity=2).cart, 31)
    recent = idle_for(CartLineFactory().cart, 29)
    customers = idle_for(CartLineFactory(cart__user=user).cart, 400)

    removed = cart_delete_expired_anonymous.delay().get()

    assert removed == 1
    assert set(Cart.objects.values_list("pk", flat=True)) == {recent.pk, customers.pk}
    assert not CartLine.objects.filter(cart_id=abandoned.pk).exists()


@override_settings(CART_INACTIVITY_DAYS=7)
def test_follows_the_configured_inactivity(user):
    idle_for(CartFactory(), 8)
    kept = idle_for(CartFactory(), 6)

    assert cart_delete_expired_anonymous.delay().get() == 1
    assert list(Cart.objects.values_list("pk", flat=True)) == [kept.pk]


def test_running_twice_is_harmless():
    idle_for(CartFactory(), 90)

    assert cart_delete_expired_anonymous.delay().get() == 1
    assert cart_delete_expired_anonymous.delay().get() == 0
    assert Cart.objects.count() == 0


def test_a_write_keeps_a_cart_alive(api_client):
    cart = idle_for(CartLineFactory().cart, 45)
    api_client.delete("/api/v1/cart/coupon/", HTTP_X_CART_TOKEN=str(cart.pk))

    assert cart_delete_expired_anonymous.delay().get() == 0
    assert Cart.objects.filter(pk=cart.pk).exists()


def test_deletes_large_backlogs_in_batches():
    carts = [CartFactory() for _ in range(3)]
    Cart.objects.update(updated_at=timezone.now() - timedelta(days=365))

    removed = cart_delete_expired(batch_size=2)

    assert removed == len(carts)
    assert Cart.objects.count() == 0


def test_is_scheduled_daily_by_beat():
    entry = BEAT_SCHEDULE["cart-delete-expired-anonymous"]

    assert entry["task"] == "cart.tasks.cart_delete_expired_anonymous"
    assert entry["task"] in app.tasks
    assert app.conf.beat_schedule["cart-delete-expired-anonymous"] is entry
