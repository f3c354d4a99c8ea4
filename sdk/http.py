"""The HTTP layer: one `requests.Session`, the auth header, token refresh, retries, the cart token.

Retry policy (only where a repeat cannot do something twice):
- GET, HEAD, OPTIONS, PUT and DELETE are retried on connection errors and on 429/502/503/504;
- POST and PATCH are retried only when they carry an `Idempotency-Key` (checkout, payments), and
  the retry sends the very same key and body, so the server replays instead of acting again; such
  calls are also retried on 409 `idempotency_request_in_progress` (the first attempt is still running);
- the wait is exponential (`backoff_factor * 2**attempt`, at most `max_backoff`), or the server's
  `Retry-After` when it sends one. A `Retry-After` longer than `max_retry_after` is not waited
  for: the call raises `RateLimited`/`ServerError` at once with `retry_after` set, and the caller
  decides (a login lockout of 15 minutes should not block a thread).

Refresh: an authenticated call answered 401 while a refresh token is known triggers one
`POST authentication/token/refresh/`, stores the rotated pair (and hands it to `on_tokens`), then
repeats the call once. If the refresh itself is refused, the tokens are forgotten, `on_tokens(None)`
is called and `AuthenticationError` is raised.

Cart token: the `X-Cart-Token` header of a successful answer is remembered and sent on later calls
(the first cart call after login merges that anonymous cart into the customer's); a 404
`cart_not_found` forgets it, so the next cart call starts a new cart.
"""

from __future__ import annotations

import email.utils
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from ._version import __version__
from .errors import APIConnectionError, APIError, AuthenticationError, ErrorItem, error_from_response
from .models import Tokens

API_PREFIX = "/api/v1/"
REFRESH_PATH = "authentication/token/refresh/"
CART_TOKEN_HEADER = "X-Cart-Token"
CART_NOT_FOUND = "cart_not_found"
IDEMPOTENCY_IN_PROGRESS = "idempotency_request_in_progress"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REQUEST_ID_HEADER = "X-Request-ID"

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})

TokenCallback = Callable[[Tokens | None], None]


@dataclass
class APIResponse:
    status: int
    headers: Mapping[str, str]
    data: Any
    url: str


def api_root_from(base_url: str) -> str:
    """`https://shop.example.com` and `https://shop.example.com/api/v1` both mean the same API."""
    root = base_url.rstrip("/")
    if not root.endswith(API_PREFIX.rstrip("/")):
        root += API_PREFIX.rstrip("/")
    return root + "/"


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # noqa: UP017 - datetime.UTC needs Python 3.11
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)  # noqa: UP017


