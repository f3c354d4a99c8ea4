"""The Helm chart, rendered with its values (tests/support/gotemplate.py stands in for helm), points
at commands, routes, ports, users and variables that exist, and keeps its operational promises:
one beat, migrations before pods, probes on the health endpoints, autoscaling, non-root pods."""

import re

import pytest
import yaml

from tests.support import helm, runtime
from tests.support.gotemplate import TemplateError
from tests.support.parsers import (
    ROOT,
    entrypoint_commands,
    env_example_keys,
    in_stage,
    last_stage,
    option_value,
    parse_dockerfile,
    stage_args,
    stage_env,
    substitute,
)

DEFAULT = helm.render()
VALUES = helm.default_values()
DOCKERFILE = parse_dockerfile(ROOT / "Dockerfile")
IMAGE_ENV = stage_env(DOCKERFILE, last_stage(DOCKERFILE))
# What the image runs before serving or migrating (docker/entrypoint.sh, core/checks.py).
SECURITY_CHECKS = ["python", "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "ERROR"]
# Environment entries the chart computes per pod; they are not settings of the app.
POD_ONLY_ENV = {"POD_IP"}


def workload(name: str, rendered=DEFAULT) -> dict:
    return rendered.one("Deployment", f"-{name}")


def container(name: str, rendered=DEFAULT) -> dict:
    (only,) = helm.containers(workload(name, rendered))
    return only


def container_command(name: str, rendered=DEFAULT) -> list[list[str]]:
    """What the container runs: the entrypoint for its args, with its literal env entries."""
    spec = container(name, rendered)
    env = {item["name"]: item["value"] for item in spec["env"] if "value" in item}
    return entrypoint_commands(*spec["args"], env=env)


def listen_port(command: list[str]) -> int:
    if command[0] == "gunicorn":
        return int(option_value(command, "--bind").rsplit(":", 1)[1])
    return int(option_value(command, "--port"))


# The Deployments that serve HTTP: web (gunicorn, every public path but /ws) and ws (uvicorn).
SERVERS = ("web", "ws")


def image_uid() -> int:
    user = in_stage(DOCKERFILE, last_stage(DOCKERFILE), "USER")[-1].value
    return int(substitute(user, stage_args(DOCKERFILE, last_stage(DOCKERFILE))).split(":")[0])


def test_chart_metadata_is_a_helm_3_application_chart():
    chart = helm.chart()

    assert chart["apiVersion"] == "v2"
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert chart["appVersion"]


def test_chart_renders_every_workload_and_the_objects_around_them():
    kinds = sorted((m["kind"], m["metadata"]["name"]) for m in DEFAULT.manifests)

    assert kinds == [
        ("ConfigMap", "shop-ecommerce-api-config"),
        ("Deployment", "shop-ecommerce-api-beat"),
        ("Deployment", "shop-ecommerce-api-web"),
        ("Deployment", "shop-ecommerce-api-worker"),
        ("Deployment", "shop-ecommerce-api-ws"),
        ("HorizontalPodAutoscaler", "shop-ecommerce-api-web"),
        ("HorizontalPodAutoscaler", "shop-ecommerce-api-worker"),
        ("HorizontalPodAutoscaler", "shop-ecommerce-api-ws"),
        ("Ingress", "shop-ecommerce-api"),
        ("Job", "shop-ecommerce-api-migrate"),
        ("PodDisruptionBudget", "shop-ecommerce-api-web"),
        ("PodDisruptionBudget", "shop-ecommerce-api-ws"),
        ("Secret", "shop-ecommerce-api-secrets"),
        ("Service", "shop-ecommerce-api-web"),
        ("Service", "shop-ecommerce-api-ws"),
        ("ServiceAccount", "shop-ecommerce-api"),
    ]
    assert "shop-ecommerce-api-migrate" in DEFAULT.notes
    assert "shop-ecommerce-api-ws" in DEFAULT.notes and "gunicorn" in DEFAULT.notes


@pytest.mark.parametrize(
    ("name", "expected_start"),
    [
        ("web", ["gunicorn", "ecommerce_api.wsgi:application"]),
        ("ws", ["uvicorn", "ecommerce_api.asgi:application"]),
        ("worker", ["celery", "-A", "ecommerce_api", "worker"]),
        ("beat", ["celery", "-A", "ecommerce_api", "beat"]),
    ],
)
def test_each_deployment_runs_an_image_role_that_starts_existing_code(name, expected_start):
    *checks, command = container_command(name)

    assert command[: len(expected_start)] == expected_start
    assert checks == ([SECURITY_CHECKS] if name in SERVERS else [])
    if command[0] == "gunicorn":
        assert runtime.server_app_under_production(command[1]) == {
            "callable": True,
            "type": "django.core.handlers.wsgi.WSGIHandler",
        }
        assert option_value(command, "--worker-class") == "gthread"
    elif command[0] == "uvicorn":
        assert callable(runtime.import_object(command[1]))
    else:
        runtime.celery_app(option_value(command, "-A"))


def test_web_processes_threads_and_ports_come_from_the_values():
    rendered = helm.render({"web": {"concurrency": 3, "threads": 8, "port": 9000}, "ws": {"concurrency": 2}})
    *_checks, web = container_command("web", rendered)
    *_checks, ws = container_command("ws", rendered)

    assert (option_value(web, "--workers"), option_value(web, "--threads"), listen_port(web)) == ("3", "8", 9000)
    assert container("web", rendered)["ports"][0]["containerPort"] == 9000
    assert (option_value(ws, "--workers"), listen_port(ws)) == ("2", VALUES["ws"]["port"])


@pytest.mark.parametrize("name", SERVERS)
def test_servers_finish_in_flight_work_within_the_termination_grace_period(name):
    *_checks, command = container_command(name)
    graceful = option_value(command, "--graceful-timeout", "--timeout-graceful-shutdown")
    pod = workload(name)["spec"]["template"]["spec"]
    (pre_stop_sleep,) = [int(word) for word in pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1:]]

    assert pod["terminationGracePeriodSeconds"] > int(graceful) + pre_stop_sleep


