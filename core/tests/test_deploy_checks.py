"""core/checks.py: a production configuration that would take orders without money, sign with a
placeholder key or mis-parse its proxies is an Error of `check --deploy`; the real command with
production settings fails on it (the image runs that command before serving)."""

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from core import checks
from tests.support import runtime

STRONG_KEY = "k" * 10 + "0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_dummy_gateway_with_debug_off_is_an_error(settings):
    settings.DEBUG = False
    settings.PAYMENT_GATEWAY = "dummy"
    settings.ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION = False

    assert ids(checks.check_payment_gateway(None)) == ["ecommerce.E001"]
    settings.PAYMENT_GATEWAY = "payment.gateways.dummy.DummyGateway"
    assert ids(checks.check_payment_gateway(None)) == ["ecommerce.E001"]


def test_the_demo_opt_in_turns_the_error_into_a_warning(settings):
    settings.DEBUG = False
    settings.PAYMENT_GATEWAY = "dummy"
    settings.ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION = True

    assert ids(checks.check_payment_gateway(None)) == ["ecommerce.W001"]


def test_dummy_gateway_is_fine_while_developing(settings):
    settings.DEBUG = True
    settings.PAYMENT_GATEWAY = "dummy"

    assert checks.check_payment_gateway(None) == []


def test_stripe_needs_both_keys(settings):
    settings.DEBUG = False
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = ""

    (error,) = checks.check_payment_gateway(None)
    assert error.id == "ecommerce.E002" and "STRIPE_WEBHOOK_SECRET is empty" in error.msg
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    assert checks.check_payment_gateway(None) == []


@pytest.mark.parametrize(
    "key", ["change-me", "x" * 60, "django-insecure-" + "a1b2c3d4e5" * 5, "short-but-random-9f8e7d"]
)
def test_placeholder_or_weak_secret_key_is_an_error(settings, key):
    settings.DEBUG = False
    settings.SECRET_KEY = key
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": key}

    assert ids(checks.check_signing_keys(None)) == ["ecommerce.E003"]


def test_a_long_random_key_passes_and_a_weak_separate_jwt_key_does_not(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = STRONG_KEY
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": STRONG_KEY}
    assert checks.check_signing_keys(None) == []

    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "change-me"}
    (error,) = checks.check_signing_keys(None)
    assert error.id == "ecommerce.E003" and error.msg.startswith("JWT_SIGNING_KEY")


def test_malformed_trusted_proxies_is_an_error_in_every_check_run(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "nginx"]

    assert ids(checks.check_trusted_proxies(None)) == ["ecommerce.E004"]
    with pytest.raises(SystemCheckError, match="ecommerce.E004"):
        call_command("check")  # not only with --deploy


def test_a_leftover_num_proxies_is_a_warning(monkeypatch):
    monkeypatch.setenv("NUM_PROXIES", "1")

    assert ids(checks.check_retired_num_proxies(None)) == ["ecommerce.W002"]
    monkeypatch.delenv("NUM_PROXIES")
    assert checks.check_retired_num_proxies(None) == []


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --tag security --fail-level ERROR`, as the image's web role runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "ERROR"],
        cwd=runtime.ROOT,
        env=runtime.production_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_fails_on_production_settings_with_the_dummy_gateway_and_no_opt_in():
    refused = check_deploy(PAYMENT_GATEWAY="dummy", ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION="false")
    demo = check_deploy(PAYMENT_GATEWAY="dummy", ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION="true")
    stripe = check_deploy(
        PAYMENT_GATEWAY="stripe",
        STRIPE_SECRET_KEY="sk_test_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
        EMAIL_URL="smtp+tls://shop@smtp.example.com:587",
        SMS_BACKEND="sms.backends.twilio.SmsBackend",
    )

    assert refused.returncode == 1 and "ecommerce.E001" in refused.stderr
    assert demo.returncode == 0 and "ecommerce.W001" in demo.stderr
    assert stripe.returncode == 0 and "ecommerce." not in stripe.stderr


def test_console_email_and_sms_backends_are_a_warning_in_production(settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.SMS_BACKEND = "sms.backends.console.SmsBackend"

    warnings = checks.check_console_delivery(None)
    assert ids(warnings) == ["ecommerce.W003", "ecommerce.W003"]
    assert "EMAIL_BACKEND" in warnings[0].msg and "SMS_BACKEND" in warnings[1].msg

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SMS_BACKEND = "sms.backends.twilio.SmsBackend"
    assert checks.check_console_delivery(None) == []
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert checks.check_console_delivery(None) == []
