#!/usr/bin/env python
"""The image's HEALTHCHECK: GET /health/live/ on the local web server; exit 0 when it answers ok.

Django rejects a Host header that is not in ALLOWED_HOSTS (400), and probes from inside the
container come as 127.0.0.1, which production settings do not allow. So the request carries a
host the app accepts: the first ALLOWED_HOSTS entry ("." prefix dropped, "*" read as localhost).
Kubernetes probes solve the same problem with an httpHeaders Host (see the Helm chart).
"""

import argparse
import http.client
import json
import os
import sys

LIVE_PATH = "/health/live/"


def probe_host(allowed_hosts: str) -> str:
    """The Host header to send, given the ALLOWED_HOSTS value (comma-separated)."""
    for entry in allowed_hosts.split(","):
        host = entry.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def check(*, port: int, host_header: str, timeout: float) -> tuple[bool, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", LIVE_PATH, headers={"Host": host_header, "User-Agent": "docker-healthcheck"})
        response = connection.getresponse()
        body = response.read()
    except OSError as exc:
        return False, f"no answer on port {port}: {exc}"
    finally:
        connection.close()
    if response.status != 200:
        return False, f"{LIVE_PATH} answered {response.status} for Host {host_header}"
    try:
        status = json.loads(body).get("status")
    except ValueError:
        status = None
    if status != "ok":
        return False, f"{LIVE_PATH} answered {body[:100]!r}"
    return True, "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--timeout", type=float, default=4.0)
    args = parser.parse_args(argv)
    healthy, detail = check(
        port=args.port, host_header=probe_host(os.environ.get("ALLOWED_HOSTS", "")), timeout=args.timeout
    )
    if not healthy:
        print(detail, file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
