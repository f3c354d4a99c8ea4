"""Liveness and readiness. Readiness checks each backing service with a short timeout and names
the one that fails, so an orchestrator (and a human) knows what to look at."""

import logging
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from kombu import Connection
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    probe_key = f"health:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(probe_key, value, timeout=10)
    if cache.get(probe_key) != value:
        raise RuntimeError("cache did not return what was written")
    cache.delete(probe_key)


def _check_broker() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER or settings.CELERY_BROKER_URL.startswith("memory://"):
        return "skipped: tasks run eagerly"
    # A connection of its own: a failed probe must not leave Celery's producer pool broken.
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return None


def _backend_name(part: str) -> str:
    if part == "database":
        return connection.vendor
    if part == "cache":
        backend = settings.CACHES["default"]["BACKEND"]
        return "redis" if "redis" in backend.lower() else backend.rsplit(".", 1)[-1]
    return settings.CELERY_BROKER_URL.split(":", 1)[0]


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}

_status_schema = inline_serializer("HealthStatus", fields={"status": serializers.CharField()})


@extend_schema(tags=["health"], responses={200: _status_schema}, auth=[])
@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([])
def live(request):
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


@extend_schema(
    tags=["health"],
    auth=[],
    responses={
        200: inline_serializer(
            "ReadinessReport", fields={"status": serializers.CharField(), "checks": serializers.DictField()}
        ),
        503: inline_serializer(
            "ReadinessFailure",
            fields={
                "status": serializers.CharField(),
                "checks": serializers.DictField(),
                "failing": serializers.ListField(child=serializers.CharField()),
            },
        ),
    },
)
@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([])
def ready(request):
    """Database, cache and broker answer; 503 names the parts that do not."""
    checks: dict[str, dict] = {}
    failing: list[str] = []
    for part, check in CHECKS.items():
        started = time.monotonic()
        try:
            note = check()
        except Exception as exc:
            logger.warning("readiness check failed", extra={"part": part, "error": str(exc)})
            checks[part] = {"status": "down", "backend": _backend_name(part), "error": str(exc)[:200]}
            failing.append(part)
            continue
        checks[part] = {
            "status": "ok",
            "backend": _backend_name(part),
            "ms": round((time.monotonic() - started) * 1000, 1),
        }
        if note:
            checks[part]["note"] = note
    if failing:
        names = ", ".join(f"{part} ({checks[part]['backend']})" for part in failing)
        return JsonResponse(
            {"status": "unavailable", "detail": f"Not ready: {names}.", "failing": failing, "checks": checks},
            status=503,
        )
    return JsonResponse({"status": "ok", "checks": checks})
