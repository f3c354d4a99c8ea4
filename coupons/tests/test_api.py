"""Staff CRUD at coupons/; customers can neither list nor read coupons."""

import uuid
from decimal import Decimal

import pytest

from coupons.models import Coupon, CouponRedemption
from coupons.tests.factories import CategoryFactory, CouponFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/coupons/"


def detail(coupon) -> str:
    return f"{URL}{coupon.pk}/"


def test_customers_and_anonymous_callers_cannot_see_coupons(api_client, auth_client):
    coupon = CouponFactory(code="SECRET")

    assert api_client.get(URL).status_code == 401
    assert auth_client.get(URL).status_code == 403
    assert auth_client.get(detail(coupon)).status_code == 403
    assert (
        auth_client.post(URL, {"code": "MINE", "kind": "percentage", "value": "90"}, format="json").status_code == 403
    )
    assert "SECRET" not in auth_client.get(URL).content.decode()
    assert Coupon.objects.count() == 1


def test_staff_create_a_restricted_coupon(staff_client):
    shirts = CategoryFactory(slug="shirts")
    mug = ProductFactory(slug="mug")

    response = staff_client.post(
        URL,
        {
            "code": "spring10",
            "description": "Spring sale",
            "kind": "percentage",
            "value": "10",
            "minimum_subtotal": "25.00",
            "starts_at": "2030-03-01T00:00:00Z",
            "ends_at": "2030-04-01T00:00:00Z",
            "usage_limit": 100,
            "usage_limit_per_customer": 1,
            "products": ["mug"],
            "categories": ["shirts"],
            "times_used": 50,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "SPRING10"
    assert body["times_used"] == 0  # read-only: cannot be mass-assigned
    assert body["products"] == ["mug"]
    assert body["categories"] == ["shirts"]
    coupon = Coupon.objects.get()
    assert (coupon.value, coupon.minimum_subtotal, coupon.usage_limit) == (Decimal("10.00"), Decimal("25.00"), 100)
    assert list(coupon.products.all()) == [mug]
    assert list(coupon.categories.all()) == [shirts]


def test_codes_are_unique_whatever_the_case(staff_client):
    CouponFactory(code="SAVE")

    response = staff_client.post(URL, {"code": "save", "kind": "percentage", "value": "5"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "code"
    assert Coupon.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"kind": "percentage", "value": "120"}, "value"),
        ({"kind": "fixed_amount", "value": "0"}, "value"),
        ({"kind": "free_shipping", "value": "3"}, "value"),
        (
            {
                "kind": "percentage",
                "value": "5",
                "starts_at": "2030-02-01T00:00:00Z",
                "ends_at": "2030-01-01T00:00:00Z",
            },
            "ends_at",
        ),
        ({"kind": "percentage", "value": "5", "products": ["no-such-product"]}, "products"),
    ],
)
def test_invalid_coupons_are_refused(staff_client, payload, attr):
    response = staff_client.post(URL, {"code": "BAD", **payload}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert Coupon.objects.count() == 0


def test_staff_list_filter_and_update(staff_client):
    CouponFactory(code="ALPHA", is_active=True)
    beta = CouponFactory(code="BETA", is_active=False)

    listed = staff_client.get(URL, {"is_active": "false"}).json()
    patched = staff_client.patch(detail(beta), {"is_active": True, "code": "beta2"}, format="json")

    assert [coupon["code"] for coupon in listed["results"]] == ["BETA"]
    assert patched.status_code == 200
    beta.refresh_from_db()
    assert (beta.code, beta.is_active) == ("BETA2", True)


def test_limit_cannot_go_below_the_uses_already_counted(staff_client):
    coupon = CouponFactory(usage_limit=10)
    Coupon.objects.filter(pk=coupon.pk).update(times_used=4)

    response = staff_client.patch(detail(coupon), {"usage_limit": 3}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "usage_limit"
    coupon.refresh_from_db()
    assert coupon.usage_limit == 10


def test_list_query_count_does_not_grow(staff_client, django_assert_max_num_queries):
    for _ in range(15):
        CouponFactory(products=[ProductFactory()], categories=[CategoryFactory()])

    with django_assert_max_num_queries(5):
        response = staff_client.get(URL)

    assert response.json()["count"] == 15


def test_delete_unused_coupon(staff_client):
    coupon = CouponFactory()

    assert staff_client.delete(detail(coupon)).status_code == 204
    assert not Coupon.objects.exists()


def test_a_redeemed_coupon_cannot_be_deleted(staff_client, user):
    coupon = CouponFactory()
    CouponRedemption.objects.create(coupon=coupon, user=user, order_id=uuid.uuid4())

    response = staff_client.delete(detail(coupon))

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "coupon_in_use"
    assert Coupon.objects.filter(pk=coupon.pk).exists()
