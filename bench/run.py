#!/usr/bin/env python
"""HTTP benchmark of the ASGI app on loopback: throughput and latency per endpoint, each one as a
ratio against /health/live/ measured in the same run (speed goals are ratios, not absolute times).

    python bench/run.py                                 # defaults: 5 s per endpoint, 4 workers
    python bench/run.py --seed --products 200           # migrate and load a demo catalog first
    python bench/run.py --endpoints /api/v1/products/,/api/v1/products/{product_slug}/ --json out.json

It starts uvicorn serving ecommerce_api.asgi:application on a free 127.0.0.1 port, against the
database the environment configures (DATABASE_URL, else SQLite), and stops it afterwards. Each
endpoint runs for --duration seconds or --max-requests requests, whichever comes first. An
endpoint that answers 404 (its app is not built yet) or cannot be filled in is skipped, with the
reason printed. See bench/README.md.
"""

from __future__ import annotations

import argparse
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only: this tool never aims at another machine
HEALTH_PATH = "/health/live/"
DEFAULT_ENDPOINTS = [
    "/api/v1/products/",
    "/api/v1/categories/",
    "/api/v1/products/{product_slug}/",
    "/api/v1/categories/{category_slug}/",
    "/api/v1/products/?q=shirt",
]
MAX_DURATION_SECONDS = 300
MAX_CONCURRENCY = 64
STARTUP_TIMEOUT_SECONDS = 60


@dataclass
class EndpointResult:
    path: str
    url_path: str
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    status_counts: dict[str, int] = field(default_factory=dict)
    rps_ratio: float | None = None  # endpoint throughput / health throughput
    p50_ratio: float | None = None  # endpoint p50 / health p50
    p95_ratio: float | None = None


