"""Django-level error views so that even errors outside DRF keep SPEC.md's error shape."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

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
