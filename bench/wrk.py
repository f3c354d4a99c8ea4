"""Running wrk (the Debian package, `apt-get install wrk`) and reading its `--latency` report.

wrk is a C load generator: unlike Python client threads, it does not compete with the server for
the CPUs it is measuring, so req/s says what the server can do rather than what the client can send.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

THREADS = 2
CONNECTIONS = 8
WARMUP_SECONDS = 2

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY_LINE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.M)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkError(RuntimeError):
    pass


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: dict[str, int]

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def _to_ms(value: str, unit: str) -> float:
    return round(float(value) * _UNITS_MS[unit], 3)


def parse(output: str) -> WrkResult:
    """The figures of one `wrk --latency` run; WrkError when the output is not such a report."""
    percentiles = {int(p): _to_ms(v, unit) for p, v, unit in _LATENCY_LINE.findall(output)}
    total, rps = _TOTAL.search(output), _RPS.search(output)
    if total is None or rps is None or set(percentiles) != {50, 75, 90, 99}:
        raise WrkError(f"not a wrk --latency report:\n{output}")
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    # wrk prints these two lines only when the count is not zero.
    socket_counts = map(int, sockets.groups()) if sockets else (0, 0, 0, 0)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"), socket_counts, strict=True))
    return WrkResult(
        requests=int(total.group(1)),
        seconds=_to_ms(total.group(2), total.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
    )


def command(url: str, *, duration: float, headers: dict[str, str] | None = None) -> list[str]:
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(duration))}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    return [*args, url]


def ensure_installed() -> None:
    if shutil.which("wrk") is None:
        raise WrkError("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu)")


def run(url: str, *, duration: float, headers: dict[str, str] | None = None, warmup: bool = True) -> WrkResult:
    """A warm-up (connections open, caches and lazy imports filled), then the measured run."""
    if warmup:
        _execute(command(url, duration=WARMUP_SECONDS, headers=headers), timeout=WARMUP_SECONDS + 30)
    output = _execute(command(url, duration=duration, headers=headers), timeout=duration + 60)
    return parse(output)


def _execute(args: list[str], *, timeout: float) -> str:
    completed = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if completed.returncode != 0:
        raise WrkError(f"wrk exited with {completed.returncode}: {completed.stderr or completed.stdout}")
    return completed.stdout
