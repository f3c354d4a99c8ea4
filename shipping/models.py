"""Where we ship, how, for how much, and the tax owed at the destination.

A zone groups countries; each zone offers methods; a method is priced by a flat amount, by the
cart's weight or by its subtotal (rate rows map a [min, max) band to a price), and may become free
over a subtotal threshold. Prices are computed by `cart.pricing`, not here: these rows are data.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.countries import ISO_COUNTRY_CODES
from core.models import TimeStampedModel, UUIDModel


def _default_currency() -> str:
    return settings.DEFAULT_CURRENCY


def validate_country(value: str) -> None:
    if value not in ISO_COUNTRY_CODES:
        raise ValidationError(
            f"{value!r} is not an upper-case ISO 3166-1 alpha-2 country code.", code="invalid_country"
        )


class ShippingZone(UUIDModel, TimeStampedModel):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ShippingZoneCountry(models.Model):
    """One row per country of a zone. A country may sit in several zones: the customer then sees
    the methods of all of them (e.g. "Europe" and "Germany express")."""

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="countries")
    country = models.CharField(max_length=2, validators=[validate_country], db_index=True)

    class Meta:
        ordering = ["country"]
        verbose_name_plural = "shipping zone countries"
        constraints = [
            models.UniqueConstraint(fields=["zone", "country"], name="shipping_zone_country_unique"),
        ]

    def __str__(self) -> str:
        return self.country

    def save(self, *args, **kwargs) -> None:
        self.country = self.country.strip().upper()
        super().save(*args, **kwargs)


class ShippingMethod(UUIDModel, TimeStampedModel):
    class RateType(models.TextChoices):
        FLAT = "flat", "Flat price"
        WEIGHT = "weight", "By total weight (kg)"
        PRICE = "price", "By subtotal"

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True)
    rate_type = models.CharField(max_length=10, choices=RateType.choices, default=RateType.FLAT)
    flat_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Required for flat-rate methods; ignored otherwise.",
    )
    currency = models.CharField(max_length=3, default=_default_currency)
    free_over = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Shipping is free when the discounted subtotal reaches this amount. Empty: never.",
    )
    min_delivery_days = models.PositiveSmallIntegerField(default=1)
    max_delivery_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "name"], name="shipping_method_unique_name_per_zone"),
            models.CheckConstraint(
                condition=~Q(rate_type="flat") | Q(flat_price__isnull=False),
                name="shipping_method_flat_needs_price",
            ),
            models.CheckConstraint(
                condition=Q(flat_price__isnull=True) | Q(flat_price__gte=0), name="shipping_method_flat_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gte=0), name="shipping_method_free_over_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(min_delivery_days__lte=F("max_delivery_days")), name="shipping_method_delivery_days_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone})"

    def clean(self) -> None:
        super().clean()
        if self.rate_type == self.RateType.FLAT and self.flat_price is None:
            raise ValidationError({"flat_price": "A flat-rate method needs a flat price."})
        if self.min_delivery_days > self.max_delivery_days:
            raise ValidationError({"max_delivery_days": "Must not be less than the minimum."})


class ShippingRate(models.Model):
    """One band of a weight- or price-based method: a cart whose weight (kg) or discounted subtotal
    falls in [min_value, max_value) pays `price`. No upper bound when max_value is empty."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="rates")
    min_value = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("0"))
    max_value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["min_value", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(min_value__gte=0), name="shipping_rate_min_non_negative"),
            models.CheckConstraint(
                condition=Q(max_value__isnull=True) | Q(max_value__gt=F("min_value")),
                name="shipping_rate_max_above_min",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_rate_price_non_negative"),
        ]

    def __str__(self) -> str:
        upper = self.max_value if self.max_value is not None else "..."
        return f"[{self.min_value}, {upper}) -> {self.price}"


class TaxRate(UUIDModel, TimeStampedModel):
    """Tax owed at a destination, as a percentage. `region` (a subdivision code such as "CA" for
    California) is optional: a row with a region wins over the country-wide row (region empty)."""

    country = models.CharField(max_length=2, validators=[validate_country])
    region = models.CharField(max_length=10, blank=True, default="")
    name = models.CharField(max_length=60, blank=True, help_text='Shown to staff, e.g. "VAT" or "Sales tax".')
    rate = models.DecimalField(
        max_digits=7, decimal_places=4, help_text="Percent, e.g. 20 for 20 %; tax-exclusive prices."
    )

    class Meta:
        ordering = ["country", "region"]
        constraints = [
            models.UniqueConstraint(fields=["country", "region"], name="shipping_tax_rate_unique_destination"),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=100), name="shipping_tax_rate_percent_range"),
        ]

    def __str__(self) -> str:
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{where}: {self.rate} %"

    def save(self, *args, **kwargs) -> None:
        # Lookups compare exact strings, so codes are stored in one case.
        self.country = self.country.strip().upper()
        self.region = self.region.strip().upper()
        super().save(*args, **kwargs)
