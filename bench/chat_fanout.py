#!/usr/bin/env python
"""Support-chat fan-out benchmark: how long a chat message takes to reach every socket in a room.

    python bench/chat_fanout.py                                  # 200 clients, 100 messages
    python bench/chat_fanout.py --clients 500 --messages 300 --json out.json
    python bench/chat_fanout.py --migrate                        # migrate the configured database first
    REDIS_URL=redis://127.0.0.1:6379/3 python bench/chat_fanout.py   # through channels-redis

It starts uvicorn serving ecommerce_api.asgi:application on a free 127.0.0.1 port (loopback only),
with the project's settings and the database the environment configures (DATABASE_URL, else the
SQLite file; it must be migrated). It creates a throwaway customer, `--clients - 1` staff users and
one conversation, turns the `support_chat` flag on for the run, and connects one websocket per
user to /ws/chat/<id>/: 1 customer + N-1 agents. Then it sends `--messages` chat messages one at a
time, each from the next socket in turn (so no socket meets the per-connection rate limit), and
records, for every message and every socket, the time from `send` to the message's arrival.
Everything it created is deleted and the flag restored at the end, also after a timeout or Ctrl-C.

Latency here is the whole path: the frame to the server, the consumer storing the message in the
database, the commit, the group send over the channel layer, one send per socket, and the client
process reading 200 sockets on one event loop (the client side is part of what is measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"  # loopback only
STARTUP_TIMEOUT_SECONDS = 30
CONNECT_CONCURRENCY = 50


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Summary:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Summary:
        values = sorted(value * 1000 for value in seconds)
        return cls(
            count=len(values),
            p50_ms=round(percentile(values, 0.50), 2),
            p95_ms=round(percentile(values, 0.95), 2),
            p99_ms=round(percentile(values, 0.99), 2),
            max_ms=round(values[-1], 2) if values else float("nan"),
        )


# --- Django side: throwaway users, conversation and flag -------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecommerce_api.settings.local")
    import django

    django.setup()


def check_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit("The database has unapplied migrations: run `python manage.py migrate` (or pass --migrate).")


@dataclass
class Fixture:
    tag: str
    conversation_id: str
    tokens: list[str]  # the customer's first, then the agents'
    flag_state: dict | None  # the flag's fields before the run, None when it did not exist


def create_fixture(clients: int) -> Fixture:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from rest_framework_simplejwt.tokens import AccessToken
    from waffle.models import Flag

    from chat.flags import SUPPORT_CHAT_FLAG
    from chat.models import Conversation

    user_model = get_user_model()
    tag = secrets.token_hex(4)
    unusable = make_password(None)
    with transaction.atomic():
        users = [
            user_model(
                email=f"bench-chat-{tag}-{index}@bench.invalid",
                first_name=f"Bench{index}",
                is_staff=index > 0,
                email_verified=True,
                password=unusable,
            )
            for index in range(clients)
        ]
        user_model.objects.bulk_create(users)
        conversation = Conversation.objects.create(customer=users[0], subject=f"bench {tag}")
        existing = Flag.objects.filter(name=SUPPORT_CHAT_FLAG).first()
        flag_state = (
            {field: getattr(existing, field) for field in ("everyone", "staff", "authenticated")} if existing else None
        )
        Flag.objects.update_or_create(name=SUPPORT_CHAT_FLAG, defaults={"everyone": True})
    return Fixture(
        tag=tag,
        conversation_id=str(conversation.pk),
        tokens=[str(AccessToken.for_user(user)) for user in users],
        flag_state=flag_state,
    )


def delete_fixture(fixture: Fixture) -> None:
    from django.contrib.auth import get_user_model
    from waffle.models import Flag

    from chat.flags import SUPPORT_CHAT_FLAG

    # Conversations and messages go with their customer (CASCADE).
    get_user_model().objects.filter(email__startswith=f"bench-chat-{fixture.tag}-").delete()
    flag = Flag.objects.get(name=SUPPORT_CHAT_FLAG)
    if fixture.flag_state is None:
        flag.delete()
    else:
        for field, value in fixture.flag_state.items():
            setattr(flag, field, value)
        flag.save()


# --- the server ------------------------------------------------------------------------------------


def start_server(port: int, log_file) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "ecommerce_api.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--lifespan",
        "off",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=log_file, stderr=subprocess.STDOUT)


def wait_until_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError("the server did not start listening in time")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# --- the clients -----------------------------------------------------------------------------------


class Room:
    def __init__(self, *, clients: int, messages: int) -> None:
        self.sent_at: list[float | None] = [None] * messages
        self.received_at: list[list[float | None]] = [[None] * clients for _ in range(messages)]
        self.pending: list[int] = [clients] * messages
        self.complete: list[asyncio.Event] = [asyncio.Event() for _ in range(messages)]
        self.errors: list[dict] = []

    def arrived(self, client: int, sequence: int, at: float) -> None:
        if self.received_at[sequence][client] is None:
            self.received_at[sequence][client] = at
            self.pending[sequence] -= 1
            if self.pending[sequence] == 0:
                self.complete[sequence].set()


async def read_socket(ws, client: int, room: Room, marker: str) -> None:
    async for raw in ws:
        at = time.perf_counter()
        frame = json.loads(raw)
        if frame["type"] == "message":
            body = frame["message"]["body"]
            if body.startswith(marker):
                room.arrived(client, int(body[len(marker) :]), at)
        elif frame["type"] == "error":
            room.errors.append(frame)


async def run_clients(args: argparse.Namespace, port: int, fixture: Fixture) -> dict:
    from websockets.asyncio.client import connect

    url = f"ws://{HOST}:{port}/ws/chat/{fixture.conversation_id}/"
    origin = f"http://{HOST}:{port}"
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_socket(token: str):
        async with limit:
            return await connect(f"{url}?token={token}", origin=origin, max_queue=None, open_timeout=30)

    connect_started = time.perf_counter()
    sockets = await asyncio.gather(*(open_socket(token) for token in fixture.tokens))
    connect_seconds = time.perf_counter() - connect_started

    room = Room(clients=len(sockets), messages=args.messages)
    marker = f"bench {fixture.tag} #"
    readers = [asyncio.create_task(read_socket(ws, index, room, marker)) for index, ws in enumerate(sockets)]
    timed_out = 0
    send_started = time.perf_counter()
    try:
        for sequence in range(args.messages):
            sender = sockets[sequence % len(sockets)]
            room.sent_at[sequence] = time.perf_counter()
            await sender.send(json.dumps({"type": "message", "body": f"{marker}{sequence}"}))
            try:
                await asyncio.wait_for(room.complete[sequence].wait(), timeout=args.message_timeout)
            except TimeoutError:
                timed_out += 1
            if args.interval:
                await asyncio.sleep(args.interval)
    finally:
        send_seconds = time.perf_counter() - send_started
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    deliveries, fanout = [], []
    for sequence, sent in enumerate(room.sent_at):
        if sent is None:
            continue
        arrivals = [at - sent for at in room.received_at[sequence] if at is not None]
        deliveries.extend(arrivals)
        if len(arrivals) == len(sockets):
            fanout.append(max(arrivals))
    expected = len(sockets) * sum(1 for sent in room.sent_at if sent is not None)
    return {
        "connect_seconds": round(connect_seconds, 3),
        "send_seconds": round(send_seconds, 3),
        "messages_sent": sum(1 for sent in room.sent_at if sent is not None),
        "messages_timed_out": timed_out,
        "deliveries": len(deliveries),
        "deliveries_expected": expected,
        "delivery_latency": asdict(Summary.of(deliveries)),
        "fanout_complete_latency": asdict(Summary.of(fanout)),
        "server_errors": room.errors[:5],
    }


# --- the run ---------------------------------------------------------------------------------------


def describe_environment() -> dict:
    from django.conf import settings
    from django.db import connection

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "database": connection.vendor,
        "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "settings": os.environ["DJANGO_SETTINGS_MODULE"],
        "server": "uvicorn (1 process, websockets-sansio)",
    }


def format_report(result: dict) -> str:
    env, args = result["environment"], result["parameters"]
    lines = [
        "Support chat fan-out",
        f"  {args['clients']} sockets in one conversation (1 customer + {args['clients'] - 1} agents), "
        f"{args['messages']} messages sent one at a time",
        f"  {env['database']} database, {env['channel_layer']}, {env['cache']} cache, {env['server']}, "
        f"Python {env['python']}, {env['cpus']} CPUs",
        f"  connect all sockets: {result['connect_seconds']:.2f} s; sending took {result['send_seconds']:.2f} s",
        f"  delivered {result['deliveries']} of {result['deliveries_expected']} "
        f"({result['messages_timed_out']} messages timed out)",
        "",
        f"  {'latency (ms)':<34}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}",
    ]
    for label, key in (
        ("send -> each socket", "delivery_latency"),
        ("send -> last socket of the room", "fanout_complete_latency"),
    ):
        summary = result[key]
        lines.append(
            f"  {label:<34}{summary['p50_ms']:>9.1f}{summary['p95_ms']:>9.1f}"
            f"{summary['p99_ms']:>9.1f}{summary['max_ms']:>9.1f}"
        )
    if result["server_errors"]:
        lines.append(f"  server error frames (first few): {result['server_errors']}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="sockets in the room (1 customer + agents)")
    parser.add_argument("--messages", type=int, default=100, help="messages to send, one at a time")
    parser.add_argument("--interval", type=float, default=0.0, help="pause between messages, seconds")
    parser.add_argument("--message-timeout", type=float, default=10.0, help="wait at most this long per message")
    parser.add_argument("--timeout", type=float, default=180.0, help="hard limit for the whole run, seconds")
    parser.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    parser.add_argument("--migrate", action="store_true", help="apply migrations to the configured database first")
    args = parser.parse_args(argv)
    if args.clients < 2:
        parser.error("--clients must be at least 2")
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.migrate:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, check=True)
    setup_django()
    check_migrated()
    fixture = create_fixture(args.clients)
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log_file:
        server = start_server(port, log_file)
        try:
            wait_until_listening(port, server)
            outcome = asyncio.run(asyncio.wait_for(run_clients(args, port, fixture), timeout=args.timeout))
        except TimeoutError:
            print(f"The run passed --timeout={args.timeout:g} s and was stopped.", file=sys.stderr)
            return 1
        finally:
            stop_server(server)
            delete_fixture(fixture)
            log_file.seek(0)
            server_log = log_file.read().strip()
    result = {
        "parameters": {"clients": args.clients, "messages": args.messages, "interval": args.interval},
        "environment": describe_environment(),
        **outcome,
    }
    print(format_report(result))
    if server_log:
        print("\nserver log (warnings and errors):\n" + server_log[-3000:])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if outcome["deliveries"] == outcome["deliveries_expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
