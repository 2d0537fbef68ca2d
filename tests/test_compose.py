"""docker-compose.yml and the Dockerfile, checked by reading them.

Docker does not run here, so these tests keep the production topology honest:
every service exists, every command points at code that exists, every
environment variable is one the settings read, and the image copies and runs
files that are in the repository.
"""

import importlib
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from celery.app.utils import find_app
from celery.utils.imports import symbol_by_name
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: svc for name, svc in SERVICES.items() if "build" in svc}

REQUIRED_SERVICES = {"postgres", "redis", "web", "worker", "beat", "bot", "minio", "prometheus", "grafana"}

# The environment variables the SPEC names (docs: README "Configuration").
SPEC_VARIABLES = {
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BOT_USERNAME",
    "TELEGRAM_API_BASE_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "VK_APP_ID",
    "VK_APP_SECRET",
    "VK_GROUP_ID",
    "VK_GROUP_TOKEN",
    "VK_CALLBACK_SECRET",
    "VK_CONFIRMATION_CODE",
    "VK_API_BASE_URL",
    "MINIAPP_AUTH_MAX_AGE",
    "ROBOKASSA_LOGIN",
    "ROBOKASSA_PASSWORD1",
    "ROBOKASSA_PASSWORD2",
    "ROBOKASSA_IS_TEST",
    "ROBOKASSA_HASH",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


def settings_variables() -> set[str]:
    """Every environment variable portal/settings.py reads (env.<cast>("NAME", …))."""
    source = (ROOT / "portal" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def option(argv: list[str], name: str) -> str | None:
    """The value of ``--name value`` or ``--name=value`` in argv."""
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def check_command(argv: list[str]) -> None:
    """Fail unless argv runs something that exists in this project."""
    program = argv[0]
    if program == "gunicorn":
        target = argv[1]  # gunicorn APP_MODULE [options]
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name)
        assert callable(getattr(module, attribute or "application")), target
        config = option(argv, "--config") or option(argv, "-c")
        if config:
            assert (ROOT / config).is_file(), f"gunicorn config {config} is missing"
    elif program == "celery":
        app_name = option(argv, "-A") or option(argv, "--app")
        app = find_app(app_name)
        assert app.main == "citydesk"
        subcommand = next(arg for arg in argv[3:] if not arg.startswith("-"))
        assert subcommand in {"worker", "beat"}, subcommand
        scheduler = option(argv, "--scheduler") or option(argv, "-S")
        if subcommand == "beat":
            assert scheduler, "beat must use the database scheduler"
            assert symbol_by_name(scheduler).__name__ == "DatabaseScheduler"
    elif program == "python" and argv[1:2] == ["manage.py"]:
        command = argv[2]
        assert command in get_commands(), f"manage.py {command} is not a management command"
    else:
        pytest.fail(f"unknown program in a compose command: {argv}")


def test_all_required_services_exist():
    assert set(SERVICES) >= REQUIRED_SERVICES


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_command_refers_to_real_code(name):
    argv = command_of(APP_SERVICES[name])
    assert argv, f"{name} has no command"
    check_command(argv)


def test_services_run_the_expected_programs():
    assert command_of(SERVICES["web"])[:2] == ["gunicorn", "portal.wsgi:application"]
    assert command_of(SERVICES["worker"])[:4] == ["celery", "-A", "portal", "worker"]
    beat = command_of(SERVICES["beat"])
    assert beat[:4] == ["celery", "-A", "portal", "beat"]
    assert option(beat, "--scheduler") == "django_celery_beat.schedulers:DatabaseScheduler"
    assert command_of(SERVICES["bot"]) == ["python", "manage.py", "runbot"]
    migrate = [argv for argv in map(command_of, APP_SERVICES.values()) if argv[1:3] == ["manage.py", "migrate"]]
    assert migrate, "a service must apply migrations"


def test_build_contexts_have_the_dockerfile():
    for name, service in APP_SERVICES.items():
        build = service["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).is_file(), name


def test_app_services_read_only_known_settings():
    known = SPEC_VARIABLES | settings_variables() | {"DJANGO_SETTINGS_MODULE"}
    for name, service in APP_SERVICES.items():
        env = service.get("environment") or {}
        names = set(env) if isinstance(env, dict) else {item.split("=", 1)[0] for item in env}
        assert names <= known, f"{name}: unknown variables {sorted(names - known)}"


def test_app_services_set_every_spec_variable_for_production():
    for name, service in APP_SERVICES.items():
        env = service["environment"]
        assert set(env) >= SPEC_VARIABLES, f"{name} misses {sorted(SPEC_VARIABLES - set(env))}"
        assert env["DJANGO_DEBUG"] == "0"
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert "minio:9000" in env["AWS_S3_ENDPOINT_URL"]
        assert "${DJANGO_SECRET_KEY:?" in env["DJANGO_SECRET_KEY"], "the secret must be required, not defaulted"


# Secrets with no safe value: compose must stop when one is unset or empty.
REQUIRED_SECRETS = {
    "DJANGO_SECRET_KEY",
    "POSTGRES_PASSWORD",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "ROBOKASSA_LOGIN",
    "ROBOKASSA_PASSWORD1",
    "ROBOKASSA_PASSWORD2",
    "METRICS_TOKEN",
    "GRAFANA_ADMIN_PASSWORD",
}
# Integration secrets: must be set, and an empty value turns the integration off.
INTEGRATION_SECRETS = {
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "VK_APP_SECRET",
    "VK_GROUP_TOKEN",
    "VK_CALLBACK_SECRET",
}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY|MINIO_ROOT_USER|ROBOKASSA_LOGIN")


def interpolations() -> list[tuple[str, str, str]]:
    """Every ``${NAME<operator><word>}`` of docker-compose.yml as (name, operator, word)."""
    text = (ROOT / "docker-compose.yml").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return re.findall(r"\$\{(\w+)(:?[-?+]|)([^}]*)\}", body)


def test_no_secret_has_a_default_and_the_core_ones_are_required():
    found = {}
    for name, operator, word in interpolations():
        found.setdefault(name, set()).add(operator)
        if SECRET_NAME.search(name):
            assert operator in {":?", "?"}, f"${{{name}{operator}{word}}}: a secret must not have a default"
            assert word.strip(), f"{name}: say what to set"
    assert set(found) >= REQUIRED_SECRETS | INTEGRATION_SECRETS
    for name in REQUIRED_SECRETS:
        assert found[name] == {":?"}, f"{name} must be required and non-empty: ${{{name}:?…}}"
    for name in INTEGRATION_SECRETS:
        assert found[name] <= {":?", "?"}, name


def test_the_web_image_cannot_run_in_debug_mode():
    for name, service in APP_SERVICES.items():
        assert service["environment"]["DJANGO_DEBUG"] == "0", f"{name}: DJANGO_DEBUG must be pinned to 0"
    env = dict(
        part.split("=", 1)
        for keyword, rest in dockerfile_instructions()
        if keyword == "ENV"
        for part in rest.split()
        if "=" in part
    )
    assert env["DJANGO_DEBUG"] == "0"


def test_storage_and_databases_are_reachable_only_inside_the_project():
    networks = COMPOSE["networks"]
    for name in ("minio", "postgres", "redis", "createbuckets"):
        service = SERVICES[name]
        assert "ports" not in service, f"{name} must not publish a port"
        assert service["networks"], name
        for network in service["networks"]:
            assert networks[network].get("internal") is True, f"{name} is on the non-internal network {network}"
    for name in ("web", "worker", "beat", "bot"):
        # they reach minio, postgres and redis over the internal network
        assert set(SERVICES["minio"]["networks"]) & set(SERVICES[name]["networks"]), name
    assert SERVICES["web"]["ports"] == ["8000:8000"]


def test_env_example_names_every_variable_compose_reads():
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    used = {name for name, _operator, _word in interpolations()}
    assert used - {"AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "TELEGRAM_API_BASE_URL", "VK_API_BASE_URL",
                   "MINIAPP_AUTH_MAX_AGE"} <= names, sorted(used - names)  # fmt: skip
    for name in REQUIRED_SECRETS:
        assert re.search(rf"^{name}=$", example, flags=re.MULTILINE), f"{name} must be left empty in .env.example"


def test_spec_variables_are_all_read_by_settings():
    assert settings_variables() >= SPEC_VARIABLES


def test_dependencies_name_real_services_with_conditions():
    allowed = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in SERVICES.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: use depends_on with conditions"
        for other, spec in depends.items():
            assert other in SERVICES, f"{name} depends on unknown {other}"
            assert spec["condition"] in allowed
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[other], f"{other} needs a healthcheck"
    for name in ("web", "worker", "beat", "bot"):
        depends = SERVICES[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in SERVICES["web"] and "/healthz" in str(SERVICES["web"]["healthcheck"]["test"])


def test_named_volumes_are_declared():
    declared = set(COMPOSE.get("volumes") or {})
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: volume {source} is not declared"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_base_user_and_entrypoint():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "pip install -r requirements.txt" in runs
    assert "collectstatic --noinput" in runs and "DJANGO_SECRET_KEY=" in runs
    cmd = next(rest for keyword, rest in reversed(instructions) if keyword == "CMD")
    check_command(json.loads(cmd))


def test_dockerfile_copies_files_that_exist():
    for keyword, rest in dockerfile_instructions():
        if keyword != "COPY":
            continue
        parts = [part for part in rest.split() if not part.startswith("--")]
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: missing"
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    for needed in ("manage.py", "portal", "requirements.txt", "templates", "static", "locale", "deploy"):
        assert needed not in dockerignore, f".dockerignore drops {needed}"


def test_production_settings_pass_the_deploy_check_with_compose_env(tmp_path):
    """The compose environment (with secrets filled in) gives settings that load and pass check --deploy."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    for key, value in SERVICES["web"]["environment"].items():
        # ${VAR:-default} → default; ${VAR:?msg} → a real-looking secret; ${VAR?msg} → empty (integration off)
        value = re.sub(r"\$\{(\w+):-([^}]*)\}", r"\2", str(value))
        value = re.sub(r"\$\{(\w+):\?[^}]*\}", "x" * 60, value)
        value = re.sub(r"\$\{(\w+)\?[^}]*\}", "", value)
        env[key] = value
    env.update(
        DJANGO_SECRET_KEY="k" + "s3cr3t-" * 10,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_URL="memory://",
        REDIS_URL="",
        SITE_URL="https://citydesk.example.com",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_collectstatic_step_succeeds(tmp_path):
    """The image build's collectstatic (production storage: hashed, compressed) works on our static files."""
    import os
    import subprocess
    import sys

    run = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN" and "collectstatic" in rest)
    build_env = dict(re.findall(r"\b([A-Z][A-Z0-9_]*)=(\S+)", run.split("python manage.py collectstatic")[0]))
    assert build_env["DJANGO_DEBUG"] == "0" and build_env["DJANGO_SECRET_KEY"]
    prefixes = ("DJANGO_", "REDIS_URL", "CELERY_", "ROBOKASSA_", "AWS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(build_env, STATIC_ROOT=str(tmp_path / "static"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    for needed in (
        "vendor/bootstrap/bootstrap.min.css",
        "css/site.css",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "admin/css/base.css",
    ):
        assert needed in manifest, needed


# --- monitoring: Prometheus, Grafana, the dashboard and the alerts ----------------------

DEPLOY = ROOT / "deploy"
PROMETHEUS = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
ALERTS = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
DASHBOARD = json.loads((DEPLOY / "grafana" / "dashboards" / "citydesk.json").read_text())
METRIC_NAME = re.compile(r"\bcitydesk_[a-z0-9_]+\b")


def mounts(service: dict) -> dict[str, str]:
    """{container path: host path} of a service's bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        found[target] = source
    return found


def scrape_job(name: str) -> dict:
    [job] = [job for job in PROMETHEUS["scrape_configs"] if job["job_name"] == name]
    return job


def test_every_app_container_adds_up_its_processes_and_the_worker_exports_them():
    for name, service in APP_SERVICES.items():
        assert service["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/"), name
        assert "${METRICS_TOKEN:?" in service["environment"]["METRICS_TOKEN"], name
    assert SERVICES["worker"]["environment"]["WORKER_METRICS_PORT"] == "9808"
    assert "WORKER_METRICS_PORT" not in SERVICES["web"]["environment"]


def test_prometheus_scrapes_every_web_and_worker_container_with_the_token():
    prometheus = SERVICES["prometheus"]
    assert mounts(prometheus)["/etc/prometheus"] == "./deploy/prometheus"
    assert (ROOT / "deploy" / "prometheus").is_dir()
    assert "ports" not in prometheus, "Prometheus is reached through Grafana, not published"
    assert prometheus["secrets"] == ["metrics_token"]
    assert COMPOSE["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}

    web, worker = scrape_job("citydesk-web"), scrape_job("citydesk-worker")
    for job, service, port in ((web, "web", 8000), (worker, "worker", 9808)):
        assert job["metrics_path"] == "/metrics"
        assert job["authorization"] == {"type": "Bearer", "credentials_file": "/run/secrets/metrics_token"}
        # DNS discovery: every replica of a scaled service is scraped on its own
        assert job["dns_sd_configs"] == [{"names": [service], "type": "A", "port": port, "refresh_interval": "30s"}]
        assert set(prometheus["networks"]) & set(SERVICES[service]["networks"])
    assert SERVICES["web"]["ports"] == ["8000:8000"] and "gunicorn" in command_of(SERVICES["web"])[0]
    assert str(9808) == SERVICES["worker"]["environment"]["WORKER_METRICS_PORT"]
    for rule_file in PROMETHEUS["rule_files"]:
        assert rule_file.startswith("/etc/prometheus/")
        assert (ROOT / "deploy" / "prometheus" / rule_file.removeprefix("/etc/prometheus/")).is_file()


def test_grafana_is_provisioned_with_the_datasource_and_the_dashboard():
    grafana = SERVICES["grafana"]
    assert grafana["ports"] == ["127.0.0.1:3000:3000"], "Grafana is published on the host's loopback only"
    assert "${GRAFANA_ADMIN_PASSWORD:?" in grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    volumes = mounts(grafana)
    provisioning = ROOT / volumes["/etc/grafana/provisioning"]
    [datasource] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    assert set(grafana["networks"]) & set(SERVICES["prometheus"]["networks"])
    [provider] = yaml.safe_load((provisioning / "dashboards" / "citydesk.yml").read_text())["providers"]
    dashboards_dir = provider["options"]["path"]
    assert (ROOT / volumes[dashboards_dir] / "citydesk.json").is_file()

    panels = DASHBOARD["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]


def exported_metric_names() -> set[str]:
    """Every sample name /metrics can show: the registry's families, with their suffixes."""
    from portal.metrics import registry_for_scrape

    names = set()
    for family in registry_for_scrape().collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_sum", "_count")}
        else:
            names.add(family.name)
    return names


@pytest.mark.django_db
def test_every_metric_of_the_dashboard_and_the_alerts_exists_in_our_registry():
    exported = exported_metric_names()
    used = {}
    for panel in DASHBOARD["panels"]:
        for target in panel["targets"]:
            for name in METRIC_NAME.findall(target["expr"]):
                used.setdefault(name, []).append(panel["title"])
    for group in ALERTS["groups"]:
        for rule in group["rules"]:
            for name in METRIC_NAME.findall(rule["expr"]):
                used.setdefault(name, []).append(rule["alert"])

    unknown = {name: where for name, where in used.items() if name not in exported}
    assert not unknown, f"metrics the registry does not export: {unknown}"
    # the dashboard shows what the issue asks for
    for needed in (
        "citydesk_http_requests_total",
        "citydesk_http_request_duration_seconds_bucket",
        "citydesk_bookings_total",
        "citydesk_payments_total",
        "citydesk_messages_total",
        "citydesk_celery_tasks_total",
        "citydesk_celery_queue_length",
        "citydesk_mailing_deliveries",
    ):
        assert needed in used, needed


def test_the_alert_rules_cover_errors_tasks_mailings_and_payments():
    rules = {rule["alert"]: rule for group in ALERTS["groups"] for rule in group["rules"]}
    assert {
        "CitydeskHigh5xxRate",
        "CitydeskTasksFailing",
        "CitydeskMailingStalled",
        "CitydeskPaymentCallbacksRejected",
    } <= set(rules)
    assert 'status=~"5.."' in rules["CitydeskHigh5xxRate"]["expr"]
    assert 'state="failed"' in rules["CitydeskTasksFailing"]["expr"]
    assert 'status="rejected"' in rules["CitydeskPaymentCallbacksRejected"]["expr"]
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"page", "warning"}, name
        assert rule["annotations"]["summary"], name
        assert rule["expr"].count("(") == rule["expr"].count(")"), name