def test_worker_consumes_every_routed_queue():
    env = {item["name"]: item.get("value") for item in container("worker")["env"]}
    (command,) = entrypoint_commands("worker", env={"CELERY_WORKER_QUEUES": env["CELERY_WORKER_QUEUES"]})

    assert set(option_value(command, "-Q").split(",")) == runtime.routed_queues()


@pytest.mark.parametrize("name", SERVERS)
def test_server_probes_hit_the_health_views_on_the_port_the_server_listens_on(name):
    web = container(name)
    (port,) = web["ports"]
    *_checks, command = container_command(name)

    assert port["name"] == "http" and port["containerPort"] == listen_port(command)
    assert listen_port(command) == {"web": 8000, "ws": 8001}[name]  # the image's defaults as well
    assert runtime.view_name(web["livenessProbe"]["httpGet"]["path"]) == "core.health.live"
    assert runtime.view_name(web["startupProbe"]["httpGet"]["path"]) == "core.health.live"
    assert runtime.view_name(web["readinessProbe"]["httpGet"]["path"]) == "core.health.ready"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert web[probe]["httpGet"]["port"] == "http"
        assert "httpHeaders" not in web[probe]["httpGet"]  # pods accept their own IP (next test)


def test_probes_sent_to_the_pod_ip_pass_djangos_host_validation():
    """kubelet sends `Host: <pod IP>:<port>`; the chart adds the pod IP to ALLOWED_HOSTS."""
    env = {item["name"]: item for item in container("web")["env"]}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    pod_ip = "10.42.7.19"
    allowed = env["ALLOWED_HOSTS"]["value"].replace("$(POD_IP)", pod_ip)
    for name in SERVERS:
        names = [item["name"] for item in container(name)["env"]]
        assert names.index("POD_IP") < names.index("ALLOWED_HOSTS")  # $(VAR) sees only earlier entries
        ws_env = {item["name"]: item for item in container(name)["env"]}
        assert ws_env["ALLOWED_HOSTS"] == env["ALLOWED_HOSTS"] and ws_env["POD_IP"] == env["POD_IP"]
    probes = container("web")

    answers = runtime.production_answers(
        [
            (probes["livenessProbe"]["httpGet"]["path"], f"{pod_ip}:8000", {}),
            (probes["readinessProbe"]["httpGet"]["path"], f"{pod_ip}:8000", {}),
            ("/health/live/", "10.42.7.20:8000", {}),  # another pod's IP: refused
            ("/health/live/", VALUES["ingress"]["hosts"][0]["host"], {}),
        ],
        ALLOWED_HOSTS=allowed,
    )

    assert [answer["status"] for answer in answers] == [200, 200, 400, 200]


