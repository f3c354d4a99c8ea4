"""Reads: which methods serve a country, and the tax rate of a destination."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from core.money import ZERO

from .models import ShippingMethod, ShippingZoneCountry, TaxRate


def shipping_method_queryset() -> QuerySet[ShippingMethod]:
    return ShippingMethod.objects.select_related("zone").prefetch_related("rates")


def shipping_methods_for_country(*, country: str, currency: str | None = None) -> QuerySet[ShippingMethod]:
    """Active methods of every zone that contains `country` (upper-case ISO code)."""
    zone_ids = ShippingZoneCountry.objects.filter(country=country).values("zone_id")
    methods = shipping_method_queryset().filter(is_active=True, zone_id__in=zone_ids)
    if currency:
        methods = methods.filter(currency=currency)
    return methods.order_by("sort_order", "name", "id")


def shipping_method_serves(*, method: ShippingMethod, country: str) -> bool:
    return method.is_active and ShippingZoneCountry.objects.filter(zone_id=method.zone_id, country=country).exists()


def tax_rate_subquery(*, country_ref: str, region_ref: str) -> Subquery:
    """The destination's tax rate (percent) as a subquery over outer columns, so a cart can carry it
    without an extra query. A row for the exact region beats the country-wide row (region "")."""
    specific_first = Case(When(region="", then=Value(1)), default=Value(0), output_field=IntegerField())
    rates = (
        TaxRate.objects.filter(country=OuterRef(country_ref))
        .filter(Q(region=OuterRef(region_ref)) | Q(region=""))
        .order_by(specific_first)
        .values("rate")[:1]
    )
    return Subquery(rates)


def tax_rate_for(*, country: str, region: str = "") -> Decimal:
    if not country:
        return ZERO
    rate = (
        TaxRate.objects.filter(country=country)
        .filter(Q(region=region.upper()) | Q(region=""))
        .order_by(Case(When(region="", then=Value(1)), default=Value(0), output_field=IntegerField()))
        .values_list("rate", flat=True)
        .first()
    )
    return rate if rate is not None else ZERO


def tax_rate_list() -> QuerySet[TaxRate]:
    return TaxRate.objects.order_by("country", "region")
