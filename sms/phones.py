"""Phone numbers are stored and compared in E.164 only (`+14155550123`), so one number has one form."""

import phonenumbers
from django.conf import settings

from .errors import InvalidPhoneNumber


def phone_to_e164(raw: str, *, attr: str | None = "phone") -> str:
    """Parse what a person typed into E.164. Numbers without a leading `+` are read in
    PHONE_DEFAULT_REGION when it is set, else refused."""
    region = getattr(settings, "PHONE_DEFAULT_REGION", "") or None
    try:
        parsed = phonenumbers.parse(raw or "", region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(attr=attr)
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(attr=attr)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
