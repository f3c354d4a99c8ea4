"""What the deployment files point at, checked against the running project: settings modules,
ASGI and Celery apps, management commands, URL routes, and the app under production settings."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]

# Variables the tests strip so a developer's shell or .env cannot change what production settings see.
_PRODUCTION_SENSITIVE = ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT")


def module_exists(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:
        return False


def import_object(spec: str):
    """`package.module:attribute` as uvicorn and gunicorn read it."""
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


_SERVER_APP_SCRIPT = """
import importlib, json, sys
module_name, _, attribute = sys.argv[1].partition(":")
app = getattr(importlib.import_module(module_name), attribute)
print(json.dumps({"callable": callable(app), "type": type(app).__module__ + "." + type(app).__qualname__}))
"""


def server_app_under_production(spec: str) -> dict:
    """Import `package.module:attribute` as gunicorn or uvicorn does in the image: a fresh process
    with production settings (the module sets up Django itself). Returns whether the attribute is
    callable and its type's dotted name."""
    return json_from_script(_SERVER_APP_SCRIPT, spec, env=production_env())


def celery_app(name: str):
    """The Celery app `celery -A <name>` loads, found the way the celery command finds it."""
    from celery import Celery
    from celery.app.utils import find_app

    app = find_app(name)
    if not isinstance(app, Celery):
        raise AssertionError(f"`celery -A {name}` finds {app!r}, not a Celery app")
    return app


def management_commands() -> set[str]:
    from django.core.management import get_commands

    return set(get_commands())


def routed_queues() -> set[str]:
    from django.conf import settings

    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    for route in settings.CELERY_TASK_ROUTES.values():
        queues.add(route["queue"])
    return queues


def view_name(path: str) -> str:
    """The dotted name of the view that serves this path in the real URLconf."""
    from django.urls import resolve

    func = resolve(path).func
    func = getattr(func, "cls", None) or getattr(func, "view_class", None) or func
    return f"{func.__module__}.{func.__name__}"


def json_from_script(script: str, *args: str, env: dict[str, str]) -> Any:
    """Run `python -c script args` from the project root with exactly `env`; its last stdout line,
    parsed as JSON. A failing script fails the test with its stderr."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _PRODUCTION_SENSITIVE}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ecommerce_api.settings.production",
            "SECRET_KEY": "tests-production-settings-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "shop.example.com",
            "LOG_LEVEL": "CRITICAL",
            "LOG_FORMAT": "text",
        }
    )
    env.update(overrides)
    return env


_CLIENT_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client()
answers = []
for path, host, headers in json.loads(sys.argv[1]):
    extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    response = client.get(path, HTTP_HOST=host, **extra)
    answers.append({"status": response.status_code, "location": response.get("Location", "")})
print(json.dumps(answers))
"""


def production_answers(calls: list[tuple[str, str, dict[str, str]]], **env_overrides: str) -> list[dict]:
    """GET each (path, Host, headers) through Django's test client in a process that runs with
    production settings, as the image does."""
    return json_from_script(_CLIENT_SCRIPT, json.dumps(calls), env=production_env(**env_overrides))


_SETTINGS_SCRIPT = """
import json, sys
import django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""


def settings_under(env: dict[str, str], *names: str) -> dict:
    """Settings as a process with exactly this environment (plus PATH) loads them."""
    return json_from_script(_SETTINGS_SCRIPT, *names, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, *, timeout: float = 60, headers=None) -> requests.Response:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"server exited with {process.returncode}: {output[-3000:]}")
        try:
            return requests.get(url, timeout=2, headers=headers or {})
        except requests.RequestException as exc:
            last_error = exc
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s: {last_error}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
