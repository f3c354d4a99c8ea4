"""Exceptions raised by the SDK.

Every non-2xx answer becomes an `APIError` subclass chosen by HTTP status, carrying the API's
error shape: `{"type": ..., "errors": [{"code", "detail", "attr", ...}]}`. The first error item
is lifted onto the exception (`code`, `detail`, `attr`) because most answers carry exactly one;
`errors` keeps them all (a validation error may name several fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ECommerceError(Exception):
    """Base of everything this SDK raises."""


class APIConnectionError(ECommerceError):
    """The API could not be reached (DNS, refused connection, timeout) after the allowed retries."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


@dataclass(frozen=True)
class ErrorItem:
    code: str
    detail: str
    attr: str | None = None
    # Extra context some errors carry, e.g. `variant_id`, `available_quantity` and `requested` on
    # `insufficient_stock`.
    extra: dict[str, Any] = field(default_factory=dict)


class APIError(ECommerceError):
    """The API answered with an error. `status` is the HTTP status, `code` the stable snake_case
    code of the first error (switch on it), `request_id` the server's X-Request-ID for support."""

    def __init__(
        self,
        *,
        status: int,
        type: str,
        errors: list[ErrorItem],
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.type = type
        self.errors = errors
        self.request_id = request_id
        self.method = method
        self.url = url
        self.body = body
        self.headers = headers or {}
        first = errors[0] if errors else ErrorItem(code=f"http_{status}", detail="")
        self.code = first.code
        self.detail = first.detail
        self.attr = first.attr
        super().__init__(self._message())

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def codes(self) -> list[str]:
        return [item.code for item in self.errors]

    def has_code(self, code: str) -> bool:
        return code in self.codes

    def errors_for(self, attr: str) -> list[ErrorItem]:
        """The errors about one input field, e.g. `errors_for("email")`."""
        return [item for item in self.errors if item.attr == attr]

    def _message(self) -> str:
        where = f" ({self.attr})" if self.attr else ""
        suffix = f" [request_id={self.request_id}]" if self.request_id else ""
        return f"{self.status} {self.code}{where}: {self.detail}{suffix}"


class BadRequest(APIError):
    """400 or 422 that is not about the input's fields (e.g. a missing Idempotency-Key)."""


class ValidationError(BadRequest):
    """400/422 with `type == "validation_error"`: look at `errors` for each field's problem."""


class AuthenticationError(APIError):
    """401: no, expired or invalid credentials (and the refresh token could not fix it)."""


class PermissionDenied(APIError):
    """403: authenticated, but not allowed (e.g. a customer on a staff endpoint)."""


class NotFound(APIError):
    """404: does not exist, or belongs to someone else (the API never confirms which)."""


class MethodNotAllowed(APIError):
    """405."""


class Conflict(APIError):
    """409: the request clashes with the current state (`insufficient_stock`, `invalid_transition`,
    a changed total, an Idempotency-Key still in progress, ...)."""


class RateLimited(APIError):
    """429. `retry_after` is the number of seconds the server asked us to wait, when it said."""

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class ServerError(APIError):
    """5xx: the server or something behind it failed. Safe calls were already retried."""


class ServiceUnavailable(ServerError):
    """503: a dependency is down or not configured (e.g. the payment gateway)."""


_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    429: RateLimited,
    503: ServiceUnavailable,
}


def _parse_items(body: Any, status: int) -> tuple[str, list[ErrorItem]]:
    default_type = "server_error" if status >= 500 else "client_error"
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        # Not the API's shape (a proxy's HTML page, a plain-text 502...): keep a usable code.
        detail = body.get("detail", "") if isinstance(body, dict) else (body or "")
        return default_type, [ErrorItem(code=f"http_{status}", detail=str(detail)[:500])]
    items = []
    for raw in body["errors"]:
        if not isinstance(raw, dict):
            continue
        extra = {k: v for k, v in raw.items() if k not in ("code", "detail", "attr")}
        items.append(
            ErrorItem(
                code=str(raw.get("code") or f"http_{status}"),
                detail=str(raw.get("detail") or ""),
                attr=raw.get("attr"),
                extra=extra,
            )
        )
    return str(body.get("type") or default_type), items


def error_from_response(
    *,
    status: int,
    body: Any,
    headers: dict[str, str],
    method: str,
    url: str,
    retry_after: float | None = None,
) -> APIError:
    """Build the exception matching an error answer."""
    error_type, items = _parse_items(body, status)
    kwargs: dict[str, Any] = {
        "status": status,
        "type": error_type,
        "errors": items,
        "request_id": headers.get("X-Request-ID"),
        "method": method,
        "url": url,
        "body": body,
        "headers": headers,
    }
    if status in (400, 422):
        cls: type[APIError] = ValidationError if error_type == "validation_error" else BadRequest
    elif status == 429:
        return RateLimited(retry_after=retry_after, **kwargs)
    elif status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif status >= 500:
        cls = ServerError
    else:
        cls = APIError
    return cls(**kwargs)
