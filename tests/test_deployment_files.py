"""The Dockerfile, its entrypoint, .dockerignore and docker-compose.yml point at things that exist:
settings, the WSGI, ASGI and Celery apps, management commands, health routes, documented variables."""

import functools
import os
import subprocess
import sys

import pytest
import requests
import yaml

from tests.support import runtime
from tests.support.parsers import (
    ENTRYPOINT,
    ROOT,
    dockerignore_patterns,
    entrypoint_commands,
    env_example_keys,
    env_example_values,
    in_stage,
    interpolate,
    interpolated_names,
    is_ignored,
    last_stage,
    option_value,
    parse_dockerfile,
    stage_args,
    stage_bases,
    stage_env,
    substitute,
)

DOCKERFILE = parse_dockerfile(ROOT / "Dockerfile")
RUNTIME = last_stage(DOCKERFILE)
RUNTIME_ENV = stage_env(DOCKERFILE, RUNTIME)
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
APP_SERVICES = [name for name, service in SERVICES.items() if "build" in service]
# What the image runs before serving or migrating (docker/entrypoint.sh, core/checks.py).
SECURITY_CHECKS = ["python", "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "ERROR"]


def image_command(arguments: list[str], **env: str) -> list[list[str]]:
    """What a container of our image runs for these arguments (the entrypoint's dry run)."""
    return entrypoint_commands(*arguments, env=env)


def runtime_user() -> str:
    user = in_stage(DOCKERFILE, RUNTIME, "USER")[-1].value
    return substitute(user, stage_args(DOCKERFILE, RUNTIME))


def exposed_ports() -> list[int]:
    (expose,) = in_stage(DOCKERFILE, RUNTIME, "EXPOSE")
    return [int(word.split("/")[0]) for word in expose.value.split()]


@functools.cache
def served_app(spec: str) -> dict:
    return runtime.server_app_under_production(spec)


def bind_port(command: list[str]) -> str:
    """The port of gunicorn's `--bind host:port`."""
    return option_value(command, "--bind", "-b").rsplit(":", 1)[1]


def assert_command_targets_exist(command: list[str]) -> None:
    """Every program the deployment starts refers to code of this project that exists."""
    program = os.path.basename(command[0])
    if program == "gunicorn":
        # Loaded as the image loads it: production settings, a fresh process.
        assert served_app(command[1]) == {"callable": True, "type": "django.core.handlers.wsgi.WSGIHandler"}
        assert option_value(command, "--worker-class", "-k") == "gthread"
    elif program == "uvicorn":
        app = runtime.import_object(command[1])
        assert callable(app), f"{command[1]} is not an ASGI callable"
        assert served_app(command[1])["callable"] is True
    elif program == "celery":
        runtime.celery_app(option_value(command, "-A", "--app"))
        assert command[3] in {"worker", "beat", "inspect", "flower"}, command
    elif program == "python" and command[1] == "manage.py":
        assert command[2] in runtime.management_commands(), f"no management command {command[2]!r}"
    else:
        raise AssertionError(f"unexpected program in {command}")


# --- Dockerfile ---------------------------------------------------------------------------------


def test_dockerfile_builds_in_a_builder_stage_and_runs_from_a_slim_python_311_image():
    bases = stage_bases(DOCKERFILE)
    aliases = [alias for _, alias in bases]
    runtime_image = bases[-1][0]

    assert len(bases) >= 2 and "builder" in aliases
    assert runtime_image.startswith("python:3.11") and "slim" in runtime_image
    builder = aliases.index("builder")
    builder_runs = " ".join(i.value for i in in_stage(DOCKERFILE, builder, "RUN"))
    assert "pip install -r /tmp/requirements.txt" in builder_runs
    copies = [i.value for i in in_stage(DOCKERFILE, builder, "COPY")]
    assert "requirements.txt /tmp/requirements.txt" in copies
    runtime_copies = [i.value for i in in_stage(DOCKERFILE, RUNTIME, "COPY")]
    assert "--from=builder /opt/venv /opt/venv" in runtime_copies
    # The compiler tool chain stays in the builder.
    assert "build-essential" not in " ".join(i.value for i in in_stage(DOCKERFILE, RUNTIME, "RUN"))


def test_image_runs_as_a_non_root_user_with_a_fixed_uid():
    uid = runtime_user().split(":")[0]
    runs = substitute(" ".join(i.value for i in in_stage(DOCKERFILE, RUNTIME, "RUN")), stage_args(DOCKERFILE, RUNTIME))

    assert uid.isdigit() and int(uid) != 0, uid
    assert f"useradd --system --uid {uid} " in runs
    # USER comes after every RUN: nothing in the runtime stage runs as root after it.
    keywords = [i.keyword for i in DOCKERFILE if i.stage == RUNTIME]
    assert "RUN" not in keywords[keywords.index("USER") :]


def test_image_uses_production_settings_that_exist():
    assert RUNTIME_ENV["DJANGO_SETTINGS_MODULE"] == "ecommerce_api.settings.production"
    assert runtime.module_exists(RUNTIME_ENV["DJANGO_SETTINGS_MODULE"])
    assert (ROOT / "ecommerce_api" / "settings" / "production.py").is_file()


def test_collectstatic_at_build_time_works_with_the_build_only_secrets(tmp_path):
    """Runs the Dockerfile's collectstatic step as written, with the image's environment."""
    (step,) = [i for i in in_stage(DOCKERFILE, RUNTIME, "RUN") if "collectstatic" in i.value]
    command = step.value.split("&&")[0].split()
    assignments = dict(word.split("=", 1) for word in command if "=" in word and not word.startswith("-"))
    program = [word for word in command if "=" not in word]
    assert {"SECRET_KEY", "ALLOWED_HOSTS"} <= set(assignments)
    assert program == ["python", "manage.py", "collectstatic", "--noinput"]
    env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    env.update({key: value for key, value in RUNTIME_ENV.items() if key != "PATH"})
    env.update(assignments)
    env["STATIC_ROOT"] = str(tmp_path / "static")

    result = subprocess.run(
        [sys.executable, *program[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr[-3000:]
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "admin/css/base.css" in manifest
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest


def test_image_healthcheck_probes_the_live_endpoint():
    (healthcheck,) = in_stage(DOCKERFILE, RUNTIME, "HEALTHCHECK")
    command = healthcheck.value.split("CMD", 1)[1].strip()

    assert command == '["python", "/app/docker/healthcheck.py"]'
    from docker_healthcheck import LIVE_PATH

    assert runtime.view_name(LIVE_PATH) == "core.health.live"


def test_default_command_serves_the_wsgi_application_with_gthread_workers_on_the_exposed_port():
    (entrypoint,) = in_stage(DOCKERFILE, RUNTIME, "ENTRYPOINT")
    (cmd,) = in_stage(DOCKERFILE, RUNTIME, "CMD")
    assert entrypoint.json_args == ["tini", "--", "/app/docker/entrypoint.sh"]
    assert os.access(ENTRYPOINT, os.X_OK)

    checks, command = image_command(
        cmd.json_args, WEB_CONCURRENCY=RUNTIME_ENV["WEB_CONCURRENCY"], WEB_THREADS=RUNTIME_ENV["WEB_THREADS"]
    )

    assert command[:2] == ["gunicorn", "ecommerce_api.wsgi:application"]
    assert option_value(command, "--bind") == "0.0.0.0:8000"
    assert int(bind_port(command)) == exposed_ports()[0] == 8000
    assert option_value(command, "--workers") == RUNTIME_ENV["WEB_CONCURRENCY"]
    assert option_value(command, "--threads") == RUNTIME_ENV["WEB_THREADS"] == "4"
    # A hung worker is replaced; heartbeat files stay off the overlay filesystem.
    assert option_value(command, "--timeout") == "30"
    assert option_value(command, "--graceful-timeout") == "25"
    assert option_value(command, "--worker-tmp-dir") == "/dev/shm"
    assert "--max-requests" not in command and "--preload" not in command
    assert checks == SECURITY_CHECKS
    assert_command_targets_exist(command)


def test_web_threads_and_ports_follow_the_environment():
    *_checks, web = image_command(["web"], WEB_CONCURRENCY="3", WEB_THREADS="8", WEB_PORT="9000")
    *_checks, ws = image_command(["ws"], WS_CONCURRENCY="2", WS_PORT="9001")
    *_checks, ws_default = image_command(["ws"])

    assert (option_value(web, "--workers"), option_value(web, "--threads"), bind_port(web)) == ("3", "8", "9000")
    assert (option_value(ws, "--workers"), option_value(ws, "--port")) == ("2", "9001")
    assert (option_value(ws_default, "--workers"), option_value(ws_default, "--port")) == ("1", "8001")
    assert 8001 in exposed_ports()


def test_ws_role_serves_websockets_through_the_asgi_app_as_the_web_role_did():
    *_checks, command = image_command(["ws"])

    assert command[:2] == ["uvicorn", "ecommerce_api.asgi:application"]
    assert option_value(command, "--ws") == "websockets-sansio"
    assert option_value(command, "--lifespan") == "off"  # Channels' router has no lifespan handler
    assert option_value(command, "--host") == "0.0.0.0"
    assert int(option_value(command, "--timeout-graceful-shutdown")) == 25


@pytest.mark.parametrize(
    ("role", "expected_start"),
    [
        ("web", ["gunicorn", "ecommerce_api.wsgi:application"]),
        ("ws", ["uvicorn", "ecommerce_api.asgi:application"]),
        ("worker", ["celery", "-A", "ecommerce_api", "worker"]),
        ("beat", ["celery", "-A", "ecommerce_api", "beat"]),
        ("migrate", ["python", "manage.py", "migrate", "--noinput"]),
    ],
)
def test_each_entrypoint_role_starts_code_that_exists(role, expected_start):
    *checks, command = image_command([role])

    assert command[: len(expected_start)] == expected_start
    # web, ws and migrate refuse an unsafe configuration before they serve or touch the database.
    assert checks == ([SECURITY_CHECKS] if role in ("web", "ws", "migrate") else [])
    for step in [*checks, command]:
        assert_command_targets_exist(step)


def test_release_role_checks_migrates_and_collects_static_in_that_order():
    commands = image_command(["release"])

    assert [command[2] for command in commands] == ["check", "migrate", "collectstatic"]
    for command in commands:
        assert_command_targets_exist(command)


def test_worker_role_consumes_every_queue_tasks_are_routed_to():
    (command,) = image_command(["worker"])

    assert set(option_value(command, "-Q").split(",")) == runtime.routed_queues()


def test_beat_role_keeps_its_schedule_in_tmp_because_the_code_is_read_only():
    (command,) = image_command(["beat"])

    assert option_value(command, "--schedule").startswith("/tmp/")


def test_entrypoint_appends_extra_arguments_and_runs_other_commands_as_given():
    (worker,) = image_command(["worker", "--max-tasks-per-child", "100"])
    (other,) = image_command(["bash", "-c", "true"])

    assert worker[-2:] == ["--max-tasks-per-child", "100"]
    assert other == ["bash", "-c", "true"]


def web_role_env(**overrides: str) -> dict[str, str]:
    """Production settings as the image runs them; a demo opt-in unless the test picks a gateway."""
    env = runtime.production_env(
        **{
            "WEB_CONCURRENCY": "1",
            "ALLOWED_HOSTS": "shop.example.com",
            "ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION": "true",
            **overrides,
        }
    )
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"
    return env


def start_web_role(port: int, env: dict[str, str]) -> subprocess.Popen:
    """The entrypoint's web role for real: gunicorn with the image's flags, one worker, on a free
    port (WEB_PORT; gunicorn would add a second `--bind`, not replace the first)."""
    return subprocess.Popen(
        ["sh", str(ENTRYPOINT), "web"],
        cwd=ROOT,
        env={**env, "WEB_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_web_role_serves_the_app_under_production_settings_and_the_image_healthcheck_passes():
    port = runtime.free_port()
    env = web_role_env()
    server = start_web_role(port, env)
    try:
        live = runtime.wait_for_http(
            f"http://127.0.0.1:{port}/health/live/", server, headers={"Host": "shop.example.com"}
        )
        as_loopback = requests.get(f"http://127.0.0.1:{port}/health/live/", timeout=5)
        # TRUSTED_PROXIES is unset: gunicorn must not believe a scheme header from this loopback
        # peer (its own default trusts 127.0.0.1), so Django still redirects to https.
        claimed_https = requests.get(
            f"http://127.0.0.1:{port}/api/v1/",
            headers={"Host": "shop.example.com", "X-Forwarded-Ssl": "on"},
            allow_redirects=False,
            timeout=30,
        )

        def healthcheck(allowed_hosts: str) -> int:
            return subprocess.run(
                [sys.executable, str(ROOT / "docker" / "healthcheck.py"), "--port", str(port)],
                env={**env, "ALLOWED_HOSTS": allowed_hosts},
                capture_output=True,
                timeout=30,
            ).returncode

        passing = healthcheck("shop.example.com")
        failing = healthcheck("other.example.com")  # a host the server does not accept
    finally:
        runtime.stop(server)

    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert live.headers["Server"] == "gunicorn"  # the WSGI stack, not uvicorn
    assert as_loopback.status_code == 400  # why the healthcheck sends an allowed Host
    assert claimed_https.status_code == 301
    assert claimed_https.headers["Location"] == "https://shop.example.com/api/v1/"
    assert passing == 0
    assert failing == 1


def test_web_role_refuses_to_start_with_the_dummy_gateway_and_no_opt_in():
    port = runtime.free_port()
    server = start_web_role(port, web_role_env(PAYMENT_GATEWAY="dummy", ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION="false"))
    try:
        output, _ = server.communicate(timeout=120)
    finally:
        runtime.stop(server)

    assert server.returncode != 0
    assert "ecommerce.E001" in output
    assert "Starting gunicorn" not in output and "Listening at" not in output


def test_ws_role_serves_the_asgi_app_under_production_settings():
    port = runtime.free_port()
    server = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "ws", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=web_role_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        live = runtime.wait_for_http(
            f"http://127.0.0.1:{port}/health/live/", server, headers={"Host": "shop.example.com"}
        )
        healthcheck = subprocess.run(
            [sys.executable, str(ROOT / "docker" / "healthcheck.py"), "--port", str(port)],
            env=web_role_env(),
            capture_output=True,
            timeout=30,
        ).returncode
    finally:
        runtime.stop(server)

    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert "Server" not in live.headers  # uvicorn with --no-server-header
    assert healthcheck == 0  # what compose's ws healthcheck runs (with --port 8001)


def test_server_roles_do_not_log_query_strings():
    """Access lines come from the proxy, path only; a server's own would carry ?token=...
    (docs/OPERATIONS.md). gunicorn logs no access lines unless given --access-logfile."""
    *_checks, web = image_command(["web"])
    *_checks, ws = image_command(["ws"])

    assert not any(word.startswith(("--access-logfile", "--access-log", "--access-logformat")) for word in web)
    assert option_value(web, "--error-logfile") == "-"
    assert "--no-access-log" in ws and "--access-log" not in ws


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [("", ""), ("10.0.0.0/8, 172.30.80.10", "10.0.0.0/8,172.30.80.10"), ("127.0.0.1", "127.0.0.1")],
)
def test_servers_trust_forwarded_headers_from_trusted_proxies_only(trusted, expected):
    """gunicorn always gets the list (its default would trust loopback); uvicorn gets it, or
    --no-proxy-headers when it is empty. Never `*`."""
    *_checks, web = image_command(["web"], TRUSTED_PROXIES=trusted)
    *_checks, ws = image_command(["ws"], TRUSTED_PROXIES=trusted)

    assert option_value(web, "--forwarded-allow-ips") == expected
    if expected:
        assert option_value(ws, "--forwarded-allow-ips") == expected and "--proxy-headers" in ws
    else:
        assert "--no-proxy-headers" in ws and "--forwarded-allow-ips" not in ws
    assert "*" not in " ".join(web + ws)


def anon_statuses(base: str, forwarded_for: list[str]) -> list[int]:
    """Anonymous GETs of a DRF view (the schema) with these X-Forwarded-For values, in order."""
    return [
        requests.get(
            f"{base}/api/v1/schema/", headers={"Host": "shop.example.com", "X-Forwarded-For": value}, timeout=60
        ).status_code
        for value in forwarded_for
    ]


def test_web_role_ignores_x_forwarded_for_unless_the_peer_is_a_trusted_proxy():
    """uvicorn and the app agree: with TRUSTED_PROXIES unset (the default) a caller cannot pick its
    throttle identity by sending X-Forwarded-For; behind a trusted proxy (here: loopback) the
    forwarded client is the identity. Two real servers, anonymous rate 2/minute."""
    rotating = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    results = {}
    for label, trusted in (("default", ""), ("behind_proxy", "127.0.0.1")):
        port = runtime.free_port()
        server = start_web_role(
            port,
            web_role_env(
                GLOBAL_ANON_THROTTLE_RATE="2/minute",
                TRUSTED_PROXIES=trusted,
                CACHE_URL="",
                REDIS_URL="",
                CACHE_URLS="",
                SECURE_SSL_REDIRECT="false",
            ),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            runtime.wait_for_http(f"{base}/health/live/", server, timeout=120, headers={"Host": "shop.example.com"})
            results[label] = anon_statuses(base, rotating)
            if trusted:
                results["one_forwarded_client"] = anon_statuses(base, ["203.0.113.7"] * 3)
        finally:
            runtime.stop(server)

    assert results["default"] == [200, 200, 429]  # rotating the header does not help
    assert results["behind_proxy"] == [200, 200, 200]  # three forwarded clients
    assert results["one_forwarded_client"] == [200, 200, 429]


@pytest.mark.parametrize(
    ("allowed_hosts", "expected"),
    [
        ("shop.example.com,api.example.com", "shop.example.com"),
        (" .example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
        ("*,shop.example.com", "shop.example.com"),
    ],
)
def test_healthcheck_sends_the_first_concrete_allowed_host(allowed_hosts, expected):
    from docker_healthcheck import probe_host

    assert probe_host(allowed_hosts) == expected


# --- .dockerignore ------------------------------------------------------------------------------

IGNORE = dockerignore_patterns(ROOT / ".dockerignore")


@pytest.mark.parametrize(
    "path", [".env", ".env.production", ".git/HEAD", ".venv/bin/python", "db.sqlite3", "media/a.png", "staticfiles"]
)
def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image(path):
    assert is_ignored(path, IGNORE)


def test_dockerignore_keeps_everything_the_image_needs():
    from core.seeding import LOCAL_APPS

    needed = [
        ".env.example",
        "manage.py",
        "requirements.txt",
        "docker/entrypoint.sh",
        "docker/healthcheck.py",
        "ecommerce_api/settings/production.py",
        "ecommerce_api/asgi.py",
        "ecommerce_api/celery.py",
        *(f"{app}/apps.py" for app in LOCAL_APPS),
    ]
    for instruction in in_stage(DOCKERFILE, 0, "COPY") + in_stage(DOCKERFILE, RUNTIME, "COPY"):
        words = [w for w in instruction.value.split() if not w.startswith("--")]
        if "--from=builder" not in instruction.value and words[0] != ".":
            needed.append(words[0])

    assert [path for path in needed if is_ignored(path, IGNORE)] == []
    assert all((ROOT / path).exists() for path in needed)


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_runs_the_whole_stack():
    assert {"web", "ws", "celery_worker", "celery_beat", "postgres", "redis", "nginx", "flower", "migrate"} <= set(
        SERVICES
    )
    assert SERVICES["postgres"]["image"].split(":")[1].startswith("15")
    assert SERVICES["redis"]["image"].split(":")[1].startswith("7")


def test_app_services_share_the_image_production_settings_and_env_file():
    assert set(APP_SERVICES) == {"web", "ws", "celery_worker", "celery_beat", "migrate"}
    for name in APP_SERVICES:
        service = SERVICES[name]
        assert service["build"]["dockerfile"] == "Dockerfile"
        assert service["env_file"] == ".env"
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "ecommerce_api.settings.production"
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379/")


def test_compose_worker_and_beat_run_the_celery_app_on_every_routed_queue():
    worker = SERVICES["celery_worker"]["command"]
    beat = SERVICES["celery_beat"]["command"]

    assert worker[:4] == ["celery", "-A", "ecommerce_api", "worker"]
    assert set(option_value(worker, "-Q").split(",")) == runtime.routed_queues()
    assert beat[:4] == ["celery", "-A", "ecommerce_api", "beat"]
    for command in (worker, beat):
        (as_run,) = image_command(command)  # through the entrypoint, as the container runs it
        assert as_run[:4] == command[:4]
        assert_command_targets_exist(as_run)


def test_compose_web_serves_wsgi_ws_serves_asgi_and_migrate_runs_migrations_first():
    web_env = compose_container_env("web", compose_dotenv())
    *_checks, web = image_command(SERVICES["web"]["command"], **web_env)
    *_checks, ws = image_command(SERVICES["ws"]["command"], **compose_container_env("ws", compose_dotenv()))
    migrate_steps = image_command(SERVICES["migrate"]["command"])

    assert web[:2] == ["gunicorn", "ecommerce_api.wsgi:application"]
    assert bind_port(web) == SERVICES["web"]["expose"][0] == "8000"
    assert option_value(web, "--threads") == web_env["WEB_THREADS"] == "4"
    assert ws[:2] == ["uvicorn", "ecommerce_api.asgi:application"]
    assert option_value(ws, "--port") == SERVICES["ws"]["expose"][0] == "8001"
    assert ["python", "manage.py", "migrate", "--noinput"] in migrate_steps
    for command in [web, ws, *migrate_steps]:
        assert_command_targets_exist(command)
    assert SERVICES["migrate"]["restart"] == "no"


def test_compose_start_order_waits_for_healthy_dependencies():
    def conditions(name):
        return {dep: spec["condition"] for dep, spec in SERVICES[name]["depends_on"].items()}

    for name in ("web", "ws", "celery_worker"):
        assert conditions(name) == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        }
    assert conditions("celery_beat")["migrate"] == "service_completed_successfully"
    assert conditions("nginx") == {"web": "service_healthy", "ws": "service_healthy"}
    assert conditions("migrate") == {"postgres": "service_healthy", "redis": "service_healthy"}
    # A service others wait on to be healthy must have a healthcheck that is not disabled.
    awaited = {
        dep
        for service in SERVICES.values()
        for dep, spec in service.get("depends_on", {}).items()
        if spec["condition"] == "service_healthy"
    }
    for name in awaited:
        check = SERVICES[name].get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_compose_web_and_ws_healthchecks_are_the_image_healthcheck_on_their_ports():
    for name, port in (("web", "8000"), ("ws", "8001")):
        test = SERVICES[name]["healthcheck"]["test"]
        assert test == ["CMD", "python", "/app/docker/healthcheck.py", "--port", port]
        assert SERVICES[name]["expose"] == [port]


def test_compose_volumes_put_static_and_media_where_the_app_and_nginx_expect_them():
    def mounts(name):
        return dict(volume.split(":")[:2] for volume in SERVICES[name].get("volumes", []))

    assert mounts("migrate")["static"] == RUNTIME_ENV["STATIC_ROOT"]
    assert mounts("web")["media"] == RUNTIME_ENV["MEDIA_ROOT"]
    assert mounts("celery_worker")["media"] == RUNTIME_ENV["MEDIA_ROOT"]
    assert mounts("postgres")["postgres_data"] == "/var/lib/postgresql/data"
    assert {"postgres_data", "static", "media"} <= set(COMPOSE["volumes"])
    assert all(volume.endswith(":ro") for volume in SERVICES["nginx"]["volumes"])


def test_every_variable_compose_uses_is_documented_in_env_example():
    documented = env_example_keys()
    used = interpolated_names(COMPOSE_TEXT)
    for name in APP_SERVICES:
        used |= set(SERVICES[name]["environment"])

    assert used - documented == set()
    assert {"POSTGRES_PASSWORD", "FLOWER_BASIC_AUTH", "DATABASE_URL"} <= used  # the check sees them


def compose_dotenv() -> dict[str, str]:
    """A copied .env.example with the secrets compose requires filled in."""
    return {**env_example_values(), "POSTGRES_PASSWORD": "pg-secret", "FLOWER_BASIC_AUTH": "ops:secret"}


def compose_container_env(service: str, dotenv: dict[str, str]) -> dict[str, str]:
    """The environment compose gives a container: .env (env_file), then `environment`, interpolated."""
    declared = SERVICES[service].get("environment", {})
    return {**dotenv, **{key: interpolate(str(value), dotenv) for key, value in declared.items()}}


@pytest.mark.parametrize("service", ["web", "ws", "celery_worker", "celery_beat", "migrate"])
def test_compose_with_a_copied_env_example_gives_working_production_settings(service):
    """What `cp .env.example .env`, filling in the required secrets, and `docker compose up` run with."""
    dotenv = {**env_example_values(), "POSTGRES_PASSWORD": "pg-secret", "FLOWER_BASIC_AUTH": "ops:secret"}
    env = compose_container_env(service, dotenv)

    loaded = runtime.settings_under(
        env, "DEBUG", "DATABASES", "CACHES", "CHANNEL_LAYERS", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"
    )

    database = loaded["DATABASES"]["default"]
    assert loaded["DEBUG"] is False
    assert (database["ENGINE"], database["HOST"], database["PORT"]) == (
        "django.db.backends.postgresql",
        "postgres",
        5432,
    )
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("ecommerce", "ecommerce", "pg-secret")
    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://redis:6379/0"
    assert loaded["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"][0]["address"] == "redis://redis:6379/0"
    assert loaded["CELERY_BROKER_URL"] == "redis://redis:6379/1"
    assert loaded["CELERY_TASK_ALWAYS_EAGER"] is False


def test_compose_refuses_to_start_without_the_database_password():
    dotenv = env_example_values()  # POSTGRES_PASSWORD= is empty there

    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        compose_container_env("web", dotenv)


def test_flower_requires_basic_auth_and_listens_on_loopback_only():
    flower = SERVICES["flower"]

    assert flower["environment"]["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    assert flower["environment"]["CELERY_BROKER_URL"] == SERVICES["web"]["environment"]["CELERY_BROKER_URL"]
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])


def test_compose_secrets_have_no_defaults():
    """The database password must come from .env: `${X:?message}` makes compose refuse without it."""
    postgres = SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"]

    assert postgres.startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD:?" in SERVICES["web"]["environment"]["DATABASE_URL"]


def test_docker_healthcheck_module_is_importable_under_its_test_alias():
    # conftest registers docker/healthcheck.py as `docker_healthcheck` (docker/ is not a package).
    import docker_healthcheck

    assert docker_healthcheck.__file__ == str(ROOT / "docker" / "healthcheck.py")


def test_a_copied_env_example_does_not_start_on_production_settings():
    """`cp .env.example .env` plus the compose-required secrets: the release check (the `migrate`
    service every other one waits for) fails on the change-me key and the dummy gateway."""
    dotenv = {**env_example_values(), "POSTGRES_PASSWORD": "pg-secret", "FLOWER_BASIC_AUTH": "ops:secret"}
    env = compose_container_env("migrate", dotenv)
    (check, *_rest) = image_command(SERVICES["migrate"]["command"])

    result = subprocess.run(
        [sys.executable, *check[1:]],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert check[:3] == ["python", "manage.py", "check"]
    assert result.returncode == 1
    assert "ecommerce.E001" in result.stderr and "ecommerce.E003" in result.stderr


def test_compose_trusts_x_forwarded_for_from_its_nginx_only():
    import ipaddress

    (network,) = COMPOSE["networks"]["default"]["ipam"]["config"]
    nginx_address = SERVICES["nginx"]["networks"]["default"]["ipv4_address"]
    subnet, handed_out = ipaddress.ip_network(network["subnet"]), ipaddress.ip_network(network["ip_range"])

    for name in APP_SERVICES:
        assert SERVICES[name]["environment"]["TRUSTED_PROXIES"] == nginx_address
        assert "NUM_PROXIES" not in SERVICES[name]["environment"]
    # nginx's fixed address is on the network but never handed to another container.
    assert ipaddress.ip_address(nginx_address) in subnet
    assert ipaddress.ip_address(nginx_address) not in handed_out and handed_out.subnet_of(subnet)
    # Docker's gateway (.1, the source of userland-proxied connections) is not trusted.
    assert nginx_address != str(next(subnet.hosts()))
