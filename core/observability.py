"""Sentry, DataDog APM and OpenTelemetry: each one starts only when its variables are set."""

import logging
import os

from django.conf import settings

logger = logging.getLogger(__name__)
_configured: set[str] = set()


def configure_observability(*, component: str) -> set[str]:
    """Initialise the configured tracers once per process; returns the names that are active."""
    if "sentry" not in _configured and settings.SENTRY_DSN:
        import sentry_sdk
        from sentry_sdk.integrations.celery import CeleryIntegration
        from sentry_sdk.integrations.django import DjangoIntegration

        sentry_sdk.init(
            dsn=settings.SENTRY_DSN,
            environment=settings.SENTRY_ENVIRONMENT,
            traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
            integrations=[DjangoIntegration(), CeleryIntegration()],
        )
        _configured.add("sentry")
    if "datadog" not in _configured and (
        os.environ.get("DD_AGENT_HOST") or os.environ.get("DD_TRACE_ENABLED") == "true"
    ):
        import ddtrace.auto  # noqa: F401  (patches Django, Celery, psycopg, redis on import)

        _configured.add("datadog")
    if "opentelemetry" not in _configured and os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        service = os.environ.get("OTEL_SERVICE_NAME", "ecommerce-api")
        provider = TracerProvider(resource=Resource.create({"service.name": service, "component": component}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        DjangoInstrumentor().instrument()
        _configured.add("opentelemetry")
    if _configured:
        logger.info("observability active", extra={"tracers": sorted(_configured), "component": component})
    return set(_configured)
