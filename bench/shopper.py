"""Customers driving the API over HTTP: log in, fill a cart, place and pay orders.

Order placement is measured as latency at a fixed number of buyers, not as throughput, so plain
Python threads with `requests` are enough here (wrk measures the read endpoints).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

API = "/api/v1"
SHIPPING_COUNTRY = "US"
SHIPPING_ADDRESS = {
    "first_name": "Bench",
    "last_name": "Buyer",
    "line1": "1 Load Test Way",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": SHIPPING_COUNTRY,
}
TIMEOUT_SECONDS = 30


class ShopperError(RuntimeError):
    pass


def _expect(response: requests.Response, *statuses: int) -> dict:
    if response.status_code not in statuses:
        raise ShopperError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}")
    return response.json() if response.content else {}


class Shopper:
    """One logged-in customer with a keep-alive session."""

    def __init__(self, base_url: str, *, email: str, password: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        body = _expect(
            self.session.post(
                f"{base_url}{API}/authentication/login/",
                json={"email": email, "password": password},
                timeout=TIMEOUT_SECONDS,
            ),
            200,
        )
        self.token = body["tokens"]["access"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self._shipping_method_id: str | None = None

    def _url(self, path: str) -> str:
        return f"{self.base_url}{API}/{path}"

    def cart_clear(self) -> None:
        _expect(self.session.delete(self._url("cart/"), timeout=TIMEOUT_SECONDS), 200, 204, 404)

    def cart_add(self, variant_id: int, quantity: int = 1) -> dict:
        response = self.session.post(
            self._url("cart/items/"), json={"variant_id": variant_id, "quantity": quantity}, timeout=TIMEOUT_SECONDS
        )
        return _expect(response, 200, 201)

    def cart_fill(self, variant_ids: list[int]) -> None:
        """Exactly one line per variant."""
        self.cart_clear()
        for variant_id in variant_ids:
            self.cart_add(variant_id)

    def shipping_method_id(self) -> str:
        if self._shipping_method_id is None:
            response = self.session.get(
                self._url("shipping/methods/"), params={"country": SHIPPING_COUNTRY}, timeout=TIMEOUT_SECONDS
            )
            body = _expect(response, 200)
            methods = body.get("results", body) if isinstance(body, dict) else body
            if not methods:
                raise ShopperError(f"no shipping method for {SHIPPING_COUNTRY}: seed the shop first (--seed)")
            self._shipping_method_id = methods[0]["id"]
        return self._shipping_method_id

    def order_place(self) -> requests.Response:
        payload = {"shipping_address": SHIPPING_ADDRESS, "shipping_method_id": self.shipping_method_id()}
        return self.session.post(
            self._url("orders/"),
            json=payload,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=TIMEOUT_SECONDS,
        )

    def order_pay(self, order_id: str) -> requests.Response:
        return self.session.post(
            self._url("payments/"),
            json={"order_id": order_id},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=TIMEOUT_SECONDS,
        )

    def buy_once(self, variant_id: int) -> tuple[float, bool]:
        """Cart one item, place the order (timed), pay it. (seconds of the POST, whether all of it worked)."""
        self.cart_add(variant_id)
        started = time.perf_counter()
        placed = self.order_place()
        elapsed = time.perf_counter() - started
        if placed.status_code != 201:
            self.cart_clear()  # start the next round from one line again
            return elapsed, False
        paid = self.order_pay(placed.json()["id"])
        return elapsed, paid.status_code in (200, 201)


@dataclass
class BuyerStats:
    latencies: list[float] = field(default_factory=list)
    orders: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if ok:
                self.orders += 1
            else:
                self.errors += 1

    def record_failure(self) -> None:
        with self.lock:
            self.errors += 1


def buy_until(shopper: Shopper, variant_id: int, *, stop: threading.Event, stats: BuyerStats, pause: float = 0) -> None:
    """Place and pay orders until `stop`, waiting `pause` seconds between two."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            stats.record(*shopper.buy_once(variant_id))
        except (requests.RequestException, ShopperError):
            stats.record_failure()
        if pause:
            stop.wait(max(0.0, pause - (time.monotonic() - started)))


def buyers_run(shoppers: list[Shopper], variant_ids: list[int], *, seconds: float) -> tuple[BuyerStats, float]:
    """Every shopper buying its own variant (no row-lock queue on one SKU) for `seconds`."""
    for shopper in shoppers:
        shopper.cart_clear()
        shopper.shipping_method_id()
    stats, stop = BuyerStats(), threading.Event()
    threads = [
        threading.Thread(target=buy_until, args=(shopper, variant_id), kwargs={"stop": stop, "stats": stats})
        for shopper, variant_id in zip(shoppers, variant_ids, strict=True)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT_SECONDS * 3)
    return stats, time.perf_counter() - started


class BackgroundBuyer:
    """One order a second, placed and paid, while something else is measured."""

    def __init__(self, shopper: Shopper, variant_id: int, *, interval: float = 1.0) -> None:
        self.stats, self._stop = BuyerStats(), threading.Event()
        shopper.cart_clear()
        shopper.shipping_method_id()
        self._thread = threading.Thread(
            target=buy_until,
            args=(shopper, variant_id),
            kwargs={"stop": self._stop, "stats": self.stats, "pause": interval},
            daemon=True,
        )

    def __enter__(self) -> BackgroundBuyer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_SECONDS * 3)
