"""nginx/conf.d/default.conf agrees with docker-compose.yml, the image and Django's settings; where an
nginx binary is installed, nginx itself accepts the file and proxies a real request through it."""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests
import yaml

from tests.support import runtime
from tests.support.parsers import ROOT, entrypoint_commands, nginx_seconds, nginx_size, option_value, parse_nginx

CONFIG_PATH = ROOT / "nginx" / "conf.d" / "default.conf"
CONFIG_TEXT = CONFIG_PATH.read_text()
CONFIG = parse_nginx(CONFIG_TEXT)
SERVER = CONFIG.find_one("server")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def location(path: str):
    return SERVER.find_one("location", path)


def proxy_headers(block) -> dict[str, str]:
    return {d.args[0].lower(): " ".join(d.args[1:]) for d in block.find("proxy_set_header")}


def maps() -> dict[str, str]:
    """Variable a map defines -> the variable it reads."""
    return {d.args[1]: d.args[0] for d in CONFIG.find("map")}


def test_compose_mounts_this_file_where_nginx_reads_it():
    mounts = [volume.split(":") for volume in COMPOSE["nginx"]["volumes"]]

    assert ["./nginx/conf.d/default.conf", "/etc/nginx/conf.d/default.conf", "ro"] in mounts


def upstream_servers() -> dict[str, tuple[str, str]]:
    """Upstream name -> (host, port) of its one server."""
    servers = {}
    for upstream in CONFIG.find("upstream"):
        (server,) = upstream.find("server")
        host, port = server.args[0].split(":")
        servers[upstream.args[0]] = (host, port)
    return servers


def test_http_goes_to_the_gunicorn_web_service_and_websockets_to_the_uvicorn_ws_service():
    *_checks, web_command = entrypoint_commands(*COMPOSE["web"]["command"])
    *_checks, ws_command = entrypoint_commands(*COMPOSE["ws"]["command"])
    servers = upstream_servers()

    def upstream_of(path: str) -> str:
        (target,) = location(path).find_one("proxy_pass").args
        return target.removeprefix("http://")

    assert web_command[0] == "gunicorn" and ws_command[0] == "uvicorn"
    assert servers[upstream_of("/")] == ("web", option_value(web_command, "--bind").rsplit(":", 1)[1])
    assert servers[upstream_of("/ws/")] == ("ws", option_value(ws_command, "--port"))
    assert servers[upstream_of("/")][1] == COMPOSE["web"]["expose"][0] == "8000"
    assert servers[upstream_of("/ws/")][1] == COMPOSE["ws"]["expose"][0] == "8001"
    assert set(COMPOSE["nginx"]["depends_on"]) == {"web", "ws"}


def test_nginx_listens_on_the_port_compose_publishes():
    published = COMPOSE["nginx"]["ports"][0].rsplit(":", 1)[1]

    assert SERVER.find_one("listen").args[0] == published == "80"


def test_static_and_media_come_from_the_volumes_compose_mounts():
    nginx_mounts = dict(v.split(":")[:2] for v in COMPOSE["nginx"]["volumes"])
    static_alias = location("/static/").find_one("alias").args[0]
    media_alias = location("/media/").find_one("alias").args[0]

    assert static_alias.rstrip("/") == nginx_mounts["static"]
    assert media_alias.rstrip("/") == nginx_mounts["media"]
    from django.conf import settings

    assert settings.STATIC_URL == "/static/" and settings.MEDIA_URL == "/media/"


def test_websockets_are_upgraded_on_ws_with_a_long_read_timeout():
    ws = location("/ws/")
    headers = proxy_headers(ws)

    assert headers["upgrade"] == "$http_upgrade"
    assert headers["connection"] == "$connection_upgrade"
    assert maps()["$connection_upgrade"] == "$http_upgrade"
    assert nginx_seconds(ws.find_one("proxy_read_timeout").args[0]) >= 3600
    assert SERVER.find_one("proxy_http_version").args == ["1.1"]


