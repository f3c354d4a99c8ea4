"""Money is a Decimal plus a currency code. Rounding happens here and nowhere else.

Prices and totals are stored with two decimals (`DecimalField(decimal_places=2)`), whatever the
currency. Payment providers want integers in the currency's minor unit: ISO 4217 says how many
decimals that is (0 for JPY, 3 for KWD, 2 for most). A provider that deviates from ISO (Stripe
for ISK and MGA) passes its own `exponent`.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DEFAULT_EXPONENT = 2
# ISO 4217 minor units of the currencies that do not have two decimals (active codes, 2024).
MINOR_UNIT_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
            "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
ZERO_DECIMAL_CURRENCIES = frozenset(code for code, exponent in MINOR_UNIT_EXPONENTS.items() if exponent == 0)
THREE_DECIMAL_CURRENCIES = frozenset(code for code, exponent in MINOR_UNIT_EXPONENTS.items() if exponent == 3)


def quantize(amount: Decimal | int | str) -> Decimal:
    """Round half-up to cents: the single rounding rule of the shop."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def minor_unit_exponent(currency: str) -> int:
    """Decimals of the currency's minor unit (ISO 4217); 2 for any code not in the table."""
    return MINOR_UNIT_EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def to_minor_units(amount: Decimal, currency: str, *, exponent: int | None = None) -> int:
    """Amount in the currency's smallest unit, as payment providers want it: 12.34 USD -> 1234,
    1500 JPY -> 1500, 12.34 KWD -> 12340. Rounded half-up to what the unit can express."""
    exponent = minor_unit_exponent(currency) if exponent is None else exponent
    scaled = Decimal(amount).scaleb(exponent)
    return int(scaled.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_minor_units(amount: int, currency: str, *, exponent: int | None = None) -> Decimal:
    """The inverse of `to_minor_units`, rounded to the shop's two stored decimals (so 12345 KWD
    fils, which Stripe never sends for our amounts, would read as 12.35)."""
    exponent = minor_unit_exponent(currency) if exponent is None else exponent
    return quantize(Decimal(int(amount)).scaleb(-exponent))


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY
