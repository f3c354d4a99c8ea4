import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_openapi_schema_renders_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    # --fail-on-warn turns any drf-spectacular warning or error into a failure.
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")

    text = out.read_text()
    assert "openapi: 3" in text
    assert "/health/ready/" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/schema/",
        "/api/v1/schema/",
        "/api/docs/",
        "/api/redoc/",
        "/api/v1/schema/swagger-ui/",
        "/api/v1/schema/redoc/",
    ],
)
def test_docs_pages_are_served(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 200


@pytest.mark.django_db
def test_swagger_ui_uses_assets_served_by_the_app(api_client):
    html = api_client.get("/api/docs/").content.decode()

    assert "drf_spectacular_sidecar" in html  # local static assets, no CDN
    assert "cdn.jsdelivr" not in html


def _run_check_deploy(extra_env: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    env.update({"DJANGO_SETTINGS_MODULE": "ecommerce_api.settings.production", **extra_env})
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _run_check_deploy(
        {
            "SECRET_KEY": "x" * 20 + "-deploy-check-secret-0123456789abcdefghijklmnop",
            "ALLOWED_HOSTS": "shop.example.com",
            # A real gateway, as `make check-deploy` sets: the dummy one is ecommerce.E001 here.
            "PAYMENT_GATEWAY": "stripe",
            "STRIPE_SECRET_KEY": "sk_test_placeholder",
            "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
            # Real delivery, as `make check-deploy` sets: the console backends are ecommerce.W003.
            "EMAIL_URL": "smtp+tls://shop@smtp.example.com:587",
            "SMS_BACKEND": "sms.backends.twilio.SmsBackend",
        }
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _run_check_deploy({"ALLOWED_HOSTS": "shop.example.com"})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_observability_is_off_unless_configured(settings):
    from core import observability

    settings.SENTRY_DSN = ""
    observability._configured.clear()
    for name in ("DD_AGENT_HOST", "DD_TRACE_ENABLED", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        assert name not in os.environ

    assert observability.configure_observability(component="test") == set()


def test_sentry_starts_when_dsn_is_set(settings):
    import sentry_sdk

    from core import observability

    settings.SENTRY_DSN = "https://public@sentry.invalid/1"
    observability._configured.clear()
    try:
        active = observability.configure_observability(component="test")
        assert active == {"sentry"}
        assert sentry_sdk.get_client().dsn == "https://public@sentry.invalid/1"
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None)
        observability._configured.clear()


_SQLITE_WRITERS = """
import threading

import django

django.setup()
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE counter (n integer)")
    cursor.execute("INSERT INTO counter VALUES (0)")
errors = []


def read_then_write():
    from django.db import connection

    try:
        for _ in range(25):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT n FROM counter")
                cursor.execute("UPDATE counter SET n = %s", [cursor.fetchone()[0] + 1])
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()


threads = [threading.Thread(target=read_then_write) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT n FROM counter")
    print(errors, cursor.fetchone()[0])
"""


def test_local_sqlite_queues_concurrent_writers_instead_of_failing(tmp_path):
    """`make run` serves from several threads; on SQLite a transaction that reads and then writes
    must wait for another writer, not fail with "database is locked" (or lose an update)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ecommerce_api.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", _SQLITE_WRITERS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["[]", "100"], result.stdout
