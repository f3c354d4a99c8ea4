from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.countries import ISO_COUNTRY_CODES, normalize_country
from shipping.models import ShippingMethod, ShippingRate, TaxRate
from shipping.selectors import shipping_methods_for_country, tax_rate_for
from shipping.tests.factories import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory


def test_country_codes_are_the_249_iso_codes():
    assert len(ISO_COUNTRY_CODES) == 249
    assert {"US", "GB", "DE", "FR", "CA", "AQ"} <= ISO_COUNTRY_CODES
    assert not {"UK", "XX", "EU", "ZZ"} & ISO_COUNTRY_CODES


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("de", "DE"), (" gb ", "GB"), ("UK", None), ("DEU", None), ("", None), (None, None), (49, None)],
)
def test_normalize_country(raw, expected):
    assert normalize_country(raw) == expected


@pytest.mark.django_db
def test_tax_rates_are_stored_upper_case_and_unique_per_destination():
    rate = TaxRateFactory(country="us", region="ca")

    assert (rate.country, rate.region) == ("US", "CA")
    with pytest.raises(IntegrityError), transaction.atomic():
        TaxRateFactory(country="US", region="CA")


@pytest.mark.django_db
def test_tax_rate_lookup_prefers_the_region():
    TaxRateFactory(country="US", region="", rate=Decimal("1"))
    TaxRateFactory(country="US", region="CA", rate=Decimal("7.25"))

    assert tax_rate_for(country="US", region="ca") == Decimal("7.25")
    assert tax_rate_for(country="US", region="NY") == Decimal("1")
    assert tax_rate_for(country="FR") == Decimal("0")
    assert tax_rate_for(country="") == Decimal("0")


@pytest.mark.django_db
def test_the_database_refuses_a_rate_above_100_percent():
    with pytest.raises(IntegrityError), transaction.atomic():
        TaxRate.objects.create(country="DE", rate=Decimal("101"))


@pytest.mark.django_db
def test_the_database_refuses_a_flat_method_without_price_and_inverted_bands():
    zone = ShippingZoneFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingMethod.objects.create(zone=zone, name="Broken", rate_type="flat", flat_price=None)
    method = ShippingMethodFactory(zone=zone, rate_type="weight", flat_price=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingRate.objects.create(method=method, min_value=Decimal("5"), max_value=Decimal("1"), price=Decimal("3"))


@pytest.mark.django_db
def test_methods_for_a_country_come_from_every_zone_holding_it():
    europe = ShippingZoneFactory(name="Europe", countries=["DE", "FR"])
    germany = ShippingZoneFactory(name="Germany", countries=["DE"])
    standard = ShippingMethodFactory(zone=europe, name="Standard")
    express = ShippingMethodFactory(zone=germany, name="Express")
    ShippingMethodFactory(zone=europe, name="Old", is_active=False)
    ShippingMethodFactory(zone=europe, name="Euro only", currency="EUR")

    assert list(shipping_methods_for_country(country="DE", currency="USD")) == [express, standard]
    assert list(shipping_methods_for_country(country="FR", currency="USD")) == [standard]
    assert list(shipping_methods_for_country(country="US", currency="USD")) == []