def test_websocket_routes_of_the_app_live_under_ws():
    """nginx upgrades only /ws/: every websocket route of SPEC.md must be there."""
    from chat.routing import websocket_urlpatterns

    concrete = [p for p in websocket_urlpatterns if str(p.pattern).strip("^$") != ""]  # not the catch-all
    assert concrete
    for pattern in concrete:
        assert str(pattern.pattern).lstrip("^").startswith("ws/"), pattern
    for path in ("ws/chat/8a0f0d4e-1c2b-4d3e-9f00-123456789abc/", "ws/support/"):
        assert any(pattern.resolve(path) for pattern in concrete), path


def test_forwarded_headers_and_request_id_reach_the_app_under_the_names_it_reads():
    from core.middleware import REQUEST_ID_HEADER

    production = (ROOT / "ecommerce_api" / "settings" / "production.py").read_text()
    proxied_header = re.search(r'SECURE_PROXY_SSL_HEADER = \("HTTP_([A-Z_]+)", "https"\)', production).group(1)
    for block in (SERVER, location("/ws/")):
        headers = proxy_headers(block)
        assert headers["x-forwarded-for"] == "$proxy_add_x_forwarded_for"
        assert headers[proxied_header.lower().replace("_", "-")] == "$forwarded_proto"
        assert headers[REQUEST_ID_HEADER.lower()] == "$forwarded_request_id"
        assert headers["host"] == "$host"
    assert maps()["$forwarded_request_id"] == "$http_x_request_id"
    assert maps()["$forwarded_proto"] == "$http_x_forwarded_proto"
    # A location with its own proxy_set_header inherits none from the server: `/` must have none.
    assert location("/").find("proxy_set_header") == []


def test_request_body_limit_is_not_below_what_django_accepts():
    from django.conf import settings

    assert nginx_size(SERVER.find_one("client_max_body_size").args[0]) >= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_timeouts_are_bounded_and_gzip_covers_json():
    assert nginx_seconds(SERVER.find_one("proxy_connect_timeout").args[0]) <= 10
    assert 30 <= nginx_seconds(SERVER.find_one("proxy_read_timeout").args[0]) <= 300
    assert SERVER.find_one("gzip").args == ["on"]
    assert "application/json" in SERVER.find_one("gzip_types").args


def test_servers_keep_idle_connections_longer_than_nginx_reuses_them():
    """Otherwise nginx may send a request on a connection the server is closing (a 502)."""
    *_checks, web_command = entrypoint_commands("web")
    *_checks, ws_command = entrypoint_commands("ws")
    nginx_keepalive = nginx_seconds(SERVER.find_one("keepalive_timeout").args[0])

    assert int(option_value(web_command, "--keep-alive")) > nginx_keepalive
    assert int(option_value(ws_command, "--timeout-keep-alive")) > nginx_keepalive


# --- with a real nginx, when one is installed ----------------------------------------------------

NGINX = shutil.which("nginx") or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="no nginx binary on this machine")


def local_config(*, nginx_port: int, app_port: int, root: Path, ws_port: int | None = None) -> str:
    """The compose config adapted to run here: loopback ports, temp dirs for volumes and logs.
    Docker's DNS (127.0.0.11) and upstream `resolve` (nginx >= 1.27.3) do not exist locally."""
    text = CONFIG_TEXT
    text = re.sub(r"^resolver .*$", "", text, flags=re.M)
    text = text.replace("server web:8000 resolve;", f"server 127.0.0.1:{app_port};")
    text = text.replace("server ws:8001 resolve;", f"server 127.0.0.1:{ws_port or runtime.free_port()};")
    text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{nginx_port} default_server;")
    text = text.replace("/var/www/", f"{root}/www/").replace("/var/log/nginx/", f"{root}/logs/")
    assert "web:8000" not in text and "ws:8001" not in text and "listen 80 " not in text
    return text


