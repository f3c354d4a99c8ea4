"""Django-level error views so that even errors outside DRF keep SPEC.md's error shape, and the
guarded Prometheus export."""

import hmac
import ipaddress

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from .errors import error_body


@csrf_exempt
def not_found(request, exception=None):
    return JsonResponse(error_body(status_code=404, code="not_found", detail="Not found."), status=404)


def server_error(request):
    return JsonResponse(error_body(status_code=500, code="error", detail="Server Error (500)"), status=500)


def bad_request(request, exception=None):
    return JsonResponse(error_body(status_code=400, code="bad_request", detail="Bad request."), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(
        error_body(
            status_code=403, code="permission_denied", detail="You do not have permission to perform this action."
        ),
        status=403,
    )


def csrf_failure(request, reason=""):
    return JsonResponse(error_body(status_code=403, code="csrf_failed", detail="CSRF verification failed."), status=403)


def _bearer_token_matches(request, expected: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    # compare_digest: the time taken says nothing about how much of the token was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), expected.encode())


def _peer_is_loopback(request) -> bool:
    # The direct peer, never X-Forwarded-For: a proxy on the same host forwards public requests.
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "").is_loopback
    except ValueError:
        return False


@require_GET
def metrics(request):
    """django-prometheus' /metrics. With METRICS_TOKEN set, only `Authorization: Bearer <token>`
    reads it (401 otherwise). Without one it is open only with DEBUG on, or to a loopback peer (a
    sidecar, `curl` inside the container); anyone else gets the same 404 as an unknown path."""
    token = settings.METRICS_TOKEN
    if token:
        if not _bearer_token_matches(request, token):
            response = JsonResponse(
                error_body(
                    status_code=401, code="not_authenticated", detail="A valid metrics bearer token is required."
                ),
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not settings.DEBUG and not _peer_is_loopback(request):
        return not_found(request)
    return ExportToDjangoView(request)