class Transport:
    """Sends requests to one API. Shared by every method of `ECommerceClient` (as `client.http`)."""

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str | None = None,
        refresh_token: str | None = None,
        on_tokens: TokenCallback | None = None,
        cart_token: str | None = None,
        timeout: float | tuple[float, float] = 10.0,
        max_retries: int = 3,
        backoff_factor: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        auth_scheme: str = "Bearer",
    ) -> None:
        self.api_root = api_root_from(base_url)
        parts = urlsplit(self.api_root)
        self._origin = (parts.scheme, parts.netloc)
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.on_tokens = on_tokens
        self.cart_token = cart_token
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.auth_scheme = auth_scheme
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = (
            user_agent or f"ecommerce-sdk/{__version__} {requests.utils.default_user_agent()}"
        )
        # Injected so tests (and apps with their own scheduler) can observe or replace the waits.
        self.sleep: Callable[[float], None] = time.sleep
        self._refresh_lock = threading.RLock()

    # --- public ---------------------------------------------------------------------------------

    def url_for(self, path: str) -> str:
        """An API path ("products/") or a full URL from a page's `next`, as a URL on our origin.

        `next` links are rebased onto the configured origin so the Authorization header never goes
        to another host, whatever URL the server (or a proxy in front of it) wrote.
        """
        if "://" not in path:
            return urljoin(self.api_root, path.lstrip("/"))
        parts = urlsplit(path)
        return urlunsplit((*self._origin, parts.path, parts.query, ""))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        authenticate: bool = True,
        allow_refresh: bool = True,
    ) -> APIResponse:
        method = method.upper()
        url = self.url_for(path)
        headers = {REQUEST_ID_HEADER: uuid.uuid4().hex}
        if idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        clean_params = _clean_params(params)

        sent_access = self.access_token if authenticate else None
        response = self._send(method, url, clean_params, json, headers, authenticate)
        if response.status_code == 401 and authenticate and allow_refresh and self.refresh_token:
            self._refresh_after_401(sent_access)
            response = self._send(method, url, clean_params, json, headers, authenticate)
        return self._result(method, url, response)

    def refresh(self) -> Tokens:
        """Trade the refresh token for a new pair now (rotation: the old refresh token dies)."""
        with self._refresh_lock:
            return self._refresh_locked()

    def _refresh_locked(self) -> Tokens:
        if not self.refresh_token:
            raise AuthenticationError(
                status=401,
                type="client_error",
                errors=[ErrorItem(code="no_refresh_token", detail="No refresh token is set on this client.")],
            )
        try:
            response = self.request(
                "POST", REFRESH_PATH, json={"refresh": self.refresh_token}, authenticate=False, allow_refresh=False
            )
        except APIError as error:
            if error.status in (400, 401):
                self.set_tokens(None, None)
                raise AuthenticationError(
                    status=401,
                    type=error.type,
                    errors=error.errors,
                    request_id=error.request_id,
                    method=error.method,
                    url=error.url,
                    body=error.body,
                    headers=error.headers,
                ) from error
            raise
        data = response.data or {}
        tokens = Tokens.from_dict(data.get("tokens", data))
        self.set_tokens(tokens.access, tokens.refresh or self.refresh_token)
        return Tokens(access=self.access_token, refresh=self.refresh_token, raw=tokens.raw)

    def set_tokens(self, access: str | None, refresh: str | None, *, notify: bool = True) -> None:
        self.access_token = access
        self.refresh_token = refresh
        if notify and self.on_tokens is not None:
            self.on_tokens(Tokens(access=access, refresh=refresh) if access or refresh else None)

    def close(self) -> None:
        self.session.close()

    # --- internals -----------------------------------------------------------------------------

    def _refresh_after_401(self, stale_access: str | None) -> None:
        with self._refresh_lock:
            # Another thread may have refreshed while this request was in flight: reuse its token
            # instead of spending (and so revoking) the rotated refresh token a second time.
            if self.access_token and self.access_token != stale_access:
                return
            self._refresh_locked()

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json: Any,
        headers: dict[str, str],
        authenticate: bool,
    ) -> requests.Response:
        retryable = method in IDEMPOTENT_METHODS or IDEMPOTENCY_HEADER in headers
        attempt = 0
        while True:
            final_headers = self._headers(headers, authenticate)
            try:
                response = self.session.request(
                    method, url, params=params, json=json, headers=final_headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if retryable and attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise APIConnectionError(f"{method} {url} failed: {exc}", method=method, url=url) from exc
            if retryable and attempt < self.max_retries and self._should_retry(response, headers):
                delay = self._retry_delay(response, attempt)
                if delay is not None:
                    response.close()
                    self.sleep(delay)
                    attempt += 1
                    continue
            self._remember_cart_token(response)
            return response

    def _should_retry(self, response: requests.Response, headers: dict[str, str]) -> bool:
        if response.status_code in RETRY_STATUSES:
            return True
        # The first request with this key is still running on the server: asking again with the same
        # key soon gets its answer replayed, never a second order or payment.
        return (
            response.status_code == 409
            and IDEMPOTENCY_HEADER in headers
            and _error_code(response) == IDEMPOTENCY_IN_PROGRESS
        )

    def _headers(self, headers: dict[str, str], authenticate: bool) -> dict[str, str]:
        final = dict(headers)
        if authenticate and self.access_token:
            final["Authorization"] = f"{self.auth_scheme} {self.access_token}"
        if self.cart_token:
            final[CART_TOKEN_HEADER] = self.cart_token
        return final

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff_factor * (2**attempt))

    def _retry_delay(self, response: requests.Response, attempt: int) -> float | None:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return self._backoff(attempt)
        if retry_after > self.max_retry_after:
            return None
        return retry_after

    def _remember_cart_token(self, response: requests.Response) -> None:
        token = response.headers.get(CART_TOKEN_HEADER)
        if token and 200 <= response.status_code < 300:
            self.cart_token = token

    def _result(self, method: str, url: str, response: requests.Response) -> APIResponse:
        data = _decode(response)
        if response.status_code >= 400:
            error = error_from_response(
                status=response.status_code,
                body=data,
                headers=dict(response.headers),
                method=method,
                url=url,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
            if error.code == CART_NOT_FOUND:
                # The anonymous cart expired or was merged away: the next cart call starts afresh
                # instead of failing forever with the same dead token.
                self.cart_token = None
            raise error
        return APIResponse(status=response.status_code, headers=response.headers, data=data, url=response.url)


def _error_code(response: requests.Response) -> str | None:
    try:
        return response.json()["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _decode(response: requests.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset filters and spell booleans the way Django filters read them."""
    if not params:
        return None
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        clean[key] = str(value) if not isinstance(value, (list, tuple)) else [str(v) for v in value]
    return clean or None
