#!/usr/bin/env python
"""HTTP benchmark of the shop with wrk, every figure also a ratio to a bare Django view.

    make bench                                     # = python bench/run.py --seed (10,000 products)
    python bench/run.py --seed --products 2000 --duration 5
    python bench/run.py --server asgi --workers 2  # the same scenarios under uvicorn, to compare

It serves the shop (production settings, PostgreSQL and Redis from DATABASE_URL / REDIS_URL) and a
bare Django project (bench/bare/: no apps, no middleware, one JsonResponse) with the same server
command on two free 127.0.0.1 ports, drives them with `wrk -t2 -c8 --latency` after a 2 s warm-up,
places orders with 8 concurrent buyers, and measures the cached product list again while one order
a second is placed and paid. Catalog reads are measured cached (the shop's settings) and cold (a
second shop server with SHOP_CACHE_TIMEOUT=0). Results: a table on stdout, and latest.json,
latest.md and latest.png in --out-dir. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(ROOT))

from bench import report, shopper, wrk  # noqa: E402

HOST = "127.0.0.1"  # loopback only: this tool never aims at another machine
HEALTH_PATH = "/health/live/"
BARE_PATH = "/"
LIST_PATH = "/api/v1/products/?page_size=24"
SEARCH_PATH = "/api/v1/products/?q=jacket&page_size=24"
FACETS_PATH = "/api/v1/products/facets/"
DETAIL_PATH = "/api/v1/products/{slug}/"
CART_PATH = "/api/v1/cart/"
CART_LINES = 3
BUYERS = 8
ORDERS_PER_SECOND_WHILE_BROWSING = 1.0

SERVERS = ("asgi", "wsgi", "wsgi-sync")
# What docker/entrypoint.sh `web` serves HTTP with; keep the two in step when the entrypoint moves.
DEFAULT_SERVER = "wsgi"
DEFAULT_WORKERS = 2
DEFAULT_PRODUCTS = 10_000
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/ecommerce_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
SETTINGS_MODULE = "ecommerce_api.settings.production"
MAX_DURATION_SECONDS = 300
STARTUP_TIMEOUT_SECONDS = 60


# --- servers ------------------------------------------------------------------------------------


def server_environment(*, cache_timeout: int | None = None) -> dict[str, str]:
    """What a deployment would set, plus what loopback benchmarking needs (no HTTPS, no 429s)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=f"{HOST},localhost",
        DEBUG="false",
        # The benchmark is a demo shop: orders are paid by the dummy gateway, which production
        # settings refuse unless told so (core/checks.py).
        PAYMENT_GATEWAY="dummy",
        ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION="true",
        TRUSTED_PROXIES="",
        # Plain HTTP on loopback: a redirect to https would measure 301s.
        SECURE_SSL_REDIRECT="false",
        # One client address hammering the API: real rates would turn it into a 429 test.
        GLOBAL_ANON_THROTTLE_RATE="100000000/minute",
        GLOBAL_USER_THROTTLE_RATE="100000000/minute",
        LOGIN_THROTTLE_RATE="100000/minute",
        LOG_LEVEL="WARNING",
        LOG_FORMAT="json",  # as deployed: the level filters lines out before any formatting
    )
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    # As deployed, jobs (order emails, ERP pushes) go to a broker for the worker, not inline in the
    # request (without a broker they run eagerly). No worker runs: the web tier is measured alone,
    # and the queued jobs are dropped with the bench's Redis database.
    env.setdefault("CELERY_BROKER_URL", env["REDIS_URL"])
    env["BARE_SECRET_KEY"] = env["SECRET_KEY"]
    if cache_timeout is not None:
        env["SHOP_CACHE_TIMEOUT"] = str(cache_timeout)
    return env


