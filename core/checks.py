"""System checks that keep an unsafe configuration from serving. The deployment ones run with
`manage.py check --deploy`, which the image runs before its servers start (docker/entrypoint.sh
`web` and `ws`) and in its `release` and `migrate` roles, so an Error here stops the process (Makefile
`check-deploy` in CI fails on Warnings too). docs/OPERATIONS.md, "Security settings"."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .net import trusted_networks

DUMMY_GATEWAYS = {"dummy", "payment.gateways.dummy.DummyGateway"}
STRIPE_GATEWAYS = {"stripe", "payment.gateways.stripe.StripeGateway"}
# Django's own rule for a guessable key (security.W009), here an Error: a key anyone can read in
# .env.example signs every session, JWT and password reset link.
_KEY_MIN_LENGTH = 50
_KEY_MIN_UNIQUE_CHARACTERS = 5
_KNOWN_PLACEHOLDERS = ("change-me", "changeme", "django-insecure-", "insecure-local-only-key")


def _weak_key(value: str) -> bool:
    lowered = value.lower()
    return (
        len(value) < _KEY_MIN_LENGTH
        or len(set(value)) < _KEY_MIN_UNIQUE_CHARACTERS
        or any(placeholder in lowered for placeholder in _KNOWN_PLACEHOLDERS)
    )


@register(Tags.security, deploy=True)
def check_payment_gateway(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    gateway = settings.PAYMENT_GATEWAY
    if gateway in DUMMY_GATEWAYS:
        if settings.ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION:
            return [
                Warning(
                    "The dummy payment gateway is on with DEBUG off: every order is marked paid without money.",
                    hint="Allowed by ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION=true; only a demo may run like this.",
                    id="ecommerce.W001",
                )
            ]
        return [
            Error(
                "PAYMENT_GATEWAY is the dummy gateway with DEBUG off: orders would be marked paid without money.",
                hint="Set PAYMENT_GATEWAY=stripe with STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or for a demo "
                "ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION=true.",
                id="ecommerce.E001",
            )
        ]
    if gateway in STRIPE_GATEWAYS:
        missing = [name for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not getattr(settings, name)]
        if missing:
            return [
                Error(
                    f"PAYMENT_GATEWAY is stripe but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                    "empty: no payment could be taken or confirmed.",
                    hint="Set both from the Stripe dashboard (API keys; the webhook endpoint's signing secret).",
                    id="ecommerce.E002",
                )
            ]
    return []


@register(Tags.security, deploy=True)
def check_signing_keys(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    errors = []
    keys = {"SECRET_KEY": settings.SECRET_KEY, "JWT_SIGNING_KEY": settings.SIMPLE_JWT.get("SIGNING_KEY", "")}
    for name, value in keys.items():
        if name == "JWT_SIGNING_KEY" and value == settings.SECRET_KEY:
            continue  # unset: SECRET_KEY signs the tokens and is checked above
        if _weak_key(value):
            errors.append(
                Error(
                    f"{name} is short, repetitive or a placeholder (such as the change-me of .env.example).",
                    hint=f"Use at least {_KEY_MIN_LENGTH} random characters, e.g. "
                    '`python -c "import secrets; print(secrets.token_urlsafe(50))"`.',
                    id="ecommerce.E003",
                )
            )
    return errors


@register(Tags.security)
def check_trusted_proxies(app_configs, **kwargs):
    try:
        trusted_networks(tuple(settings.TRUSTED_PROXIES))
    except ValueError as exc:
        return [
            Error(
                f"TRUSTED_PROXIES has an entry that is not an IP address or network: {exc}.",
                hint="Comma-separated addresses or CIDR networks, e.g. 10.0.0.0/8,192.0.2.10.",
                id="ecommerce.E004",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_retired_num_proxies(app_configs, **kwargs):
    if os.environ.get("NUM_PROXIES", "").strip() in ("", "0"):
        return []
    return [
        Warning(
            "NUM_PROXIES is no longer read: X-Forwarded-For is honoured only from TRUSTED_PROXIES.",
            hint="Set TRUSTED_PROXIES to your proxies' addresses or network; without it every client behind "
            "the proxy shares the proxy's address in throttles and the login lockout.",
            id="ecommerce.W002",
        )
    ]


CONSOLE_BACKENDS = {
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    "SMS_BACKEND": "sms.backends.console.SmsBackend",
}


@register(Tags.security, deploy=True)
def check_console_delivery(app_configs, **kwargs):
    """The console backends print password reset links and login codes into the log: nobody gets
    them, and whoever reads the log can use them."""
    if settings.DEBUG:
        return []
    return [
        Warning(
            f"{name} is the console backend with DEBUG off: messages (reset links, login codes) go to the "
            "log, not to customers.",
            hint="Set EMAIL_URL (or EMAIL_BACKEND) to an SMTP service."
            if name == "EMAIL_BACKEND"
            else "Set SMS_BACKEND=sms.backends.twilio.SmsBackend with its TWILIO_* settings.",
            id="ecommerce.W003",
        )
        for name, console in CONSOLE_BACKENDS.items()
        if getattr(settings, name) == console
    ]


@register(Tags.security)
def check_stripe_publishable_key(app_configs, **kwargs):
    """STRIPE_PUBLISHABLE_KEY is served to every browser: a secret or restricted key pasted there
    would be published. GET payments/config/ never serves a key that is not pk_..., and this says why."""
    key = settings.STRIPE_PUBLISHABLE_KEY
    if key and not key.startswith("pk_"):
        return [
            Error(
                "STRIPE_PUBLISHABLE_KEY does not start with pk_: it looks like a secret key, and this setting "
                "is published to every storefront.",
                hint="Use the publishable key from the Stripe dashboard; keep sk_/rk_ keys in STRIPE_SECRET_KEY.",
                id="ecommerce.E005",
            )
        ]
    return []
