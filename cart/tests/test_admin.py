import pytest

from cart.models import CartLine
from cart.tests.factories import CartFactory, CartLineFactory
from coupons.tests.factories import CouponFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(email="root@example.com", password="x"))
    return client


def test_admin_pages_render(admin_client, user):
    cart = CartLineFactory(cart__user=user, quantity=3).cart
    CartLineFactory()

    changelist = admin_client.get("/admin/cart/cart/")
    anonymous_only = admin_client.get("/admin/cart/cart/", {"owner": "anonymous"})
    detail = admin_client.get(f"/admin/cart/cart/{cart.pk}/change/")

    assert changelist.status_code == anonymous_only.status_code == detail.status_code == 200
    assert changelist.context["cl"].result_count == 2
    assert anonymous_only.context["cl"].result_count == 1
    assert admin_client.get("/admin/cart/cart/add/").status_code == 403


def test_empty_carts_action(admin_client):
    cart = CartFactory(coupon=CouponFactory())
    CartLineFactory(cart=cart)
    kept = CartLineFactory()

    admin_client.post("/admin/cart/cart/", {"action": "empty_carts", "_selected_action": [str(cart.pk)]})

    cart.refresh_from_db()
    assert cart.coupon is None
    assert list(CartLine.objects.all()) == [kept]
