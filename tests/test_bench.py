"""bench/: reading wrk's report, the results and their files, the servers' settings, the bare project."""

import json
import os
import subprocess
import sys

import pytest

from bench import report, shopper, wrk
from bench import run as bench
from tests.support.parsers import ROOT

# Captured from `wrk -t2 -c8 -d2s --latency` against bench/bare under uvicorn.
WRK_OK = """\
Running 2s test @ http://127.0.0.1:18777/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    25.61ms    9.33ms  62.69ms   70.57%
    Req/Sec   156.48     23.87   220.00     65.00%
  Latency Distribution
     50%   25.51ms
     75%   31.97ms
     90%   35.41ms
     99%   58.39ms
  624 requests in 2.00s, 97.50KB read
Requests/sec:    311.71
Transfer/sec:     48.71KB
"""

# The same against a missing path, plus the socket-error line wrk prints when there are some.
WRK_ERRORS = """\
Running 2s test @ http://127.0.0.1:18777/missing/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    14.59ms    6.84ms    1.20s    93.92%
    Req/Sec   286.77     54.34   363.00     77.50%
  Latency Distribution
     50%  812.00us
     75%   15.29ms
     90%   18.50ms
     99%    1.05s
  1142 requests in 2.00s, 376.95KB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 1142
Requests/sec:    570.13
Transfer/sec:    188.19KB
"""


def test_wrk_report_is_read_into_rate_and_latency_percentiles():
    result = wrk.parse(WRK_OK)

    assert (result.requests, result.seconds, result.rps) == (624, 2.0, 311.71)
    assert (result.p50_ms, result.p75_ms, result.p90_ms, result.p99_ms) == (25.51, 31.97, 35.41, 58.39)
    assert result.non_2xx == 0
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert result.errors == 0


def test_wrk_error_lines_and_every_latency_unit_are_counted():
    result = wrk.parse(WRK_ERRORS)

    assert result.p50_ms == 0.812  # microseconds
    assert result.p99_ms == 1050.0  # seconds
    assert result.non_2xx == 1142
    assert result.socket_errors == {"connect": 0, "read": 3, "write": 1, "timeout": 2}
    assert result.errors == 1148


@pytest.mark.parametrize(
    "output", ["", "unable to connect to 127.0.0.1:9 Connection refused", WRK_OK.replace("Requests/sec", "Req")]
)
def test_anything_but_a_latency_report_is_refused(output):
    with pytest.raises(wrk.WrkError):
        wrk.parse(output)


def test_wrk_runs_two_threads_eight_connections_with_the_latency_report_and_headers():
    command = wrk.command("http://127.0.0.1:1/api/v1/cart/", duration=5, headers={"Authorization": "Bearer t"})

    assert command == [
        "wrk",
        "-t2",
        "-c8",
        "-d5s",
        "--latency",
        "-H",
        "Authorization: Bearer t",
        "http://127.0.0.1:1/api/v1/cart/",
    ]


@pytest.mark.parametrize("server", bench.SERVERS)
def test_the_shop_and_the_bare_project_get_the_same_loopback_server_command(server):
    shop = bench.server_command(server=server, project="ecommerce_api", port=8123, workers=2)
    bare = bench.server_command(server=server, project="bench.bare", port=8123, workers=2)

    assert [arg.replace("ecommerce_api.", "bench.bare.") for arg in shop] == bare
    assert "127.0.0.1" in " ".join(shop) and "0.0.0.0" not in " ".join(shop)
    assert shop[shop.index("--workers") + 1] == "2"


def test_each_server_choice_is_the_stack_it_names():
    def command(server):
        return " ".join(bench.server_command(server=server, project="ecommerce_api", port=1, workers=1))

    assert "-m uvicorn ecommerce_api.asgi:application" in command("asgi")
    assert "-m gunicorn ecommerce_api.wsgi:application" in command("wsgi")
    assert "-k gthread --threads 4" in command("wsgi")
    assert "-k sync" in command("wsgi-sync")
    assert bench.DEFAULT_SERVER in bench.SERVERS


