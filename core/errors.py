"""One error type for the domain, one exception handler for the API.

Services raise `DomainError` subclasses (plain Python, no DRF); the handler below turns them, and
every other exception, into SPEC.md's shape:
`{"type": "validation_error" | "client_error" | "server_error", "errors": [{"code", "detail", "attr"}]}`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors import handler
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail


class DomainError(Exception):
    """A business rule said no. `code` is a stable snake_case string clients may switch on."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"
    detail: str = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        attr: str | None = None,
        status_code: int | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.detail
        self.code = code or self.code
        self.attr = attr
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra
        super().__init__(self.detail)


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    detail = "Not found."


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    detail = "This change of state is not allowed."


class ServiceUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"
    detail = "A service this request needs is unavailable."


class BadGateway(DomainError):
    status_code = status.HTTP_502_BAD_GATEWAY
    code = "bad_gateway"
    detail = "An upstream provider failed."


class DomainAPIException(exceptions.APIException):
    """Carries a DomainError through DRF's machinery with its status, code, attr and extras."""

    def __init__(self, error: DomainError) -> None:
        self.status_code = error.status_code
        self.attr = error.attr
        self.extra = error.extra
        super().__init__(detail=error.detail, code=error.code)


class ExceptionHandler(handler.ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return DomainAPIException(exc)
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(detail=get_error_detail(exc))
        return super().convert_known_exceptions(exc)

    def format_exception(self, exc: exceptions.APIException) -> dict:
        data = super().format_exception(exc)
        if isinstance(exc, DomainAPIException):
            # A domain error names its own attr and may add context (e.g. the available quantity).
            error = data["errors"][0]
            error["attr"] = exc.attr
            error.update(exc.extra)
        for error in data["errors"]:
            # A ValidationError raised without a code (a form's add_error with a bare message, say)
            # still gets one: every error carries a stable snake_case code.
            error["code"] = error["code"] or "invalid"
        return data


def error_body(*, status_code: int, code: str, detail: str, attr: str | None = None) -> dict:
    """The error shape for responses built outside DRF (404/500 handlers, health checks)."""
    kind = "server_error" if status_code >= 500 else "client_error"
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}
