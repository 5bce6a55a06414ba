"""deploy/ validated offline (issue 10; no Docker engine or cluster here): every YAML passes
yamllint; every Kubernetes object validates strictly against the Kubernetes API schemas of
`kubernetes-validate`; the compose file against the Compose specification's JSON Schema (the
copy `check-jsonschema` ships); the Temporal Cloud profile loads with the SDK; and every
environment variable the manifests give the project's containers is one the code reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import temporalio.bridge
import yaml
from opentelemetry.sdk import environment_variables as otel_env
from temporalio.envconfig import ClientConfig
from yamllint import linter
from yamllint.config import YamlLintConfig

from gateway.codec import TOKENS_ENV
from gateway.integrations import parse_integrations
from workers.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.33.0"
YAMLLINT = YamlLintConfig("""
extends: default
rules:
  line-length: {max: 120}
  document-start: disable
  comments: {min-spaces-from-content: 1}
  truthy: {check-keys: false}
""")
# Temporal's environment configuration (read by the SDK's core; checked against it below).
TEMPORAL_ENV = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_PROFILE",
                "TEMPORAL_CONFIG_FILE", "TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH",
                "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
                "TEMPORAL_TLS_SERVER_NAME")


def _yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def _k8s_objects() -> list[tuple[Path, dict[str, Any]]]:
    objects = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and "kind" in doc and not doc["apiVersion"].startswith("kustomize."):
                objects.append((path, doc))
    return objects


def test_every_yaml_file_passes_yamllint() -> None:
    files = _yaml_files()
    assert len(files) >= 10
    problems = [f"{p.relative_to(ROOT)}:{e.line}: {e.message}" for p in files
                for e in linter.run(p.read_text(), YAMLLINT)]
    assert problems == []


def test_every_kubernetes_object_validates_strictly() -> None:
    objects = _k8s_objects()
    kinds = sorted({doc["kind"] for _, doc in objects})
    assert kinds == ["ConfigMap", "Deployment", "HorizontalPodAutoscaler",
                     "PodDisruptionBudget", "Secret", "Service"]
    for path, doc in objects:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:  # pragma: no cover - the message
            pytest.fail(f"{path.name} {doc['kind']}: {err.message} at {list(err.path)}")


def test_the_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    listed = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"]
    manifests = {p.name for p, _ in _k8s_objects()} - {"secret.example.yaml"}
    assert sorted(listed) == sorted(manifests)


def test_the_workers_drain_fits_the_grace_period_and_the_probes_match_the_ports() -> None:
    worker = next(doc for p, doc in _k8s_objects() if p.name == "worker-deployment.yaml")
    pod = worker["spec"]["template"]["spec"]
    # The worker's graceful shutdown gives in-flight tasks 20 s (workers/__main__.py).
    assert pod["terminationGracePeriodSeconds"] > 20
    [container] = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert int(env["FIELD_SERVICE_HEALTH_PORT"]["value"]) == ports["health"]
    assert int(env["FIELD_SERVICE_METRICS_PORT"]["value"]) == ports["metrics"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # The build ID is the pod's version label (the image tag).
    assert "app.kubernetes.io/version" in env["FIELD_SERVICE_BUILD_ID"]["valueFrom"][
        "fieldRef"]["fieldPath"]


def test_the_compose_file_follows_the_compose_specification() -> None:
    import check_jsonschema.builtin_schemas as builtin  # noqa: PLC0415

    schema = json.loads((Path(builtin.__file__).parent / "vendor" / "compose-spec.json")
                        .read_text())
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    jsonschema.validate(compose, schema)
    assert set(compose["services"]) == {"postgresql", "temporal", "temporal-ui", "worker",
                                        "gateway"}
    # Every variable it takes from .env is in the example (or has a default).
    text = (DEPLOY / "compose" / "compose.yaml").read_text()
    needed = {m[0] for m in re.findall(r"\$\{([A-Z_]+)(:?[-?][^}]*)?\}", text)
              if not m[1].startswith((":-", "-"))}
    example = {line.split("=", 1)[0] for line in
               (DEPLOY / "compose" / ".env.example").read_text().splitlines()
               if "=" in line and not line.startswith("#")}
    assert needed <= example, needed - example


def test_the_temporal_cloud_profile_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "test-key")
    config = ClientConfig.load_client_connect_config(
        profile="cloud", config_file=str(DEPLOY / "cloud" / "temporal.toml"))
    assert config["target_host"].endswith(".tmprl.cloud:7233")
    assert config["api_key"] == "test-key" and config.get("tls")


def _read_by_the_code() -> set[str]:
    """Every environment variable the project's processes read."""
    names = {f"FIELD_SERVICE_{name.upper()}" for name in Settings.model_fields}
    for source in [*ROOT.glob("gateway/*.py"), *ROOT.glob("domain/*.py"), *ROOT.glob("infra/*.py"),
                   *ROOT.glob("workers/*.py"), *ROOT.glob("starter/*.py")]:
        names |= set(re.findall(r'"((?:FIELD_SERVICE|OTEL)_[A-Z_]+)"', source.read_text()))
    names |= {n for n in dir(otel_env) if n.startswith("OTEL_")}  # the OTLP exporter's own
    names |= set(TEMPORAL_ENV) | {TOKENS_ENV}
    return names