def write_nginx_tree(root: Path, server_config: str) -> Path:
    (root / "logs").mkdir()
    (root / "conf.d").mkdir()
    (root / "www" / "static").mkdir(parents=True)
    (root / "www" / "media").mkdir()
    (root / "conf.d" / "default.conf").write_text(server_config)
    main = root / "nginx.conf"
    main.write_text(
        f"pid {root}/nginx.pid;\n"
        f"error_log {root}/logs/error.log;\n"
        "daemon off;\n"
        "events {}\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n"
        f"  client_body_temp_path {root}/body;\n"
        f"  proxy_temp_path {root}/proxy;\n"
        f"  fastcgi_temp_path {root}/fastcgi;\n"
        f"  uwsgi_temp_path {root}/uwsgi;\n"
        f"  scgi_temp_path {root}/scgi;\n"
        f"  include {root}/conf.d/*.conf;\n"
        "}\n"
    )
    return main


@needs_nginx
def test_nginx_accepts_the_configuration(tmp_path):
    main = write_nginx_tree(tmp_path, local_config(nginx_port=runtime.free_port(), app_port=8000, root=tmp_path))

    result = subprocess.run(
        [str(NGINX), "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr


@needs_nginx
def test_requests_through_nginx_reach_the_app_with_their_request_id_and_static_files_are_served():
    root = Path(tempfile.mkdtemp(prefix="nginx-test-"))
    root.chmod(0o755)  # nginx workers drop root privileges and must read the static files
    app_port, nginx_port = runtime.free_port(), runtime.free_port()
    main = write_nginx_tree(root, local_config(nginx_port=nginx_port, app_port=app_port, root=root))
    (root / "www" / "static" / "probe.txt").write_text("static ok\n")
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ecommerce_api.wsgi:application",
            "--bind",
            f"127.0.0.1:{app_port}",
            "--worker-class",
            "gthread",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=runtime.production_env(ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proxy = subprocess.Popen(
        [str(NGINX), "-c", str(main), "-p", str(root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{nginx_port}"
    try:
        runtime.wait_for_http(f"http://127.0.0.1:{app_port}/health/live/", app)
        runtime.wait_for_http(f"{base}/nginx-health", proxy)
        with_id = requests.get(f"{base}/health/live/", headers={"X-Request-ID": "req-from-client-42"}, timeout=10)
        without_id = requests.get(f"{base}/health/live/", timeout=10)
        static = requests.get(f"{base}/static/probe.txt", timeout=10)
        missing_static = requests.get(f"{base}/static/nope.txt", timeout=10)
        metrics = requests.get(f"{base}/metrics", timeout=10)
    finally:
        runtime.stop(proxy)
        runtime.stop(app)
        shutil.rmtree(root, ignore_errors=True)

    assert with_id.status_code == 200 and with_id.json() == {"status": "ok"}
    assert with_id.headers["X-Request-ID"] == "req-from-client-42"
    # Without one, the app receives nginx's own id (32 hex digits) and echoes it.
    assert re.fullmatch(r"[0-9a-f]{32}", without_id.headers["X-Request-ID"])
    assert static.status_code == 200 and static.text == "static ok\n"
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    assert missing_static.status_code == 404
    assert metrics.status_code == 404  # not public through the proxy


def test_access_log_format_has_the_path_but_never_the_query_string():
    (log_format,) = CONFIG.find("log_format")
    text = " ".join(log_format.args)

    assert '"uri":"$uri"' in text
    for leaky in ("$request_uri", "$request ", "$args", "$query_string", "$http_referer"):
        assert leaky not in text + " ", leaky
    assert SERVER.find_one("access_log").args[1] == log_format.args[0]


def test_metrics_is_refused_by_prefix_not_only_the_exact_path():
    assert SERVER.find_one("location", "^~", "/metrics").find_one("return").args == ["404"]


def get_from(source: str, port: int, path: str, headers: dict[str, str]) -> int:
    """A GET whose TCP connection comes from `source` (any 127.x address is this machine)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def websocket_close_code(url: str, origin: str) -> int:
    """Open a websocket and return the code the server closes it with."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(url, origin=origin, open_timeout=30) as socket:
        try:
            socket.recv(timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd.code
    raise AssertionError("the server did not close the socket")


@needs_nginx
def test_through_nginx_tokens_stay_out_of_the_log_metrics_stay_private_and_forged_addresses_fail():
    """nginx in front of the image's real web and ws roles, trusted as compose trusts it
    (TRUSTED_PROXIES is nginx's address, here 127.0.0.1). Callers connect from 127.0.0.2 and
    127.0.0.3."""
    import os

    from tests.support.parsers import ENTRYPOINT

    root = Path(tempfile.mkdtemp(prefix="nginx-test-"))
    root.chmod(0o755)
    app_port, ws_port, nginx_port = runtime.free_port(), runtime.free_port(), runtime.free_port()
    main = write_nginx_tree(root, local_config(nginx_port=nginx_port, app_port=app_port, ws_port=ws_port, root=root))
    env = runtime.production_env(
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION="true",
        WEB_CONCURRENCY="1",
        TRUSTED_PROXIES="127.0.0.1",
        METRICS_TOKEN="metrics-secret-token",
        GLOBAL_ANON_THROTTLE_RATE="2/minute",
        CACHE_URL="",
        CACHE_URLS="",
        REDIS_URL="",
    )
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"
    app = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "web"],
        cwd=ROOT,
        env={**env, "WEB_PORT": str(app_port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ws_app = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "ws", "--host", "127.0.0.1", "--port", str(ws_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proxy = subprocess.Popen(
        [str(NGINX), "-c", str(main), "-p", str(root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{nginx_port}"
    bearer = {"Authorization": "Bearer metrics-secret-token"}
    try:
        runtime.wait_for_http(f"http://127.0.0.1:{app_port}/health/live/", app, timeout=120)
        runtime.wait_for_http(f"http://127.0.0.1:{ws_port}/health/live/", ws_app, timeout=120)
        runtime.wait_for_http(f"{base}/nginx-health", proxy)
        # Upgraded by nginx, answered by Channels on the ws role: the consumer accepts, then closes
        # 4401 for a token that is not a valid JWT. The web role (WSGI) has no websockets at all.
        ws_close = websocket_close_code(
            f"ws://127.0.0.1:{nginx_port}/ws/support/?token=secret-ws-token-123", origin="http://127.0.0.1"
        )
        ws_path_on_web = requests.get(f"http://127.0.0.1:{app_port}/ws/support/", timeout=10).status_code
        api_server = requests.get(f"http://127.0.0.1:{app_port}/health/live/", timeout=10).headers.get("Server")
        requests.get(f"{base}/health/live/?order_token=secret-order-token-456", timeout=10)
        metrics = {
            path: requests.get(f"{base}{path}", headers=bearer, timeout=10).status_code
            for path in ("/metrics", "/metrics/", "/%6detrics", "//metrics", "/metrics?format=text")
        }
        metrics_direct = requests.get(f"http://127.0.0.1:{app_port}/metrics", headers=bearer, timeout=10).status_code
        schema = "/api/v1/schema/"
        forged = [get_from("127.0.0.2", nginx_port, schema, {"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(3)]
        other_client = get_from("127.0.0.3", nginx_port, schema, {})
        access_log = (root / "logs" / "access.log").read_text()
    finally:
        runtime.stop(proxy)
        runtime.stop(app)
        runtime.stop(ws_app)
        shutil.rmtree(root, ignore_errors=True)

    assert ws_close == 4401
    assert ws_path_on_web == 404 and api_server == "gunicorn"
    assert "/ws/support/" in access_log and "/health/live/" in access_log
    assert "secret-ws-token-123" not in access_log and "secret-order-token-456" not in access_log
    assert set(metrics.values()) == {404}, metrics  # even with the right token: not public
    assert metrics_direct == 200  # Prometheus' way in: the app's port, with the token
    # nginx appends the address it saw (127.0.0.2); the forged hops to its left do not count.
    assert forged == [200, 200, 429]
    assert other_client == 200