def server_command(*, server: str, project: str, port: int, workers: int) -> list[str]:
    """The same command for the shop (`ecommerce_api`) and the bare project (`bench.bare`)."""
    bind = f"{HOST}:{port}"
    if server == "asgi":
        # docker/entrypoint.sh `web`, bound to loopback.
        return [
            sys.executable,
            "-m",
            "uvicorn",
            f"{project}.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--lifespan",
            "off",
            "--timeout-keep-alive",
            "75",
            "--no-proxy-headers",
            "--no-server-header",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    gunicorn = [sys.executable, "-m", "gunicorn", f"{project}.wsgi:application", "--bind", bind]
    gunicorn += ["--workers", str(workers), "--log-level", "warning"]
    if server == "wsgi":
        return [*gunicorn, "-k", "gthread", "--threads", "4", "--keep-alive", "75"]
    if server == "wsgi-sync":
        return [*gunicorn, "-k", "sync"]
    raise ValueError(f"unknown server {server!r}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, *, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before answering {url}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def serving(*, server: str, project: str, workers: int, env: dict[str, str], ready_path: str) -> Iterator[str]:
    """A server on a free loopback port for the block; yields its base URL."""
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"bench-{project.replace('.', '-')}-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            server_command(server=server, project=project, port=port, workers=workers),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://{HOST}:{port}"
        try:
            wait_until_answering(base_url + ready_path, process)
            yield base_url
        finally:
            stop(process)
    if log_path.stat().st_size:
        print(f"  ({project} server output: {log_path})")


# --- database -----------------------------------------------------------------------------------


def run_manage(args: list[str], *, env: dict[str, str], capture: bool = False) -> str:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=capture, text=True
    )
    return completed.stdout or ""


def database_create_if_missing(database_url: str) -> None:
    """CREATE DATABASE for a PostgreSQL URL whose database does not exist yet."""
    parts = urlsplit(database_url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def product_count(env: dict[str, str]) -> int:
    output = run_manage(
        ["shell", "-c", "from shop.models import Product; print(Product.objects.count())"], env=env, capture=True
    )
    return int(output.strip().splitlines()[-1])


def prepare_database(*, env: dict[str, str], products: int) -> None:
    """Migrate, and seed unless the catalog already holds `products` products."""
    database_create_if_missing(env["DATABASE_URL"])
    run_manage(["migrate", "--noinput", "-v", "0"], env=env)
    existing = product_count(env)
    if existing >= products:
        print(f"catalog: {existing} products, seeding skipped")
        return
    print(f"catalog: {existing} products, seeding {products}")
    run_manage(["seed_sample_data", "--products", str(products), "--no-progress"], env=env)


class ConnectionSampler:
    """Peak number of PostgreSQL connections to the shop's database while the block runs.

    Persistent connections (CONN_MAX_AGE) are per thread; under ASGI each request's sync work may
    run on another thread, so this is the figure that meets PostgreSQL's max_connections first.
    """

    INTERVAL_SECONDS = 0.25

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.enabled = parts.scheme.startswith("postgres")
        self._url, self._name = parts._replace(path="/postgres").geturl(), parts.path.lstrip("/")
        self.peak: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self._url, autocommit=True) as connection:
            while not self._stop.is_set():
                query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                (count,) = connection.execute(query, [self._name]).fetchone()
                self.peak = max(self.peak or 0, count)
                self._stop.wait(self.INTERVAL_SECONDS)

    def __enter__(self) -> ConnectionSampler:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join(timeout=5)


def make_fixtures(*, env: dict[str, str], users: int, variants: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "fixtures.json"
        args = [sys.executable, "-m", "bench.fixtures", "--users", str(users), "--variants", str(variants)]
        subprocess.run([*args, "--out", str(out)], cwd=ROOT, env=env, check=True)
        return json.loads(out.read_text())


# --- scenarios ----------------------------------------------------------------------------------


def from_wrk(name: str, label: str, path: str, measured: wrk.WrkResult, **extra) -> report.Result:
    return report.Result(
        name=name,
        label=label,
        path=path,
        tool="wrk",
        rps=measured.rps,
        requests=measured.requests,
        errors=measured.errors,
        seconds=measured.seconds,
        p50_ms=measured.p50_ms,
        p90_ms=measured.p90_ms,
        p99_ms=measured.p99_ms,
        extra={"non_2xx": measured.non_2xx, "socket_errors": measured.socket_errors, **extra},
    )


def measure(
    name: str, label: str, base_url: str, path: str, *, duration: float, headers: dict[str, str] | None = None
) -> report.Result:
    """One wrk scenario, after checking the page answers 200 (a benchmark of an error says nothing)."""
    response = requests.get(base_url + path, headers=headers, timeout=60)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answers {response.status_code}: {response.text[:200]}")
    print(f"  {label} ...", flush=True)
    return from_wrk(name, label, path, wrk.run(base_url + path, duration=duration, headers=headers))


def nearest_rank(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty list (0 < fraction <= 1)."""
    if not sorted_values or not 0 < fraction <= 1:
        raise ValueError("need values and a fraction in (0, 1]")
    # Rounded first, so 0.07 * 100 (7.000000000000001 in floats) is rank 7, not 8.
    rank = max(1, math.ceil(round(len(sorted_values) * fraction, 9)))
    return sorted_values[rank - 1]


def from_buyers(stats: shopper.BuyerStats, seconds: float) -> report.Result:
    ordered = sorted(stats.latencies)
    percentile = {p: round(nearest_rank(ordered, p / 100) * 1000, 2) if ordered else None for p in (50, 90, 95, 99)}
    return report.Result(
        name="orders",
        label=f"order placement, {BUYERS} buyers",
        path="POST /api/v1/orders/",
        tool="python-threads",
        rps=round(stats.orders / seconds, 2),
        requests=len(ordered),
        errors=stats.errors,
        seconds=round(seconds, 2),
        p50_ms=percentile[50],
        p90_ms=percentile[90],
        p95_ms=percentile[95],
        p99_ms=percentile[99],
        extra={"buyers": BUYERS, "orders_paid": stats.orders},
    )


def measure_orders(shoppers: list[shopper.Shopper], variant_ids: list[int], *, duration: float) -> report.Result:
    print(f"  order placement, {BUYERS} buyers ...", flush=True)
    stats, seconds = shopper.buyers_run(shoppers, variant_ids, seconds=duration)
    return from_buyers(stats, seconds)


def measure_mixed(
    base_url: str, buyer: shopper.Shopper, variant_id: int, *, duration: float, quiet: report.Result
) -> report.Result:
    """The cached list while orders flow: each one moves stock, which must not empty the catalog cache."""
    print("  product list (cached) while orders flow ...", flush=True)
    with shopper.BackgroundBuyer(buyer, variant_id, interval=1 / ORDERS_PER_SECOND_WHILE_BROWSING) as background:
        measured = wrk.run(base_url + LIST_PATH, duration=duration)
    return from_wrk(
        "mixed",
        "product list 24, cached, orders flowing",
        LIST_PATH,
        measured,
        ratio_to_quiet=round(measured.rps / quiet.rps, 4) if quiet.rps else None,
        background_orders_paid=background.stats.orders,
        background_errors=background.stats.errors,
    )


def first_product_slug(base_url: str) -> str:
    response = requests.get(base_url + LIST_PATH, timeout=60)
    results = response.json().get("results") if response.status_code == 200 else None
    if not results:
        raise RuntimeError("the product list is empty: run with --seed")
    return results[0]["slug"]


def sampled(database_url: str, take: Callable[[], report.Result]) -> report.Result:
    """`take()`'s result, with the peak of database connections seen while it ran."""
    with ConnectionSampler(database_url) as sampler:
        result = take()
    result.extra["db_connections_peak"] = sampler.peak
    return result


def run_scenarios(args: argparse.Namespace) -> list[report.Result]:
    env = server_environment()
    if args.seed:
        prepare_database(env=env, products=args.products)
    # Buyers 0..7 each order their own variant; buyer 8 orders while browsing is measured; buyer 9
    # owns the cart that is read (its lines reuse the first variants: it never orders).
    fixtures = make_fixtures(env=env, users=BUYERS + 2, variants=BUYERS + 1)
    users, variant_ids = fixtures["users"], fixtures["variant_ids"]
    common = {"server": args.server, "workers": args.workers}
    duration = args.duration
    results: list[report.Result] = []

    db = env["DATABASE_URL"]
    print(f"server: {args.server} x{args.workers}; wrk -t{wrk.THREADS} -c{wrk.CONNECTIONS} -d{duration:g}s")
    with serving(project="bench.bare", env=env, ready_path=BARE_PATH, **common) as bare_url:
        results.append(measure(report.BARE, "bare Django JsonResponse", bare_url, BARE_PATH, duration=duration))

    with serving(project="ecommerce_api", env=env, ready_path=HEALTH_PATH, **common) as base_url:
        results.append(
            sampled(db, lambda: measure("health", "/health/live/", base_url, HEALTH_PATH, duration=duration))
        )
        quiet = sampled(
            db, lambda: measure("list_cached", "product list 24, cached", base_url, LIST_PATH, duration=duration)
        )
        results.append(quiet)

        reader = shopper.Shopper(base_url, **users[BUYERS + 1])
        reader.cart_fill(variant_ids[:CART_LINES])
        auth = {"Authorization": f"Bearer {reader.token}"}
        cart_label = f"cart read, {CART_LINES} lines"
        results.append(
            sampled(db, lambda: measure("cart", cart_label, base_url, CART_PATH, duration=duration, headers=auth))
        )

        buyers = [shopper.Shopper(base_url, **user) for user in users[:BUYERS]]
        results.append(sampled(db, lambda: measure_orders(buyers, variant_ids[:BUYERS], duration=duration)))
        background = shopper.Shopper(base_url, **users[BUYERS])
        results.append(
            sampled(
                db,
                lambda: measure_mixed(base_url, background, variant_ids[BUYERS], duration=duration, quiet=quiet),
            )
        )

    cold_env = server_environment(cache_timeout=0)
    with serving(project="ecommerce_api", env=cold_env, ready_path=HEALTH_PATH, **common) as cold_url:
        detail = DETAIL_PATH.format(slug=first_product_slug(cold_url))
        for name, label, path in [
            ("list_cold", "product list 24, cold", LIST_PATH),
            ("detail_cold", "product detail, cold", detail),
            ("search_cold", "search q=jacket, cold", SEARCH_PATH),
            ("facets_cold", "facets, cold", FACETS_PATH),
        ]:
            results.append(sampled(db, lambda: measure(name, label, cold_url, path, duration=duration)))  # noqa: B023
    report.add_ratios(results)
    return results


# --- command line -------------------------------------------------------------------------------


def environment_summary() -> dict:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("\n", 1)[0].strip(),
        "commit": commit.stdout.strip() or None,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="HTTP benchmark of the shop with wrk, as ratios to a bare Django view."
    )
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default=DEFAULT_SERVER,
        help=f"asgi: uvicorn; wsgi: gunicorn gthread; wsgi-sync: gunicorn sync (default {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"server processes (default {DEFAULT_WORKERS})"
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per scenario after the warm-up (default 10)"
    )
    parser.add_argument("--seed", action="store_true", help="create the database if missing, migrate, seed the catalog")
    parser.add_argument(
        "--products", type=int, default=DEFAULT_PRODUCTS, help=f"products --seed ensures (default {DEFAULT_PRODUCTS})"
    )
    parser.add_argument(
        "--out-dir", type=Path, default=ROOT / "bench" / "results", help="where latest.json/.md/.png go"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= MAX_DURATION_SECONDS:
        parser.error(f"--duration must be in [1, {MAX_DURATION_SECONDS}]")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.products < 1:
        parser.error("--products must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk.ensure_installed()
        results = run_scenarios(args)
    except (RuntimeError, shopper.ShopperError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    config = {
        "server": args.server,
        "workers": args.workers,
        "duration_s": args.duration,
        "products": args.products,
        "settings": SETTINGS_MODULE,
        "wrk": {"threads": wrk.THREADS, "connections": wrk.CONNECTIONS, "warmup_s": wrk.WARMUP_SECONDS},
        "buyers": BUYERS,
    }
    print()
    print(report.table(results))
    for path in report.write(args.out_dir, config=config, environment=environment_summary(), results=results):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
