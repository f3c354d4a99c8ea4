"""Writes: staff changes to tax rates and shipping configuration."""

from __future__ import annotations

from django.db import transaction

from .models import TaxRate

_TAX_RATE_FIELDS = ("country", "region", "name", "rate")


@transaction.atomic
def tax_rate_create(**fields) -> TaxRate:
    tax_rate = TaxRate(**{name: value for name, value in fields.items() if name in _TAX_RATE_FIELDS})
    tax_rate.full_clean()
    tax_rate.save()
    return tax_rate


@transaction.atomic
def tax_rate_update(*, tax_rate: TaxRate, **fields) -> TaxRate:
    for name, value in fields.items():
        if name in _TAX_RATE_FIELDS:
            setattr(tax_rate, name, value)
    tax_rate.full_clean()
    tax_rate.save()
    return tax_rate


def tax_rate_delete(*, tax_rate: TaxRate) -> None:
    tax_rate.delete()
