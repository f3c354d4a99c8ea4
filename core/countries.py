"""ISO 3166-1 alpha-2 country codes: shared by addresses, shipping zones, carts and tax rates.

Kept as plain data (no dependency) because only membership is needed: a code outside this set is a
400 wherever a country is accepted (shipping methods, cart destination, zones, tax rates)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

# A block of text rather than a list literal: 249 quoted codes would be far harder to proofread.
ISO_COUNTRY_CODES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    YE YT
    ZA ZM ZW
    """.split()  # noqa: SIM905
)


def normalize_country(value: object) -> str | None:
    """The upper-case ISO code for `value`, or None when it is not one (wrong type, length, or code)."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if code in ISO_COUNTRY_CODES else None


def validate_country_code(value: str) -> None:
    """Model-field validator: only upper-case ISO codes are stored."""
    if value not in ISO_COUNTRY_CODES:
        raise ValidationError(
            "%(value)s is not an ISO 3166-1 alpha-2 country code.", code="invalid_country", params={"value": value}
        )
