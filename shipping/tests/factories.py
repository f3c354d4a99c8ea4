from decimal import Decimal

import factory

from shipping.models import ShippingMethod, ShippingRate, ShippingZone, ShippingZoneCountry, TaxRate


class ShippingZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingZone
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Zone {n}")

    @factory.post_generation
    def countries(self, create, extracted, **kwargs):
        for country in extracted or ():
            ShippingZoneCountry.objects.create(zone=self, country=country)


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod
        skip_postgeneration_save = True

    zone = factory.SubFactory(ShippingZoneFactory)
    name = factory.Sequence(lambda n: f"Method {n}")
    rate_type = ShippingMethod.RateType.FLAT
    flat_price = Decimal("5.00")
    currency = "USD"
    min_delivery_days = 2
    max_delivery_days = 5

    @factory.post_generation
    def bands(self, create, extracted, **kwargs):
        """bands=[("0", "1", "4.00"), ("1", None, "9.00")]: (min, max, price) rows."""
        for low, high, price in extracted or ():
            ShippingRate.objects.create(
                method=self, min_value=Decimal(low), max_value=Decimal(high) if high else None, price=Decimal(price)
            )


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "DE"
    region = ""
    name = "VAT"
    rate = Decimal("19")
