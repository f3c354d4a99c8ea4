"""Demo shipping zones, methods with flat, weight- and price-based rates, and tax rates.

Idempotent and respectful of staff edits: rows are created when missing and left alone otherwise."""

from __future__ import annotations

from decimal import Decimal as D

from django.conf import settings

from .models import ShippingMethod, ShippingRate, ShippingZone, ShippingZoneCountry, TaxRate

EU_COUNTRIES = ["AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PL", "PT", "SE"]

# zone name -> (countries, [(method name, description, rate type, flat price, free over, days, bands)])
ZONES = {
    "United States": (
        ["US"],
        [
            ("Standard", "USPS Ground", "flat", D("5.99"), D("75.00"), (3, 7), []),
            (
                "Express",
                "2-day air, priced by weight",
                "weight",
                None,
                None,
                (1, 2),
                [
                    (D("0"), D("1"), D("12.00")),
                    (D("1"), D("5"), D("18.00")),
                    (D("5"), D("30"), D("35.00")),
                ],
            ),
        ],
    ),
    "Canada": (["CA"], [("Standard", "Canada Post", "flat", D("9.99"), D("100.00"), (5, 10), [])]),
    "United Kingdom": (
        ["GB"],
        [
            (
                "Royal Mail",
                "Tracked 48, priced by order value",
                "price",
                None,
                D("60.00"),
                (2, 4),
                [
                    (D("0"), D("30"), D("4.99")),
                    (D("30"), None, D("2.99")),
                ],
            ),
        ],
    ),
    "European Union": (
        EU_COUNTRIES,
        [
            (
                "Standard",
                "Tracked parcel, priced by weight",
                "weight",
                None,
                D("100.00"),
                (3, 6),
                [
                    (D("0"), D("2"), D("7.90")),
                    (D("2"), D("10"), D("14.90")),
                    (D("10"), D("30"), D("29.90")),
                ],
            ),
            ("Express", "Courier", "flat", D("19.90"), None, (1, 2), []),
        ],
    ),
}

# (country, region, name, percent)
TAX_RATES = [
    ("US", "", "No federal sales tax", D("0")),
    ("US", "CA", "California sales tax", D("7.25")),
    ("US", "NY", "New York sales tax", D("4")),
    ("US", "TX", "Texas sales tax", D("6.25")),
    ("CA", "", "GST", D("5")),
    ("GB", "", "VAT", D("20")),
    ("AT", "", "VAT", D("20")),
    ("BE", "", "VAT", D("21")),
    ("DE", "", "VAT", D("19")),
    ("DK", "", "VAT", D("25")),
    ("ES", "", "VAT", D("21")),
    ("FI", "", "VAT", D("25.5")),
    ("FR", "", "VAT", D("20")),
    ("IE", "", "VAT", D("23")),
    ("IT", "", "VAT", D("22")),
    ("LU", "", "VAT", D("17")),
    ("NL", "", "VAT", D("21")),
    ("PL", "", "VAT", D("23")),
    ("PT", "", "VAT", D("23")),
    ("SE", "", "VAT", D("25")),
]


def seed(ctx) -> None:
    methods = 0
    for zone_name, (countries, zone_methods) in ZONES.items():
        zone, _ = ShippingZone.objects.get_or_create(name=zone_name)
        for country in countries:
            ShippingZoneCountry.objects.get_or_create(zone=zone, country=country)
        for sort_order, (name, description, rate_type, flat_price, free_over, days, bands) in enumerate(zone_methods):
            method, created = ShippingMethod.objects.get_or_create(
                zone=zone,
                name=name,
                defaults={
                    "description": description,
                    "rate_type": rate_type,
                    "flat_price": flat_price,
                    "free_over": free_over,
                    "currency": settings.DEFAULT_CURRENCY,
                    "min_delivery_days": days[0],
                    "max_delivery_days": days[1],
                    "sort_order": sort_order,
                },
            )
            if created:
                ShippingRate.objects.bulk_create(
                    [
                        ShippingRate(method=method, min_value=low, max_value=high, price=price)
                        for low, high, price in bands
                    ]
                )
            methods += 1
    for country, region, name, rate in TAX_RATES:
        TaxRate.objects.get_or_create(country=country, region=region, defaults={"name": name, "rate": rate})
    ctx.say(f"shipping: {len(ZONES)} zones, {methods} methods, {len(TAX_RATES)} tax rates")
