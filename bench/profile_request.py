#!/usr/bin/env python
"""Where one request's time goes: the shop's hot endpoints under pyinstrument, in process.

    python bench/profile_request.py                       # every endpoint, 300 requests each
    python bench/profile_request.py --endpoint list --requests 1000 --tree

It loads the production settings with the benchmark's environment (bench/run.py), calls Django's
WSGI handler directly, as gunicorn does (every middleware, DRF, throttles, authentication,
serialization, the database and Redis the environment names; not the test client, whose own
bookkeeping would show up), and sums each sampled frame's own time into the buckets of
bench/README.md, "Profile". The server in front (gunicorn or uvicorn) is not in the picture:
`bench/run.py --server` compares those.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# First match wins, so the specific paths come before the general ones.
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("logging", ("/logging/", "core/logging.py", "pythonjsonlogger")),
    ("metrics", ("django_prometheus", "prometheus_client")),
    ("throttling", ("rest_framework/throttling.py", "core/throttling.py")),
    ("cache (Redis)", ("django_redis", "/redis/", "django/core/cache")),
    ("authentication", ("rest_framework_simplejwt", "account/authentication.py", "jwt/")),
    ("queries (ORM + driver)", ("django/db/", "psycopg")),
    ("serialization", ("rest_framework/serializers.py", "rest_framework/fields.py", "/api/serializers.py")),
    ("rendering (JSON)", ("rest_framework/renderers.py", "/json/", "rest_framework/utils/encoders.py")),
    (
        "middleware",
        (
            "django/middleware/",
            "corsheaders",
            "whitenoise",
            "waffle",
            "core/middleware.py",
            "django/contrib/sessions",
            "django/contrib/messages",
            "django/contrib/auth/middleware",
        ),
    ),
    ("URL routing", ("django/urls/",)),
    ("DRF request handling", ("rest_framework/",)),
    ("Django request handling", ("django/",)),
    ("our code", (str(ROOT),)),
]

ENDPOINTS = {
    "health": ("/health/live/", False),
    "list": ("/api/v1/products/?page_size=24", False),
    "detail": ("/api/v1/products/{slug}/", False),
    "search": ("/api/v1/products/?q=jacket&page_size=24", False),
    "facets": ("/api/v1/products/facets/", False),
    "cart": ("/api/v1/cart/", True),
}


def bucket_of(file_path: str) -> str:
    for name, needles in BUCKETS:
        if any(needle in file_path for needle in needles):
            return name
    return "other (Python, libraries)"


def self_times(frame, totals: dict[str, float], parent_path: str = "") -> None:
    """Sum the time spent in each frame itself (pyinstrument's synthetic `[self]` leaves, which
    belong to their parent's file) by bucket."""
    path = frame.file_path or parent_path
    if not frame.children:
        totals[bucket_of(path)] += frame.time
    for child in frame.children:
        self_times(child, totals, path)


def wsgi_get(handler, path: str, headers: dict[str, str]) -> int:
    """One GET through the WSGI handler, body read and closed as a server would; the status."""
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }
    statuses = []
    body = handler(environ, lambda status, response_headers, exc_info=None: statuses.append(status))
    try:
        for _chunk in body:
            pass
    finally:
        body.close()
    return int(statuses[0].split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), action="append")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--cold", action="store_true", help="SHOP_CACHE_TIMEOUT=0: every catalog read hits the database"
    )
    parser.add_argument("--tree", action="store_true", help="also print pyinstrument's call tree")
    args = parser.parse_args()

    from bench.run import server_environment

    os.environ.update(server_environment(cache_timeout=0 if args.cold else None))
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from pyinstrument import Profiler

    from account.models import User
    from account.tokens import tokens_for_user
    from bench.fixtures import buyer_email, users_refresh
    from cart.selectors import cart_for_user
    from cart.services import cart_item_add
    from shop.models import Product, ProductVariant

    handler = WSGIHandler()
    slug = Product.objects.filter(is_active=True).order_by("pk").values_list("slug", flat=True).first()
    users_refresh(count=1)
    customer = User.objects.get(email=buyer_email(0))
    token = tokens_for_user(customer)["access"]
    if cart_for_user(user=customer) is None:  # the cart read profiles a cart of three lines
        for variant_id in ProductVariant.objects.filter(is_active=True, quantity_on_hand__gt=10).values_list(
            "pk", flat=True
        )[:3]:
            cart_item_add(cart=None, user=customer, variant_id=variant_id, quantity=1)
    for name in args.endpoint or list(ENDPOINTS):
        path, needs_login = ENDPOINTS[name]
        path = path.format(slug=slug)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if needs_login else {}
        status = wsgi_get(handler, path, headers)  # warm: imports, caches, connections
        # First without the profiler (which slows Python code more than waits): this process's
        # CPU time per request, the figure that bounds requests/s per core.
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            wsgi_get(handler, path, headers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"\n{name}: unprofiled {wall / args.requests * 1000:.2f} ms per request, "
            f"{cpu / args.requests * 1000:.2f} ms of it CPU in this process"
        )
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.requests):
            wsgi_get(handler, path, headers)
        session = profiler.stop()
        totals: dict[str, float] = defaultdict(float)
        self_times(session.root_frame(), totals)
        spent = sum(totals.values()) or 1.0
        print(f"{name} {path} (HTTP {status}): {spent / args.requests * 1000:.2f} ms per request profiled")
        for bucket, seconds in sorted(totals.items(), key=lambda item: -item[1]):
            print(f"  {bucket:<28} {seconds / args.requests * 1000:6.2f} ms  {seconds / spent:6.1%}")
        if args.tree:
            print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