@dataclass
class Skipped:
    path: str
    reason: str


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0 < fraction <= 1)."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    # Rounded first, so 0.07 * 100 (7.000000000000001) is rank 7, not 8.
    rank = max(1, math.ceil(round(len(sorted_values) * fraction, 9)))
    return sorted_values[rank - 1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_environment(*, settings_module: str) -> dict[str, str]:
    """The app's environment: the caller's, with what a fair measurement needs on top."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    # DEBUG records every SQL query in memory and renders debug pages: never measure with it.
    env["DEBUG"] = "false"
    # The benchmark is one client hammering the API; throttles would turn it into a 429 test.
    env["GLOBAL_ANON_THROTTLE_RATE"] = "100000000/minute"
    env["GLOBAL_USER_THROTTLE_RATE"] = "100000000/minute"
    env.setdefault("LOG_LEVEL", "WARNING")
    env.setdefault("LOG_FORMAT", "text")
    if settings_module.endswith(".production"):
        env.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
        env["ALLOWED_HOSTS"] = HOST
        env["SECURE_SSL_REDIRECT"] = "false"
    return env


def run_manage(args: list[str], *, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def server_command(*, server: str, port: int, workers: int) -> list[str]:
    if server == "wsgi":
        # For comparison only: plain HTTP through gunicorn's threaded workers (no websockets).
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "ecommerce_api.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "--log-level",
            "warning",
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "ecommerce_api.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--lifespan",
        "off",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def start_server(*, server: str, port: int, workers: int, env: dict[str, str], log_file) -> subprocess.Popen:
    return subprocess.Popen(
        server_command(server=server, port=port, workers=workers),
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def wait_until_live(base_url: str, process: subprocess.Popen, *, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before answering")
        try:
            if requests.get(base_url + HEALTH_PATH, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {HEALTH_PATH} within {timeout:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


PLACEHOLDER_SOURCES = {"product_slug": "/api/v1/products/", "category_slug": "/api/v1/categories/"}


def discover_placeholders(base_url: str, paths: list[str]) -> dict[str, str]:
    """Slugs for {product_slug} and {category_slug}, taken from the first page of each list."""
    found: dict[str, str] = {}
    for name, path in PLACEHOLDER_SOURCES.items():
        if not any("{" + name + "}" in endpoint for endpoint in paths):
            continue
        try:
            response = requests.get(base_url + path, timeout=10)
        except requests.RequestException:
            continue
        if response.status_code != 200:
            continue
        body = response.json()
        items = body.get("results", body) if isinstance(body, dict) else body
        if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("slug"):
            found[name] = items[0]["slug"]
    return found


def fill_placeholders(path: str, values: dict[str, str]) -> str | None:
    try:
        return path.format(**values)
    except (KeyError, IndexError):
        return None


def preflight_reason_for_status(status: int) -> str | None:
    """Why an endpoint answering `status` to a first GET is not measured (None: it is)."""
    if status == 404:
        return "404: the route or its data is not there (app not built yet, or no data: try --seed)"
    if status >= 400:
        return f"answers {status}; a benchmark of an error page says nothing (try --seed)"
    return None


def preflight(base_url: str, url_path: str) -> str | None:
    """None when the endpoint is worth measuring, else the reason to skip it."""
    try:
        response = requests.get(base_url + url_path, timeout=30)
    except requests.RequestException as exc:
        return f"request failed: {exc}"
    return preflight_reason_for_status(response.status_code)


def measure(
    base_url: str, path: str, url_path: str, *, duration: float, concurrency: int, max_requests: int
) -> EndpointResult:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    issued = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        nonlocal errors, issued
        session = requests.Session()
        own_latencies: list[float] = []
        own_statuses: dict[str, int] = {}
        own_errors = 0
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if issued >= max_requests:
                        break
                    issued += 1
                started = time.perf_counter()
                try:
                    response = session.get(base_url + url_path, timeout=30)
                    response.content  # noqa: B018  (read the whole body, as a client would)
                except requests.RequestException:
                    own_errors += 1
                    continue
                own_latencies.append(time.perf_counter() - started)
                key = str(response.status_code)
                own_statuses[key] = own_statuses.get(key, 0) + 1
                if response.status_code >= 400:
                    own_errors += 1
        finally:
            session.close()
            with lock:
                latencies.extend(own_latencies)
                errors += own_errors
                for key, count in own_statuses.items():
                    statuses[key] = statuses.get(key, 0) + count

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    ordered = sorted(latencies)
    if not ordered:
        raise RuntimeError(f"{url_path}: no request completed")
    return EndpointResult(
        path=path,
        url_path=url_path,
        requests=len(ordered),
        errors=errors,
        seconds=round(elapsed, 3),
        rps=round(len(ordered) / elapsed, 1),
        p50_ms=round(percentile(ordered, 0.50) * 1000, 2),
        p95_ms=round(percentile(ordered, 0.95) * 1000, 2),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 2),
        max_ms=round(ordered[-1] * 1000, 2),
        status_counts=statuses,
    )


def add_ratios(results: list[EndpointResult], health: EndpointResult) -> None:
    for result in results:
        result.rps_ratio = round(result.rps / health.rps, 3) if health.rps else None
        result.p50_ratio = round(result.p50_ms / health.p50_ms, 2) if health.p50_ms else None
        result.p95_ratio = round(result.p95_ms / health.p95_ms, 2) if health.p95_ms else None


def format_table(results: list[EndpointResult]) -> str:
    header = f"{'endpoint':<44} {'reqs':>7} {'err':>5} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'rps/health':>10} {'p50 x':>7} {'p95 x':>7}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.url_path[:44]:<44} {r.requests:>7} {r.errors:>5} {r.rps:>8.1f} {r.p50_ms:>8.2f} {r.p95_ms:>8.2f} "
            f"{r.rps_ratio if r.rps_ratio is not None else '-':>10} {r.p50_ratio if r.p50_ratio is not None else '-':>7} "
            f"{r.p95_ratio if r.p95_ratio is not None else '-':>7}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="HTTP benchmark of the ASGI app on loopback (ratios against /health/live/)."
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per endpoint (default 5, max 300)")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent client workers (default 4, max 64)")
    parser.add_argument(
        "--max-requests", type=int, default=20000, help="request cap per endpoint, on top of --duration"
    )
    parser.add_argument(
        "--endpoints",
        default=",".join(DEFAULT_ENDPOINTS),
        help="comma-separated paths; {product_slug} and {category_slug} are filled from the lists",
    )
    parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument(
        "--server",
        choices=["asgi", "wsgi"],
        default="asgi",
        help="asgi: uvicorn, as deployed (default); wsgi: gunicorn threads, to compare the ASGI overhead",
    )
    parser.add_argument(
        "--settings",
        default="ecommerce_api.settings.local",
        help="settings module of the server (DEBUG is forced off; default ecommerce_api.settings.local)",
    )
    parser.add_argument("--seed", action="store_true", help="migrate and run seed_sample_data before measuring")
    parser.add_argument("--products", type=int, default=100, help="products to seed with --seed (default 100)")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_SECONDS:
        parser.error(f"--duration must be in (0, {MAX_DURATION_SECONDS}]")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be in [1, {MAX_CONCURRENCY}]")
    if args.max_requests < 1:
        parser.error("--max-requests must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.endpoint_list = [path.strip() for path in args.endpoints.split(",") if path.strip()]
    if any(not path.startswith("/") for path in args.endpoint_list):
        parser.error("--endpoints are paths on this server, starting with /")
    return args


def run(args: argparse.Namespace) -> dict:
    env = server_environment(settings_module=args.settings)
    if args.seed:
        run_manage(["migrate", "--noinput"], env=env)
        run_manage(["seed_sample_data", "--products", str(args.products), "--no-progress"], env=env)

    port = free_port()
    base_url = f"http://{HOST}:{port}"
    log_path = Path(tempfile.gettempdir()) / f"ecommerce-bench-server-{port}.log"
    log_file = log_path.open("w")
    process = start_server(server=args.server, port=port, workers=args.workers, env=env, log_file=log_file)
    try:
        wait_until_live(base_url, process)
        placeholders = discover_placeholders(base_url, args.endpoint_list)
        budget = {"duration": args.duration, "concurrency": args.concurrency, "max_requests": args.max_requests}

        server_name = "uvicorn (ASGI)" if args.server == "asgi" else "gunicorn (WSGI)"
        print(
            f"server: {server_name} x{args.workers} on {base_url} ({args.settings}); client: {args.concurrency} workers"
        )
        health = measure(base_url, HEALTH_PATH, HEALTH_PATH, **budget)
        results: list[EndpointResult] = [health]
        skipped: list[Skipped] = []
        for path in args.endpoint_list:
            if path == HEALTH_PATH:
                continue
            url_path = fill_placeholders(path, placeholders)
            if url_path is None:
                skipped.append(Skipped(path, "no slug to fill in: the list endpoint returned no items"))
                continue
            reason = preflight(base_url, url_path)
            if reason:
                skipped.append(Skipped(path, reason))
                continue
            results.append(measure(base_url, path, url_path, **budget))
    finally:
        stop_server(process)
        log_file.close()

    add_ratios(results, health)
    print(format_table(results))
    for item in skipped:
        print(f"skipped {item.path}: {item.reason}")
    if log_path.stat().st_size:
        print(f"server output (errors, warnings): {log_path}")
    report = {
        "config": {
            "duration_s": args.duration,
            "concurrency": args.concurrency,
            "max_requests": args.max_requests,
            "server": args.server,
            "server_workers": args.workers,
            "settings": args.settings,
            "database": "postgresql" if env.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
            "seeded": args.seed,
        },
        "environment": {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "results": [asdict(result) for result in results],
        "skipped": [asdict(item) for item in skipped],
    }
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json_path}")
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
