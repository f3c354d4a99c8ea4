"""One error type for the domain, one exception handler for the API.

Services raise `DomainError` subclasses, which are plain Python (statuses from `http.HTTPStatus`), so
services never import DRF. The handler below is the one place that knows DRF: it turns them, and
every other exception, into SPEC.md's shape:
`{"type": "validation_error" | "client_error" | "server_error", "errors": [{"code", "detail", "attr"}]}`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from drf_standardized_errors import handler
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import get_error_detail


class DomainError(Exception):
    """A business rule said no. `code` is a stable snake_case string clients may switch on."""

    status_code: int = HTTPStatus.BAD_REQUEST
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
    status_code = HTTPStatus.NOT_FOUND
    code = "not_found"
    detail = "Not found."


class Conflict(DomainError):
    status_code = HTTPStatus.CONFLICT
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    detail = "This change of state is not allowed."


class PayloadTooLarge(DomainError):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    detail = "The request body is larger than this API accepts."


class ServiceUnavailable(DomainError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "service_unavailable"
    detail = "A service this request needs is unavailable."


class BadGateway(DomainError):
    status_code = HTTPStatus.BAD_GATEWAY
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
        if isinstance(exc, RequestDataTooBig):
            return DomainAPIException(PayloadTooLarge())
        if isinstance(exc, TooManyFieldsSent):  # DATA_UPLOAD_MAX_NUMBER_FIELDS, a client's error
            return exceptions.ParseError(
                f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields.", code="too_many_fields"
            )
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(detail=get_error_detail(exc))
        if isinstance(exc, DataError) and "NUL (0x00)" in str(exc):
            # PostgreSQL text cannot hold NUL. DRF's CharField refuses it, but lookups (a slug in a
            # related field, an id in the URL) reach the driver with it, which refuses before
            # sending anything: the client's input is wrong, the transaction is still usable.
            return exceptions.ValidationError(
                detail=[ErrorDetail("Null characters are not allowed.", code="null_characters_not_allowed")]
            )
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
