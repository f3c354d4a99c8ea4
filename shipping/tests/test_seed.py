import io
from decimal import Decimal

import pytest

from core.seeding import SeedContext
from shipping import seed as shipping_seed
from shipping.models import ShippingMethod, ShippingRate, ShippingZone, ShippingZoneCountry, TaxRate
from shipping.selectors import shipping_methods_for_country

pytestmark = pytest.mark.django_db


def run_twice(seeder):
    for _ in range(2):
        seeder.seed(SeedContext(stdout=io.StringIO(), show_progress=False))


def test_shipping_seed_is_idempotent_and_covers_the_main_countries():
    run_twice(shipping_seed)

    assert ShippingZone.objects.count() == 4
    assert ShippingZoneCountry.objects.filter(country__in=["US", "GB", "DE", "FR", "CA"]).count() == 5
    assert ShippingMethod.objects.count() == 6
    assert ShippingRate.objects.count() == 8
    assert TaxRate.objects.count() == len(shipping_seed.TAX_RATES)
    for country in ["US", "GB", "DE", "FR", "CA"]:
        assert shipping_methods_for_country(country=country, currency="USD").exists(), country
    assert TaxRate.objects.get(country="DE").rate == Decimal("19")


def test_shipping_seed_keeps_staff_edits():
    run_twice(shipping_seed)
    ShippingMethod.objects.filter(zone__name="Canada").update(flat_price=Decimal("7.00"))

    run_twice(shipping_seed)

    assert ShippingMethod.objects.get(zone__name="Canada").flat_price == Decimal("7.00")
