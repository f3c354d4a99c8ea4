"""Money is a Decimal plus a currency code. Rounding happens here and nowhere else."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# ISO 4217 currencies whose minor unit is the major unit (Stripe's list of zero-decimal currencies).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)


def quantize(amount: Decimal | int | str) -> Decimal:
    """Round half-up to cents: the single rounding rule of the shop."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Amount in the currency's smallest unit, as payment providers want it."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(Decimal(amount).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return int(quantize(amount) * 100)


def from_minor_units(amount: int, currency: str) -> Decimal:
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return quantize(Decimal(amount))
    return quantize(Decimal(amount) / 100)


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY
