"""Payment gateways, chosen by `settings.PAYMENT_GATEWAY` like Django's EMAIL_BACKEND: a short name
from GATEWAYS (`stripe`, `dummy`) or the dotted path of a `PaymentGateway` subclass."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import IntentResult, IntentStatus, PaymentGateway, RefundResult, RefundStatus

GATEWAYS = {
    "dummy": "payment.gateways.dummy.DummyGateway",
    "stripe": "payment.gateways.stripe.StripeGateway",
}

__all__ = [
    "GATEWAYS",
    "IntentResult",
    "IntentStatus",
    "PaymentGateway",
    "RefundResult",
    "RefundStatus",
    "gateway_for",
    "configured_gateway_name",
]


def configured_gateway_name() -> str:
    return settings.PAYMENT_GATEWAY


def gateway_for(name: str | None = None) -> PaymentGateway:
    """The gateway named `name` (a payment's own provider), else the configured one."""
    name = name or configured_gateway_name()
    gateway_class = import_string(GATEWAYS.get(name, name))
    return gateway_class()
