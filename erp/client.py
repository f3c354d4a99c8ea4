"""HTTP client for the ERP's REST contract (docs/ERP.md). It only speaks HTTP and checks shapes;
erp.services decides what to do with the answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from django.conf import settings

from core.logging import get_request_id

from .errors import ErpNotConfigured, ErpRejected, ErpUnavailable

logger = logging.getLogger(__name__)

# 4xx answers that mean "not now" rather than "never": timeout, an in-flight request with the same
# Idempotency-Key, too early, rate limited.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class InventoryPage:
    items: list[Any]
    next_page: int | None


class ErpClient:
    def __init__(self, *, base_url: str, api_key: str, timeout: float, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "ecommerce-api-erp/1"})
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    @classmethod
    def from_settings(cls) -> ErpClient:
        if not settings.ERP_API_URL:
            raise ErpNotConfigured("ERP_API_URL is not set; the ERP integration is off.")
        return cls(base_url=settings.ERP_API_URL, api_key=settings.ERP_API_KEY, timeout=settings.ERP_TIMEOUT_SECONDS)

    def inventory_page(self, *, updated_since: datetime | None, page: int) -> InventoryPage:
        params: dict[str, Any] = {"page": page}
        if updated_since is not None:
            params["updated_since"] = updated_since.isoformat()
        body = self._request("GET", "/inventory", params=params)
        items = body.get("items") if isinstance(body, dict) else None
        next_page = body.get("next_page") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ErpUnavailable(f"Inventory page {page}: the answer has no 'items' list.")
        if next_page is not None and (isinstance(next_page, bool) or not isinstance(next_page, int)):
            raise ErpUnavailable(f"Inventory page {page}: 'next_page' must be an integer or null.")
        return InventoryPage(items=items, next_page=next_page)

    def order_push(self, *, idempotency_key: str, payload: dict[str, Any]) -> str:
        """POST the order; the ERP answers 201 (created) or 200 (the same key seen before) with its
        id for the order. Returns that id."""
        body = self._request("POST", "/orders", json=payload, headers={"Idempotency-Key": idempotency_key})
        erp_id = body.get("erp_id") if isinstance(body, dict) else None
        if not isinstance(erp_id, str | int) or isinstance(erp_id, bool) or str(erp_id) == "":
            raise ErpUnavailable("Order push: the answer has no 'erp_id'.")
        return str(erp_id)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        request_id = get_request_id()
        if request_id != "-":  # lets the ERP's logs be matched with ours
            kwargs["headers"] = {**kwargs.get("headers", {}), "X-Request-ID": request_id}
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise ErpUnavailable(f"{method} {path}: no answer within {self.timeout} s.") from exc
        except requests.RequestException as exc:
            raise ErpUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status >= 500 or status in RETRYABLE_4XX:
            raise ErpUnavailable(f"{method} {path}: HTTP {status}.", status_code=status)
        if status >= 400:
            raise ErpRejected(f"{method} {path}: HTTP {status}: {response.text[:500]}", status_code=status)
        try:
            return response.json()
        except ValueError as exc:
            raise ErpUnavailable(f"{method} {path}: the answer is not JSON.", status_code=status) from exc
