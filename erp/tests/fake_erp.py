"""A stand-in ERP served over real HTTP (pytest-httpserver), speaking the contract of docs/ERP.md.

It keeps state like the real one: an inventory paged by (updated_at, sku), and orders deduplicated
by Idempotency-Key. Failures are scripted per endpoint with `fail_next("inventory", 500, "timeout")`:
an int answers with that status without doing the work; "timeout" does the work and then answers
too late for the client (the answer is lost, the effect is not); "bad_json" answers 200 with HTML.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from datetime import datetime

from django.utils.dateparse import parse_datetime
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "erp-test-key"
TIMEOUT_SECONDS = 0.5


class FakeErp:
    def __init__(self, server: HTTPServer, *, page_size: int = 2) -> None:
        self.server = server
        self.page_size = page_size
        self.inventory: list[dict] = []
        self.orders: dict[str, dict] = {}  # Idempotency-Key -> {"erp_id", "body"}
        self.inventory_requests: list[dict[str, str]] = []
        self.order_requests: list[dict] = []  # {"headers", "body"} of every POST /orders
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()
        server.expect_request("/erp/inventory", method="GET").respond_with_handler(self._inventory)
        server.expect_request("/erp/orders", method="POST").respond_with_handler(self._orders)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/erp")

    def add_item(self, sku: str, quantity: int, updated_at: str = "2025-05-01T10:00:00+00:00", **extra) -> None:
        self.inventory.append({"sku": sku, "quantity_on_hand": quantity, "updated_at": updated_at, **extra})

    def fail_next(self, endpoint: str, *failures: int | str) -> None:
        self._failures[endpoint].extend(failures)

    # --- handlers -------------------------------------------------------------------------------

    def _take_failure(self, endpoint: str) -> int | str | None:
        with self._lock:
            queue = self._failures[endpoint]
            return queue.popleft() if queue else None

    def _inventory(self, request: Request) -> Response:
        self.inventory_requests.append(dict(request.args))
        failure = self._take_failure("inventory")
        if isinstance(failure, int):
            return Response("upstream trouble", status=failure)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return Response("unauthorized", status=401)
        if failure == "bad_json":
            return Response("<html>maintenance</html>", status=200, content_type="text/html")
        since = request.args.get("updated_since")
        since_at = parse_datetime(since) if since else None
        items = [i for i in self.inventory if since_at is None or _at(i) is None or _at(i) >= since_at]
        items.sort(key=lambda i: (str(i.get("updated_at")), str(i.get("sku"))))
        page = int(request.args.get("page", "1"))
        start = (page - 1) * self.page_size
        chunk = items[start : start + self.page_size]
        next_page = page + 1 if start + self.page_size < len(items) else None
        if failure == "timeout":
            time.sleep(TIMEOUT_SECONDS + 0.3)
        return _json({"items": chunk, "next_page": next_page}, 200)

    def _orders(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        self.order_requests.append({"headers": dict(request.headers), "body": body})
        failure = self._take_failure("orders")
        if isinstance(failure, int):
            return Response("upstream trouble", status=failure)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return Response("unauthorized", status=401)
        key = request.headers.get("Idempotency-Key")
        if not key or not isinstance(body, dict):
            return _json({"detail": "Idempotency-Key and a JSON body are required"}, 400)
        with self._lock:
            known = self.orders.get(key)
            if known is not None and known["body"] != body:
                return _json({"detail": "Idempotency-Key reused with another body"}, 422)
            if known is None:
                known = self.orders[key] = {"erp_id": f"SO-{len(self.orders) + 1:05d}", "body": body}
                status = 201
            else:
                status = 200
        if failure == "timeout":
            time.sleep(TIMEOUT_SECONDS + 0.3)
        if failure == "bad_json":
            return Response("<html>oops</html>", status=200, content_type="text/html")
        return _json({"erp_id": known["erp_id"]}, status)


def _at(item: dict) -> datetime | None:
    value = item.get("updated_at")
    return parse_datetime(value) if isinstance(value, str) else None


def _json(data: dict, status: int) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")
