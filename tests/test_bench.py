"""bench/run.py: its arithmetic, its limits, and one short real run on loopback."""

import json
import subprocess
import sys

import pytest

from bench import run as bench
from tests.support.parsers import ROOT


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 0.95, 4.0),
        ([float(n) for n in range(1, 101)], 0.95, 95.0),
        ([float(n) for n in range(1, 101)], 0.07, 7.0),  # 100 * 0.07 is 7.000000000000001 in floats
        ([5.0], 0.5, 5.0),
    ],
)
def test_percentile_is_the_nearest_rank(values, fraction, expected):
    assert bench.percentile(values, fraction) == expected


def test_percentile_refuses_nothing_and_bad_fractions():
    with pytest.raises(ValueError):
        bench.percentile([], 0.5)
    with pytest.raises(ValueError):
        bench.percentile([1.0], 0)


def test_placeholders_are_filled_or_reported_missing():
    values = {"product_slug": "blue-shirt"}

    assert bench.fill_placeholders("/api/v1/products/{product_slug}/", values) == "/api/v1/products/blue-shirt/"
    assert bench.fill_placeholders("/api/v1/categories/{category_slug}/", values) is None
    assert bench.fill_placeholders("/api/v1/products/?q=shirt", values) == "/api/v1/products/?q=shirt"


def test_ratios_compare_each_endpoint_with_the_health_endpoint():
    def result(path, rps, p50, p95):
        return bench.EndpointResult(path, path, 10, 0, 1.0, rps, p50, p95, p95, p95)

    health = result("/health/live/", 400.0, 2.0, 4.0)
    products = result("/api/v1/products/", 100.0, 8.0, 20.0)

    bench.add_ratios([health, products], health)

    assert (health.rps_ratio, health.p50_ratio, health.p95_ratio) == (1.0, 1.0, 1.0)
    assert (products.rps_ratio, products.p50_ratio, products.p95_ratio) == (0.25, 4.0, 5.0)


@pytest.mark.parametrize(
    "argv",
    [
        ["--duration", "0"],
        ["--duration", "301"],
        ["--concurrency", "0"],
        ["--concurrency", "65"],
        ["--max-requests", "0"],
        ["--endpoints", "http://example.com/"],
    ],
)
def test_runs_are_bounded_and_local(argv):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)


def test_server_listens_on_loopback_only():
    for server in ("asgi", "wsgi"):
        command = bench.server_command(server=server, port=8123, workers=1)
        bound = " ".join(command)
        assert "127.0.0.1" in bound and "0.0.0.0" not in bound


def test_benchmark_environment_turns_debug_and_throttles_off():
    env = bench.server_environment(settings_module="ecommerce_api.settings.local")

    assert env["DEBUG"] == "false"
    assert env["DJANGO_SETTINGS_MODULE"] == "ecommerce_api.settings.local"
    assert env["GLOBAL_ANON_THROTTLE_RATE"].endswith("/minute")
    assert int(env["GLOBAL_ANON_THROTTLE_RATE"].split("/")[0]) >= 10**6


def test_a_short_run_measures_health_up_to_the_cap_and_skips_a_missing_endpoint(tmp_path):
    out = tmp_path / "bench.json"

    result = subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--duration",
            "20",
            "--concurrency",
            "2",
            "--max-requests",
            "30",
            "--endpoints",
            "/health/live/,/api/v1/no-such-endpoint/",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    (health,) = report["results"]
    assert health["path"] == "/health/live/"
    assert health["requests"] == 30  # the request cap ended the window, long before 20 s
    assert health["seconds"] < 15
    assert health["errors"] == 0
    assert health["status_counts"] == {"200": health["requests"]}
    assert 0 < health["p50_ms"] <= health["p95_ms"] <= health["p99_ms"] <= health["max_ms"]
    assert health["rps_ratio"] == 1.0
    assert report["skipped"] == [
        {"path": "/api/v1/no-such-endpoint/", "reason": bench.preflight_reason_for_status(404)}
    ]
    assert "skipped /api/v1/no-such-endpoint/" in result.stdout
