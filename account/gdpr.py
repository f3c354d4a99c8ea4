"""How other apps take part in the GDPR export and erasure of an account.

In your AppConfig.ready():

    from account.gdpr import register_anonymizer, register_exporter
    register_exporter("orders", orders_export_for_user)      # (user) -> JSON-serialisable data
    register_anonymizer("orders", orders_anonymize_for_user) # (user) -> None
    register_erasure_check("orders", orders_erasure_check)   # (user) -> None, raises to refuse

An exporter's result appears under its section name in `GET /api/v1/account/export/`. Anonymizers
run inside `account.services.user_anonymize`'s transaction, with the user row locked and before the
account's own fields are cleared (so they can still read the email or phone they need to scrub); an
exception aborts the whole erasure. Both must be safe to call more than once.

An erasure check runs first, under the same lock, and refuses the erasure by raising a DomainError
(the orders app refuses while an order is still open). Every caller of `user_anonymize` (the
account's own deletion, the admin action, the retention purge) is refused alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .models import User

Exporter = Callable[["User"], Any]
Anonymizer = Callable[["User"], None]
ErasureCheck = Callable[["User"], None]

# Sections the account app writes itself.
ACCOUNT_SECTIONS = frozenset({"exported_at", "profile", "addresses", "social_accounts", "sms_messages"})

_exporters: dict[str, Exporter] = {}
_anonymizers: dict[str, Anonymizer] = {}
_erasure_checks: dict[str, ErasureCheck] = {}


def register_exporter(section: str, exporter: Exporter) -> None:
    if section in ACCOUNT_SECTIONS or _exporters.get(section, exporter) is not exporter:
        raise ImproperlyConfigured(f"The export section {section!r} is already taken.")
    _exporters[section] = exporter


def register_anonymizer(name: str, anonymizer: Anonymizer) -> None:
    if _anonymizers.get(name, anonymizer) is not anonymizer:
        raise ImproperlyConfigured(f"An anonymizer named {name!r} is already registered.")
    _anonymizers[name] = anonymizer


def register_erasure_check(name: str, check: ErasureCheck) -> None:
    if _erasure_checks.get(name, check) is not check:
        raise ImproperlyConfigured(f"An erasure check named {name!r} is already registered.")
    _erasure_checks[name] = check


def unregister(name: str) -> None:
    """For tests that register temporary hooks."""
    _exporters.pop(name, None)
    _anonymizers.pop(name, None)
    _erasure_checks.pop(name, None)


def exporters() -> list[tuple[str, Exporter]]:
    return sorted(_exporters.items())


def anonymizers() -> list[tuple[str, Anonymizer]]:
    return sorted(_anonymizers.items())


def erasure_checks() -> list[tuple[str, ErasureCheck]]:
    return sorted(_erasure_checks.items())


def export_json_safe(value: Any) -> Any:
    """Decimals as strings ("10.00"), datetimes in ISO 8601 with "Z" for UTC (as the API writes
    them), dates in ISO 8601, UUIDs as strings; mappings and sequences converted recursively."""
    if isinstance(value, Mapping):
        return {str(key): export_json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [export_json_safe(item) for item in value]
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    return value
