import uuid

import pytest

from coupons.models import Coupon, CouponRedemption
from coupons.tests.factories import CouponFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(email="root@example.com", password="x"))
    return client


def test_admin_pages_render(admin_client, user):
    coupon = CouponFactory()
    redemption = CouponRedemption.objects.create(coupon=coupon, user=user, order_id=uuid.uuid4())

    for url in [
        "/admin/coupons/coupon/",
        "/admin/coupons/coupon/add/",
        f"/admin/coupons/coupon/{coupon.pk}/change/",
        "/admin/coupons/couponredemption/",
        f"/admin/coupons/couponredemption/{redemption.pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_deactivate_and_activate_actions(admin_client):
    first, second = CouponFactory(code="A"), CouponFactory(code="B")

    admin_client.post(
        "/admin/coupons/coupon/", {"action": "deactivate", "_selected_action": [str(first.pk), str(second.pk)]}
    )
    assert list(Coupon.objects.values_list("is_active", flat=True)) == [False, False]

    admin_client.post("/admin/coupons/coupon/", {"action": "activate", "_selected_action": [str(first.pk)]})
    assert set(Coupon.objects.filter(is_active=True).values_list("code", flat=True)) == {"A"}


def test_admin_refuses_a_code_taken_in_another_case(admin_client):
    CouponFactory(code="SAVE")

    response = admin_client.post(
        "/admin/coupons/coupon/add/",
        {
            "code": "save",
            "kind": "percentage",
            "value": "5",
            "currency": "USD",
            "is_active": "on",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert Coupon.objects.count() == 1