def test_probe_host_header_is_sent_when_configured():
    rendered = helm.render({"probes": {"host": "shop.example.com"}})

    for name in SERVERS:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container(name, rendered)[probe]["httpGet"]["httpHeaders"] == [
                {"name": "Host", "value": "shop.example.com"}
            ]


def test_beat_is_a_single_pod_replaced_with_recreate_whatever_the_values_say():
    rendered = helm.render({"beat": {"replicaCount": 3}, "web": {"replicaCount": 5}})
    beat = workload("beat", rendered)

    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = [hpa["spec"]["scaleTargetRef"]["name"] for hpa in rendered.all("HorizontalPodAutoscaler")]
    assert beat["metadata"]["name"] not in targets


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook_after_their_config_exists():
    job = DEFAULT.one("Job", "-migrate")
    annotations = job["metadata"]["annotations"]
    (spec,) = job["spec"]["template"]["spec"]["containers"]

    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    checks, command = entrypoint_commands(*spec["args"])
    assert checks == SECURITY_CHECKS  # an unsafe configuration fails the upgrade before any pod rolls
    assert command[:3] == ["python", "manage.py", "migrate"]
    assert command[2] in runtime.management_commands()
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # The Job reads the ConfigMap and Secret: they are hooks too, with a lower weight.
    job_weight = int(annotations["helm.sh/hook-weight"])
    for kind in ("ConfigMap", "Secret"):
        config = DEFAULT.one(kind)["metadata"]["annotations"]
        assert set(config["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
        assert int(config["helm.sh/hook-weight"]) < job_weight
    # A chart-made service account is not there yet at pre-install: the Job must not need it.
    assert "serviceAccountName" not in job["spec"]["template"]["spec"]


def test_migration_job_can_be_turned_off():
    assert helm.render({"migrations": {"enabled": False}}).all("Job") == []


def test_web_ws_and_worker_autoscale_and_hand_their_replica_count_to_the_hpa():
    deployments = {m["metadata"]["name"]: m for m in DEFAULT.all("Deployment")}
    for hpa in DEFAULT.all("HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments
        assert "replicas" not in deployments[target["name"]]["spec"]
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert {h["spec"]["scaleTargetRef"]["name"] for h in DEFAULT.all("HorizontalPodAutoscaler")} == {
        "shop-ecommerce-api-web",
        "shop-ecommerce-api-ws",
        "shop-ecommerce-api-worker",
    }

    fixed = helm.render(
        {
            "web": {"autoscaling": {"enabled": False}, "replicaCount": 3},
            "ws": {"autoscaling": {"enabled": False}, "replicaCount": 4},
        }
    )
    assert [h["metadata"]["name"] for h in fixed.all("HorizontalPodAutoscaler")] == ["shop-ecommerce-api-worker"]
    assert workload("web", fixed)["spec"]["replicas"] == 3
    assert workload("ws", fixed)["spec"]["replicas"] == 4


def test_web_and_ws_each_keep_a_pod_through_disruptions():
    for name in SERVERS:
        budget = DEFAULT.one("PodDisruptionBudget", f"-{name}")
        labels = workload(name)["spec"]["template"]["metadata"]["labels"]
        selector = budget["spec"]["selector"]["matchLabels"]
        assert budget["spec"]["minAvailable"] == 1
        assert all(labels[key] == value for key, value in selector.items())
        assert selector["app.kubernetes.io/component"] == name

    without_ws = helm.render({"ws": {"podDisruptionBudget": {"enabled": False}}})
    assert [b["metadata"]["name"] for b in without_ws.all("PodDisruptionBudget")] == ["shop-ecommerce-api-web"]


@pytest.mark.parametrize("name", SERVERS)
def test_each_service_selects_its_own_pods_named_port(name):
    service = DEFAULT.one("Service", f"-{name}")
    labels = workload(name)["spec"]["template"]["metadata"]["labels"]

    assert service["spec"]["ports"][0]["targetPort"] == container(name)["ports"][0]["name"]
    assert all(labels[key] == value for key, value in service["spec"]["selector"].items())
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == name
    # The other server's pods are not behind this Service.
    (other,) = [n for n in SERVERS if n != name]
    other_labels = workload(other)["spec"]["template"]["metadata"]["labels"]
    assert not all(other_labels.get(key) == value for key, value in service["spec"]["selector"].items())


def test_ingress_sends_websockets_to_ws_and_every_other_path_to_web():
    services = {m["metadata"]["name"]: m for m in DEFAULT.all("Service")}
    for rule in DEFAULT.one("Ingress")["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            backend = entry["backend"]["service"]
            assert backend["name"] in services and backend["port"] == {"name": "http"}

    assert ingress_backend("/ws/support/") == ingress_backend("/ws/chat/8a0f/") == "shop-ecommerce-api-ws"
    for path in ("/api/v1/products/", "/api/docs/", "/admin/login/", "/static/app.css", "/health/live/"):
        assert ingress_backend(path) == "shop-ecommerce-api-web", path


def test_ingress_keeps_websockets_open_and_accepts_djangos_body_size():
    from django.conf import settings

    from tests.support.parsers import nginx_size

    annotations = DEFAULT.one("Ingress")["metadata"]["annotations"]

    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert nginx_size(annotations["nginx.ingress.kubernetes.io/proxy-body-size"]) >= (
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    hosts = [rule["host"] for rule in DEFAULT.one("Ingress")["spec"]["rules"]]
    assert set(hosts) <= set(VALUES["config"]["ALLOWED_HOSTS"].split(","))


def test_every_variable_the_chart_sets_is_documented_in_env_example():
    documented = env_example_keys()
    config_keys = set(DEFAULT.one("ConfigMap")["data"])
    secret_keys = set(
        helm.render({"secrets": {"values": dict.fromkeys(VALUES["secrets"]["values"], "x")}}).one("Secret")[
            "stringData"
        ]
    )
    container_env = {item["name"] for name in ("web", "ws", "worker", "beat") for item in container(name)["env"]}

    assert config_keys - documented == set()
    assert secret_keys - documented == set()
    assert container_env - documented - POD_ONLY_ENV == set()
    assert {"SECRET_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY"} <= secret_keys  # secrets are not in the ConfigMap
    assert not {"SECRET_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY"} & config_keys


def test_chart_config_with_its_secrets_gives_working_production_settings():
    """The environment a web pod gets from the ConfigMap, the Secret and its own env entries."""
    secrets = {
        "SECRET_KEY": "k8s-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-0123456789",
        "DATABASE_URL": "postgres://shop:pw@db.internal:5432/shop",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/1",
    }
    rendered = helm.render({"secrets": {"values": secrets}})
    env = {**rendered.one("ConfigMap")["data"], **rendered.one("Secret")["stringData"]}
    for item in container("web", rendered)["env"]:
        if "value" in item:
            env[item["name"]] = item["value"].replace("$(POD_IP)", "10.42.0.7")

    loaded = runtime.settings_under(
        env,
        "DEBUG",
        "ALLOWED_HOSTS",
        "DATABASES",
        "CHANNEL_LAYERS",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "REST_FRAMEWORK",
        "TRUSTED_PROXIES",
        "SENTRY_TRACES_SAMPLE_RATE",
    )

    assert loaded["DEBUG"] is False
    assert loaded["ALLOWED_HOSTS"] == ["shop.example.com", "10.42.0.7"]
    assert loaded["DATABASES"]["default"]["HOST"] == "db.internal"
    assert loaded["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"][0]["address"] == "redis://redis.internal:6379/0"
    assert loaded["SECURE_SSL_REDIRECT"] is True and loaded["SESSION_COOKIE_SECURE"] is True
    # X-Forwarded-For from the ingress controller's pods only; DRF's own rule stays off.
    assert loaded["TRUSTED_PROXIES"] == ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    assert loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
    assert loaded["SENTRY_TRACES_SAMPLE_RATE"] == 0.0


def test_pods_read_the_configmap_and_secret_the_chart_renders_or_an_existing_secret():
    config_name = DEFAULT.one("ConfigMap")["metadata"]["name"]
    secret_name = DEFAULT.one("Secret")["metadata"]["name"]
    for name in ("web", "ws", "worker", "beat"):
        assert container(name)["envFrom"] == [
            {"configMapRef": {"name": config_name}},
            {"secretRef": {"name": secret_name}},
        ]

    external = helm.render({"secrets": {"existingSecret": "shop-secrets"}})
    assert external.all("Secret") == []
    assert container("web", external)["envFrom"][1] == {"secretRef": {"name": "shop-secrets"}}


def test_empty_values_are_left_out_so_settings_defaults_apply():
    rendered = helm.render({"config": {"ERP_API_URL": ""}, "secrets": {"values": {"SECRET_KEY": "s3cret"}}})

    assert "ERP_API_URL" not in rendered.one("ConfigMap")["data"]
    assert rendered.one("Secret")["stringData"] == {"SECRET_KEY": "s3cret"}


def test_a_changed_config_rolls_the_pods():
    changed = helm.render({"config": {"LOG_LEVEL": "DEBUG"}})
    key = "checksum/config"

    before = workload("web")["spec"]["template"]["metadata"]["annotations"][key]
    after = workload("web", changed)["spec"]["template"]["metadata"]["annotations"][key]
    assert before != after


def test_pods_run_as_the_images_non_root_user_with_a_read_only_root():
    pods = [m["spec"]["template"]["spec"] for m in DEFAULT.all("Deployment") + DEFAULT.all("Job")]
    (beat_command,) = entrypoint_commands("beat")
    schedule_dir = option_value(beat_command, "--schedule").rsplit("/", 1)[0]

    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == image_uid()
        assert pod["automountServiceAccountToken"] is False
        for spec in pod["containers"]:
            assert spec["securityContext"]["readOnlyRootFilesystem"] is True
            assert spec["securityContext"]["allowPrivilegeEscalation"] is False
            assert spec["securityContext"]["capabilities"]["drop"] == ["ALL"]
            # Writable scratch space where the app writes (beat's schedule among it).
            mounts = {m["mountPath"]: m["name"] for m in spec["volumeMounts"]}
            assert mounts[schedule_dir] == "tmp"
        assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]


def test_every_container_has_requests_and_limits():
    pods = [m["spec"]["template"]["spec"] for m in DEFAULT.all("Deployment") + DEFAULT.all("Job")]

    for pod in pods:
        for spec in pod["containers"]:
            assert set(spec["resources"]) == {"requests", "limits"}, spec["name"]
            assert {"cpu", "memory"} <= set(spec["resources"]["requests"])
            assert "memory" in spec["resources"]["limits"]


def test_media_volume_is_mounted_where_the_image_keeps_uploads():
    rendered = helm.render({"media": {"persistence": {"enabled": True}}})
    claim = rendered.one("PersistentVolumeClaim")

    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    for name in ("web", "worker"):
        mounts = {m["name"]: m["mountPath"] for m in container(name, rendered)["volumeMounts"]}
        assert mounts["media"] == IMAGE_ENV["MEDIA_ROOT"]
    assert DEFAULT.all("PersistentVolumeClaim") == []


def test_datadog_agent_host_is_the_nodes_address_when_enabled():
    rendered = helm.render({"datadog": {"enabled": True}})
    env = {item["name"]: item for item in container("web", rendered)["env"]}

    assert env["DD_AGENT_HOST"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert "DD_AGENT_HOST" not in {item["name"] for item in container("web")["env"]}


def test_allowed_hosts_is_required():
    with pytest.raises(TemplateError, match="ALLOWED_HOSTS"):
        helm.render({"config": {"ALLOWED_HOSTS": ""}})


# --- the templates themselves --------------------------------------------------------------------

TEMPLATES = helm.template_sources()


def _values_paths(values, prefix=""):
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        if isinstance(value, dict):
            yield from _values_paths(value, path)


def test_every_values_path_the_templates_read_exists_in_values_yaml():
    """A typo in `.Values.x.y` renders as empty in helm, silently; here it fails."""
    known = set(_values_paths(VALUES))
    used = set()
    for source in TEMPLATES.values():
        used |= set(re.findall(r"\$?\.Values\.([A-Za-z0-9_.]+)", source))
    # `index $.Values $component` reads web.*, ws.* and worker.* through a variable.
    used |= {
        f"{component}.autoscaling.{key}"
        for component in ("web", "ws", "worker")
        for key in (
            "enabled",
            "minReplicas",
            "maxReplicas",
            "targetCPUUtilizationPercentage",
            "targetMemoryUtilizationPercentage",
        )
    }
    used |= {f"{component}.podDisruptionBudget.{key}" for component in SERVERS for key in ("enabled", "minAvailable")}

    assert sorted(path.rstrip(".") for path in used if path.rstrip(".") not in known) == []


def test_every_included_template_is_defined():
    defined = set()
    for source in TEMPLATES.values():
        defined |= set(re.findall(r'define "([^"]+)"', source))
    included = set()
    for source in TEMPLATES.values():
        included |= set(re.findall(r'include "([^"]+)"', source))

    assert included - defined == set()
    assert "ecommerce-api.fullname" in defined


def test_values_file_is_plain_yaml_and_documents_its_secret_keys_as_empty():
    values = yaml.safe_load((helm.CHART_DIR / "values.yaml").read_text())

    assert all(value == "" for value in values["secrets"]["values"].values())
    assert values["secrets"]["existingSecret"] == ""


def ingress_backend(path: str, rendered=DEFAULT) -> str | None:
    """The Service the Ingress sends this request path to, or None (Kubernetes' Exact / Prefix
    rules: a Prefix matches whole path elements; Exact wins, then the longest prefix)."""
    matches = []
    for rule in rendered.one("Ingress")["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            prefix, service = entry["path"], entry["backend"]["service"]["name"]
            if entry["pathType"] == "Exact" and path == prefix:
                return service
            if entry["pathType"] in ("Prefix", "ImplementationSpecific"):
                trimmed = prefix.rstrip("/")
                if trimmed == "" or path == trimmed or path.startswith(trimmed + "/"):
                    matches.append((len(trimmed), service))
    return max(matches)[1] if matches else None


def ingress_routes(path: str, rendered=DEFAULT) -> bool:
    """Whether the Ingress sends this request path to the app at all."""
    return ingress_backend(path, rendered) is not None


def test_ingress_routes_the_public_paths_and_never_metrics():
    for public in (
        "/api/v1/products/",
        "/api/docs/",
        "/ws/support/",
        "/admin/login/",
        "/static/app.css",
        "/health/live/",
    ):
        assert ingress_routes(public), public
    for private in ("/metrics", "/metrics/", "/"):
        assert not ingress_routes(private), private
    # Every routed prefix leads somewhere the app serves (no dead route, no catch-all).
    for rule in DEFAULT.one("Ingress")["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            assert entry["path"] not in ("", "/")


def test_metrics_token_is_a_secret_and_the_service_monitor_sends_it():
    rendered = helm.render(
        {"metrics": {"serviceMonitor": {"enabled": True}}, "secrets": {"values": {"METRICS_TOKEN": "prom-token"}}}
    )
    monitor = rendered.one("ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    service = rendered.one("Service", "-web")

    assert rendered.one("Secret")["stringData"]["METRICS_TOKEN"] == "prom-token"
    assert "METRICS_TOKEN" not in rendered.one("ConfigMap")["data"]
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": rendered.one("Secret")["metadata"]["name"], "key": "METRICS_TOKEN"},
    }
    assert endpoint["path"] == "/metrics" and endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert all(service["metadata"]["labels"][k] == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
    assert "WARNING" not in rendered.notes
    assert DEFAULT.all("ServiceMonitor") == []  # off unless the Prometheus Operator is there
    assert "METRICS_TOKEN is empty" in DEFAULT.notes


def test_the_chart_does_not_run_the_dummy_gateway_and_pods_check_before_serving():
    config = DEFAULT.one("ConfigMap")["data"]

    assert config["PAYMENT_GATEWAY"] == "stripe"
    assert config["ALLOW_DUMMY_PAYMENTS_IN_PRODUCTION"] == "false"
    for name in SERVERS:
        checks, _serve = entrypoint_commands(*container(name)["args"])
        assert checks == SECURITY_CHECKS
