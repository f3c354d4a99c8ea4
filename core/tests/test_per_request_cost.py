"""What a request costs when nothing asks for more: no tracer installed or run unless configured, and
a log call the level filters out does no formatting, filtering or context lookup. Each check runs in
a fresh interpreter, so nothing another test initialised (Sentry, logging config) leaks in."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNCONFIGURED = ("SENTRY_DSN", "DD_AGENT_HOST", "DD_TRACE_ENABLED", "OTEL_EXPORTER_OTLP_ENDPOINT")


def run_python(script: str, **env: str) -> dict:
    environment = {key: value for key, value in os.environ.items() if key not in UNCONFIGURED}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


_SERVE_ONE_REQUEST = """
import json, sys
from ecommerce_api.wsgi import application  # calls configure_observability(component="wsgi")
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.test import Client
import sentry_sdk
from opentelemetry import trace

status = Client().get("/health/live/").status_code
print(json.dumps({
    "status": status,
    "sentry": sentry_sdk.is_initialized(),
    "get_response": BaseHandler.get_response.__module__,
    "tracing_middleware": [m for m in settings.MIDDLEWARE if "opentelemetry" in m or "sentry" in m],
    # redis-py imports the OpenTelemetry SDK for its own (off) metrics; no tracer may be set up.
    "tracer_provider": type(trace.get_tracer_provider()).__name__,
    "loaded": sorted(m for m in ("ddtrace", "opentelemetry.instrumentation.django") if m in sys.modules),
}))
"""


def test_unconfigured_observability_installs_nothing_in_the_request_path():
    seen = run_python(_SERVE_ONE_REQUEST, DJANGO_SETTINGS_MODULE="ecommerce_api.settings.test")

    assert seen == {
        "status": 200,
        "sentry": False,
        "get_response": "django.core.handlers.base",  # not wrapped by Sentry's Django integration
        "tracing_middleware": [],
        "tracer_provider": "ProxyTracerProvider",
        "loaded": [],
    }


_FILTERED_LOG_CALLS = """
import io, json, logging, logging.config
from pythonjsonlogger.json import JsonFormatter
from core.logging import RequestIdFilter, request_id_var
import ecommerce_api.settings.base as base

calls = {"filter": 0, "format": 0, "str": 0}

def counting(name, original):
    def wrapper(*args, **kwargs):
        calls[name] += 1
        return original(*args, **kwargs)
    return wrapper

RequestIdFilter.filter = counting("filter", RequestIdFilter.filter)
JsonFormatter.format = counting("format", JsonFormatter.format)

class Argument:
    def __str__(self):
        calls["str"] += 1
        return "argument"

logging.config.dictConfig(base.LOGGING)
stream = io.StringIO()
logging.getLogger().handlers[0].setStream(stream)
logger = logging.getLogger("shop.api.views")
request_id_var.set("req-1")

for _ in range(100):
    logger.info("listed %s", Argument())
    logger.debug("listed %s", Argument())
dropped = dict(calls)
logger.warning("kept %s", Argument())
print(json.dumps({"dropped": dropped, "kept": dict(calls), "line": json.loads(stream.getvalue())}))
"""


def test_a_log_call_below_the_level_costs_no_filter_no_formatter_no_argument_formatting():
    seen = run_python(_FILTERED_LOG_CALLS, LOG_LEVEL="WARNING", LOG_FORMAT="json")

    assert seen["dropped"] == {"filter": 0, "format": 0, "str": 0}
    assert seen["kept"] == {"filter": 1, "format": 1, "str": 1}
    assert seen["line"]["message"] == "kept argument"
    assert seen["line"]["request_id"] == "req-1"
    assert seen["line"]["level"] == "WARNING"