def _loaded_settings(env: dict[str, str]) -> dict:
    """The settings Django builds from `env`, read in a fresh interpreter."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({name: getattr(s, name) for name in ["
        "'DEBUG', 'SECURE_SSL_REDIRECT', 'ALLOWED_HOSTS', 'PAYMENT_GATEWAY', 'ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION',"
        "'TRUSTED_PROXIES', 'SHOP_CACHE_TIMEOUT', 'GLOBAL_ANON_THROTTLE_RATE', 'GLOBAL_USER_THROTTLE_RATE']}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_shop_is_measured_with_production_settings_that_answer_plain_http_without_throttling():
    loaded = _loaded_settings(bench.server_environment())

    assert loaded["DEBUG"] is False
    assert loaded["SECURE_SSL_REDIRECT"] is False  # a 301 to https would be all wrk measures
    assert loaded["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert (loaded["PAYMENT_GATEWAY"], loaded["ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION"]) == ("dummy", True)
    assert loaded["TRUSTED_PROXIES"] == []
    assert loaded["SHOP_CACHE_TIMEOUT"] > 0
    for rate in (loaded["GLOBAL_ANON_THROTTLE_RATE"], loaded["GLOBAL_USER_THROTTLE_RATE"]):
        assert int(rate.split("/")[0]) >= 10**6


def test_the_cold_server_caches_no_catalog_page():
    assert _loaded_settings(bench.server_environment(cache_timeout=0))["SHOP_CACHE_TIMEOUT"] == 0


def test_database_and_redis_default_to_the_bench_ones_and_follow_the_environment(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    env = bench.server_environment()
    assert (env["DATABASE_URL"], env["REDIS_URL"]) == (bench.DEFAULT_DATABASE_URL, bench.DEFAULT_REDIS_URL)
    assert env["DJANGO_SETTINGS_MODULE"] == "ecommerce_api.settings.production"
    assert len(env["SECRET_KEY"]) >= 50

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/other")
    assert bench.server_environment()["DATABASE_URL"].endswith("/other")


def test_the_bare_project_answers_its_one_view_with_nothing_installed():
    code = (
        "import json, django; django.setup(); from django.conf import settings; from django.test import Client; "
        "response = Client().get('/'); "
        "print(json.dumps([response.status_code, response.json(), settings.INSTALLED_APPS, settings.MIDDLEWARE]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bare.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert json.loads(done.stdout) == [200, {"status": "ok"}, [], []]


def _result(name, rps, **fields):
    return report.Result(
        name=name, label=name, path="/" + name, tool="wrk", rps=rps, requests=10, errors=0, seconds=1.0, **fields
    )


def test_every_figure_is_a_ratio_to_the_bare_view():
    results = [_result(report.BARE, 400.0), _result("health", 200.0), _result("list", 100.0)]

    report.add_ratios(results)

    assert [r.ratio_to_bare for r in results] == [1.0, 0.5, 0.25]


def test_order_placement_reports_nearest_rank_latencies_and_paid_orders_per_second():
    stats = shopper.BuyerStats()
    for millis in range(1, 101):
        stats.record(millis / 1000, ok=True)
    stats.record_failure()

    result = bench.from_buyers(stats, seconds=10.0)

    assert (result.p50_ms, result.p90_ms, result.p95_ms, result.p99_ms) == (50.0, 90.0, 95.0, 99.0)
    assert (result.rps, result.requests, result.errors) == (10.0, 100, 1)
    assert result.extra["orders_paid"] == 100


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([1.0, 2.0, 3.0, 4.0], 0.5, 2.0), ([float(n) for n in range(1, 101)], 0.07, 7.0), ([5.0], 0.95, 5.0)],
)
def test_percentile_is_the_nearest_rank(values, fraction, expected):
    assert bench.nearest_rank(values, fraction) == expected


def test_results_are_written_as_json_table_and_chart(tmp_path):
    results = [
        _result(report.BARE, 400.0, p50_ms=1.0, p90_ms=2.0, p99_ms=3.0),
        _result("list_cached", 100.0, p50_ms=4.0, p90_ms=5.0, p99_ms=6.0, extra={"db_connections_peak": 7}),
        report.Result(
            name="orders", label="orders", path="POST /api/v1/orders/", tool="python-threads", rps=2.0,
            requests=20, errors=1, seconds=10.0, p50_ms=300.0, p95_ms=500.0,
        ),
    ]  # fmt: skip
    report.add_ratios(results)
    config = {"server": "asgi", "workers": 2, "products": 2000, "duration_s": 5.0}

    written = report.write(tmp_path, config=config, environment={"cpus": 2}, results=results)

    assert sorted(path.name for path in written) == ["latest.json", "latest.md", "latest.png"]
    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["schema_version"] == report.SCHEMA_VERSION
    assert document["config"] == config
    assert [r["name"] for r in document["results"]] == ["bare", "list_cached", "orders"]
    listed = document["results"][1]
    assert {"rps", "ratio_to_bare", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "errors", "extra"} <= set(listed)
    assert listed["ratio_to_bare"] == 0.25
    assert (tmp_path / "latest.png").read_bytes().startswith(b"\x89PNG")
    table = (tmp_path / "latest.md").read_text()
    assert "| list_cached | 100.0 | 0.250 | 4.00 | 5.00 | - | 6.00 | 0 | 7 |" in table


def test_the_stdout_table_has_a_row_per_scenario():
    results = [_result(report.BARE, 400.0), _result("health", 200.0)]
    report.add_ratios(results)

    lines = report.table(results).splitlines()

    assert lines[0].split()[:3] == ["scenario", "req/s", "x"]
    assert lines[3].split()[:3] == ["health", "200.0", "0.500"]


def test_defaults_are_the_issue_s_and_runs_are_bounded():
    args = bench.parse_args([])
    assert (args.server, args.workers, args.products) == (bench.DEFAULT_SERVER, 2, 10_000)
    assert args.out_dir == ROOT / "bench" / "results"

    for argv in (["--duration", "0"], ["--duration", "301"], ["--workers", "0"], ["--server", "daphne"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)


def test_the_default_server_is_what_the_image_serves_http_with():
    """`make bench` measures the deployed stack: the image's `web` role is gunicorn gthread."""
    from tests.support.parsers import entrypoint_commands

    *_checks, command = entrypoint_commands("web")
    served_by = {"gunicorn": "wsgi" if "gthread" in " ".join(command) else "wsgi-sync", "uvicorn": "asgi"}

    assert served_by[os.path.basename(command[0])] == bench.DEFAULT_SERVER


def test_the_memory_check_reads_a_processes_rss():
    from bench import memory

    assert memory.rss_kib(os.getpid()) > 1_000  # this Python process holds more than a megabyte
    with pytest.raises(RuntimeError, match="one gunicorn worker"):
        memory.only_worker(os.getpid())  # pytest has no children here
