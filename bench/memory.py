#!/usr/bin/env python
"""Does a web worker's memory settle? RSS of one gunicorn worker after about 20,000 and 30,000
catalog requests (list, search, facets in turn), which must differ by under 10 %.

    python bench/memory.py                  # the environment bench/run.py uses
    python bench/memory.py --requests 60000

Serves the shop as bench/run.py does (same settings and environment) with one gthread worker,
drives it with wrk in 3-second rounds, and reads the worker's VmRSS from /proc after each mark.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run, wrk  # noqa: E402

PATHS = (run.LIST_PATH, run.SEARCH_PATH, run.FACETS_PATH)
ROUND_SECONDS = 3
ALLOWED_GROWTH = 0.10


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def only_worker(master_pid: int) -> int:
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30_000, help="the last mark; the first is two thirds of it")
    args = parser.parse_args()
    marks = (args.requests * 2 // 3, args.requests)

    port = run.free_port()
    command = run.server_command(server="wsgi", project="ecommerce_api", port=port, workers=1)
    server = subprocess.Popen(command, env=run.server_environment(), cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        base_url = f"http://{run.HOST}:{port}"
        run.wait_until_answering(base_url + run.HEALTH_PATH, server)
        worker = only_worker(server.pid)
        sent, seen = 0, {}
        while len(seen) < len(marks):
            for path in PATHS:
                sent += wrk.run(base_url + path, duration=ROUND_SECONDS).requests
            for mark in marks:
                if sent >= mark and mark not in seen:
                    seen[mark] = rss_kib(worker)
                    print(f"after {sent:,} requests: worker RSS {seen[mark]:,} KiB", flush=True)
    finally:
        run.stop(server)
    first, last = (seen[mark] for mark in marks)
    growth = (last - first) / first
    print(f"growth between {marks[0]:,} and {marks[1]:,} requests: {growth:+.1%} (limit {ALLOWED_GROWTH:.0%})")
    return 0 if growth < ALLOWED_GROWTH else 1


if __name__ == "__main__":
    sys.exit(main())
