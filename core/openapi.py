"""The error shape in the OpenAPI schema. drf-standardized-errors documents every status it adds
(400, 401, 403, 404, ...) with `ErrorResponseSerializer` (settings: DRF_STANDARDIZED_ERRORS
["ERROR_SCHEMAS"]); statuses it cannot infer (409, 422, 502, 503) are declared by the views with
`@extend_schema(responses={..., **error_responses(409, 422)})`."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable snake_case code, e.g. `insufficient_stock`.")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponseSerializer(serializers.Serializer):
    """SPEC's error shape; `code` is a domain code (listed in each app's docs page), not an enum."""

    type = serializers.ChoiceField(choices=["validation_error", "client_error", "server_error"])
    errors = ErrorItemSerializer(many=True)


_DESCRIPTIONS = {
    409: "Conflict with the current state (e.g. `insufficient_stock`, `invalid_transition`).",
    422: "Unprocessable (e.g. `idempotency_key_reused`).",
    502: "An upstream provider failed.",
    503: "A required provider is not configured or unavailable.",
}


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(ErrorResponseSerializer, description=_DESCRIPTIONS.get(code, "Error."))
        for code in status_codes
    }


# Media URLs are always absolute (core/media.py): PUBLIC_URL + MEDIA_URL with local storage, or the
# CDN / object store's own URL.
MEDIA_URL_SCHEMA = {"type": "string", "format": "uri"}
OPTIONAL_MEDIA_URL_SCHEMA = {**MEDIA_URL_SCHEMA, "nullable": True}