def _manifest_env() -> dict[str, set[str]]:
    """The variables each manifest gives the project's containers (not Temporal's, the UI's or
    PostgreSQL's own images)."""
    found: dict[str, set[str]] = {}
    for path, doc in _k8s_objects():
        if doc["kind"] == "Deployment":
            for c in doc["spec"]["template"]["spec"]["containers"]:
                found.setdefault(path.name, set()).update(e["name"] for e in c.get("env", []))
        elif doc["kind"] == "ConfigMap":
            found.setdefault(path.name, set()).update(doc["data"])
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    for service in ("worker", "gateway"):
        found.setdefault("compose.yaml", set()).update(compose["services"][service]["environment"])
    for line in (DEPLOY / "cloud" / "worker.env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            found.setdefault("worker.env.example", set()).add(line.split("=", 1)[0])
    return found


def test_every_variable_the_manifests_set_is_read_by_the_code() -> None:
    bridge = Path(temporalio.bridge.__file__).parent
    core = b"".join(p.read_bytes() for p in bridge.glob("temporal_sdk_bridge*"))
    assert all(name.encode() in core for name in TEMPORAL_ENV)  # the SDK does read them
    known = _read_by_the_code()
    unread = {f"{where}: {name}" for where, names in _manifest_env().items()
              for name in names - known}
    assert unread == set()
    # And the settings the deployment depends on are there.
    worker_env = _manifest_env()["worker-deployment.yaml"] | _manifest_env()["configmap.yaml"]
    for needed in ("TEMPORAL_ADDRESS", "FIELD_SERVICE_STORE", "FIELD_SERVICE_ENCRYPTION_KEYS",
                   "FIELD_SERVICE_BUILD_ID", "FIELD_SERVICE_HEALTH_PORT",
                   "FIELD_SERVICE_METRICS_PORT"):
        assert needed in worker_env


def test_the_image_copies_every_package_the_project_installs() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    packages = re.search(r"include = \[(.*?)\]", (ROOT / "pyproject.toml").read_text())
    assert packages is not None
    for package in re.findall(r'"(\w+)\*"', packages.group(1)):
        assert f"COPY {package} ./{package}" in dockerfile


def test_compose_publishes_on_this_machine_only_unless_told_otherwise() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    published = [(name, port) for name, service in compose["services"].items()
                 for port in service.get("ports", [])]
    assert len(published) == 4
    for name, port in published:
        assert str(port).startswith("${FIELD_SERVICE_BIND:-127.0.0.1}:"), (name, port)


def test_the_example_secrets_are_in_the_form_the_code_takes() -> None:
    [(_, secret)] = [(p, d) for p, d in _k8s_objects() if d["kind"] == "Secret"]
    data = secret["stringData"]
    # The placeholders stand where real secrets go; with them filled in, the settings parse.
    integrations = parse_integrations(data["integrations"].replace(
        "REPLACE_WITH_SECRET", "x" * 32))
    assert integrations["dialer"].may_send("call_attempt_result")
    assert not integrations["dialer"].read
    assert data["delivery-secret"].startswith("whsec_")
    example = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in
               (DEPLOY / "compose" / ".env.example").read_text().splitlines()
               if "=" in line and not line.startswith("#")}
    assert parse_integrations(example["FIELD_SERVICE_INTEGRATIONS"].strip("'").replace(
        "REPLACE", "x" * 32))["crm"].read
    # Which deployment reads which secret.
    env = _manifest_env()
    assert "FIELD_SERVICE_INTEGRATIONS" in env["gateway-deployment.yaml"]
    assert "FIELD_SERVICE_DELIVERY_SECRET" in env["worker-deployment.yaml"]
