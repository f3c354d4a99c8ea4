"""Counting coupon uses for orders (redeem / release), and the rules of the coupon row itself."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from coupons.errors import (
    CouponExpired,
    CouponInactive,
    CouponLoginRequired,
    CouponNotFound,
    CouponUsageLimitReached,
    coupon_error_for,
)
from coupons.models import Coupon, CouponRedemption
from coupons.selectors import coupon_get_by_code, coupon_restriction_ids
from coupons.services import coupon_redeem, coupon_release
from coupons.tests.factories import CategoryFactory, CouponFactory, ProductFactory


def uses(coupon) -> tuple[int, int]:
    coupon.refresh_from_db()
    return coupon.times_used, CouponRedemption.objects.filter(coupon=coupon).count()


# --- codes ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_codes_are_stored_upper_case_and_found_in_any_case():
    coupon = CouponFactory(code=" Summer24 ")

    assert coupon.code == "SUMMER24"
    assert coupon_get_by_code(code="summer24") == coupon
    with pytest.raises(CouponNotFound):
        coupon_get_by_code(code="SUMMER25")
    with pytest.raises(CouponNotFound):
        coupon_get_by_code(code="   ")


@pytest.mark.django_db
def test_codes_are_unique_whatever_their_case_even_past_the_model():
    CouponFactory(code="SAVE")

    with pytest.raises(IntegrityError), transaction.atomic():
        # .update() skips save(): the functional unique index still refuses "save" next to "SAVE".
        other = CouponFactory(code="OTHER")
        Coupon.objects.filter(pk=other.pk).update(code="save")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "value"),
    [("percentage", "0"), ("percentage", "100.01"), ("fixed_amount", "0"), ("free_shipping", "5")],
)
def test_the_database_refuses_values_that_do_not_fit_the_kind(kind, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(code="BAD", kind=kind, value=Decimal(value))


@pytest.mark.django_db
def test_the_database_refuses_an_end_before_the_start():
    now = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(code="BAD", kind="percentage", value=10, starts_at=now, ends_at=now - timedelta(days=1))


@pytest.mark.django_db
def test_restriction_ids_are_read_in_one_query(django_assert_num_queries):
    products = [ProductFactory(), ProductFactory()]
    categories = [CategoryFactory()]
    coupon = CouponFactory(products=products, categories=categories)

    with django_assert_num_queries(1):
        product_ids, category_ids = coupon_restriction_ids(coupon_id=coupon.pk)

    assert product_ids == {product.pk for product in products}
    assert category_ids == {categories[0].pk}


def test_error_for_a_code_gives_the_matching_exception():
    assert isinstance(coupon_error_for("coupon_expired"), CouponExpired)
    assert coupon_error_for("coupon_expired").status_code == 400
    assert coupon_error_for("something_else").code == "coupon_invalid"


# --- redeem --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_redeem_counts_one_use_and_records_who_and_which_order(user):
    coupon = CouponFactory(usage_limit=5)
    order_id = uuid.uuid4()

    redemption = coupon_redeem(coupon=coupon, user=user, order_id=order_id)

    assert (redemption.coupon, redemption.user, redemption.order_id) == (coupon, user, order_id)
    assert uses(coupon) == (1, 1)


@pytest.mark.django_db
def test_redeem_twice_for_the_same_order_counts_once(user):
    coupon = CouponFactory(usage_limit=5)
    order_id = uuid.uuid4()

    first = coupon_redeem(coupon=coupon, user=user, order_id=order_id)
    second = coupon_redeem(coupon=coupon, user=user, order_id=order_id)

    assert first.pk == second.pk
    assert uses(coupon) == (1, 1)


@pytest.mark.django_db
def test_redeem_refuses_past_the_global_limit_and_changes_nothing(user, other_user):
    coupon = CouponFactory(usage_limit=1)
    coupon_redeem(coupon=coupon, user=user, order_id=uuid.uuid4())

    with pytest.raises(CouponUsageLimitReached):
        coupon_redeem(coupon=coupon, user=other_user, order_id=uuid.uuid4())

    assert uses(coupon) == (1, 1)


@pytest.mark.django_db
def test_redeem_refuses_past_the_per_customer_limit(user, other_user):
    coupon = CouponFactory(usage_limit_per_customer=2)
    for _ in range(2):
        coupon_redeem(coupon=coupon, user=user, order_id=uuid.uuid4())

    with pytest.raises(CouponUsageLimitReached) as refused:
        coupon_redeem(coupon=coupon, user=user, order_id=uuid.uuid4())
    coupon_redeem(coupon=coupon, user=other_user, order_id=uuid.uuid4())

    assert refused.value.code == "coupon_usage_limit_reached"
    assert uses(coupon) == (3, 3)
    assert CouponRedemption.objects.filter(coupon=coupon, user=user).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("anonymous", [None, AnonymousUser()])
def test_redeem_of_a_per_customer_coupon_needs_a_customer(anonymous):
    coupon = CouponFactory(usage_limit_per_customer=1)

    with pytest.raises(CouponLoginRequired):
        coupon_redeem(coupon=coupon, user=anonymous, order_id=uuid.uuid4())

    assert uses(coupon) == (0, 0)


@pytest.mark.django_db
def test_redeem_refuses_an_expired_or_inactive_coupon(user):
    expired = CouponFactory(ends_at=timezone.now() - timedelta(seconds=1))
    inactive = CouponFactory(is_active=False)

    with pytest.raises(CouponExpired):
        coupon_redeem(coupon=expired, user=user, order_id=uuid.uuid4())
    with pytest.raises(CouponInactive):
        coupon_redeem(coupon=inactive, user=user, order_id=uuid.uuid4())

    assert uses(expired) == uses(inactive) == (0, 0)


# --- release -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_release_gives_the_use_back_once(user):
    coupon = CouponFactory(usage_limit=1)
    order_id = uuid.uuid4()
    coupon_redeem(coupon=coupon, user=user, order_id=order_id)

    assert coupon_release(coupon=coupon, order_id=order_id) is True
    assert coupon_release(coupon=coupon, order_id=order_id) is False
    assert uses(coupon) == (0, 0)
    # The use is free again for another order.
    coupon_redeem(coupon=coupon, user=user, order_id=uuid.uuid4())
    assert uses(coupon) == (1, 1)


@pytest.mark.django_db
def test_release_of_an_order_that_never_redeemed_changes_nothing(user):
    coupon = CouponFactory()
    coupon_redeem(coupon=coupon, user=user, order_id=uuid.uuid4())

    assert coupon_release(coupon=coupon, order_id=uuid.uuid4()) is False
    assert uses(coupon) == (1, 1)


# --- concurrency ---------------------------------------------------------------------------------


def _race(target, racers: int) -> list[str]:
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def run(index):
        try:
            barrier.wait(timeout=10)
            target(index)
            outcomes.append("ok")
        except CouponUsageLimitReached:
            outcomes.append("refused")
        except Exception as exc:  # anything else is a bug the assertion should show
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_never_exceed_the_global_limit(django_user_model):
    coupon = CouponFactory(usage_limit=3)
    customers = [django_user_model.objects.create_user(email=f"c{i}@example.com") for i in range(8)]

    outcomes = _race(lambda i: coupon_redeem(coupon=coupon, user=customers[i], order_id=uuid.uuid4()), racers=8)

    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 5
    assert uses(coupon) == (3, 3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_of_one_customer_never_exceed_their_limit(user):
    coupon = CouponFactory(usage_limit_per_customer=1)

    outcomes = _race(lambda i: coupon_redeem(coupon=coupon, user=user, order_id=uuid.uuid4()), racers=6)

    assert sorted(outcomes) == ["ok"] + ["refused"] * 5
    assert uses(coupon) == (1, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redeem_and_release_keep_the_counter_exact(user):
    coupon = CouponFactory()
    held = [uuid.uuid4() for _ in range(4)]
    for order_id in held:
        coupon_redeem(coupon=coupon, user=user, order_id=order_id)
    fresh = [uuid.uuid4() for _ in range(4)]

    def step(index):
        if index < 4:
            coupon_release(coupon=coupon, order_id=held[index])
        else:
            coupon_redeem(coupon=coupon, user=user, order_id=fresh[index - 4])

    outcomes = _race(step, racers=8)

    assert outcomes == ["ok"] * 8
    assert uses(coupon) == (4, 4)
    assert set(CouponRedemption.objects.values_list("order_id", flat=True)) == set(fresh)
