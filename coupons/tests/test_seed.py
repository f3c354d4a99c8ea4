import io
from decimal import Decimal

import pytest

from core.seeding import SeedContext
from coupons import seed as coupons_seed
from coupons.models import Coupon

pytestmark = pytest.mark.django_db


def run_twice(seeder):
    for _ in range(2):
        seeder.seed(SeedContext(stdout=io.StringIO(), show_progress=False))


def test_coupon_seed_creates_welcome10_and_freeship_once():
    run_twice(coupons_seed)

    welcome = Coupon.objects.get(code="WELCOME10")
    assert (welcome.kind, welcome.value, welcome.is_active) == ("percentage", Decimal("10.00"), True)
    assert Coupon.objects.get(code="FREESHIP").kind == "free_shipping"
    assert Coupon.objects.count() == len(coupons_seed.COUPONS)
