"""Worker and client configuration from the environment (spec section 6)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypedDict

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.client import Client, Interceptor
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.envconfig import ClientConfig
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import WorkerDeploymentConfig

from infra.wire import converter_from_env

DEFAULT_TASK_QUEUE = "field-service"
DEFAULT_ADDRESS = "localhost:7233"


class WorkerTuning(TypedDict, total=False):
    """The `Worker` options a deployment (or a benchmark) may set from the environment."""

    max_cached_workflows: int
    max_concurrent_workflow_tasks: int
    max_concurrent_activities: int


# How a worker runs the workflow code (FIELD_SERVICE_WORKFLOW_SANDBOX):
# - "off" (production's default): without the SDK's sandbox;
# - "passthrough": in the sandbox, the workflow code passed through it (not re-imported into
#   each run, and therefore not checked by it either);
# - "checked": the workflow code imported into each run's sandbox, which checks its calls;
#   the tests and every replay always run so. Each new case then imports the code again, at a
#   cost (docs/benchmarks.md).
SandboxMode = Literal["off", "passthrough", "checked"]


class Settings(BaseSettings):
    """`FIELD_SERVICE_*` settings; Temporal's own (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
    TLS, API key, `TEMPORAL_PROFILE`) are read by `temporalio.envconfig`."""

    model_config = SettingsConfigDict(env_prefix="FIELD_SERVICE_", extra="ignore")

    task_queue: str = DEFAULT_TASK_QUEUE
    # An SQLite file path (the embedded default), or a postgresql:// URI for workers on many
    # hosts (activities.store.open_store).
    store: str = "var/fieldservice.db"
    # PostgreSQL: `auto` applies pending schema migrations at start (a single host, the
    # compose stack); `never` refuses to start with one pending, so the workers can run with a
    # data-only role while `python -m workers migrate` (a Kubernetes Job) runs as the owner.
    store_migrate: Literal["auto", "never"] = "auto"
    # When set, every record is also posted to `{delivery_url}/{kind}` (activities.http_delivery).
    delivery_url: str | None = None
    delivery_timeout_seconds: float = 10.0
    # The Standard Webhooks secret(s) deliveries are signed with (`whsec_...`; several,
    # comma-separated, while one rotates: each signs), so receivers can verify them.
    delivery_secret: str | None = None
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    register_search_attributes: bool = True
    # How the workflow code runs (`SandboxMode`, workers/registry.py `workflow_runner`).
    workflow_sandbox: SandboxMode = "off"
    # Worker tuning (None: the SDK's default). The workflow cache keeps recently run cases in
    # memory so a new event does not replay the whole history.
    max_cached_workflows: int | None = None
    max_concurrent_workflow_tasks: int | None = None
    max_concurrent_activities: int | None = None
    # How long `python -m workers` keeps trying to reach a server that is down at start.
    connect_timeout_seconds: float = 300.0
    # `/metrics` (Prometheus: the SDK's metrics and the project's, infra.metric_names) and
    # `/livez` + `/readyz` (workers.health), each served when its port is set.
    metrics_port: int | None = None
    health_port: int | None = None
    # The address both listen on (all interfaces: a cluster's scraper and probes come from
    # outside the pod; neither endpoint shows case data).
    metrics_host: str = "0.0.0.0"  # noqa: S104
    # Worker Deployment Versioning (docs/operations.md): on when a build ID is set; off for
    # ./dev up and the tests, and with an empty one. Under the Temporal Worker Controller the
    # names it injects win (TEMPORAL_DEPLOYMENT_NAME, TEMPORAL_WORKER_BUILD_ID: the versions it
    # registers and routes); else the image's own (FIELD_SERVICE_BUILD_ID, baked in at build).
    deployment_name: str = Field(default="fieldservice", validation_alias=AliasChoices(
        "TEMPORAL_DEPLOYMENT_NAME", "FIELD_SERVICE_DEPLOYMENT_NAME"))
    build_id: str | None = Field(default=None, validation_alias=AliasChoices(
        "TEMPORAL_WORKER_BUILD_ID", "FIELD_SERVICE_BUILD_ID"))
    # A versioned worker whose version is still neither current nor ramping (and has no pinned
    # workflows) this long after it started reports not ready (workers/version_check.py).
    version_grace_seconds: float = 600.0
    # Cases run for months: they move to the current version at their next task (auto-upgrade),
    # with changes to running logic behind `workflow.patched` and guarded by the replay tests,
    # rather than pinning months of old workers.
    versioning_behavior: Literal["auto_upgrade", "pinned"] = "auto_upgrade"

    def deployment_config(self) -> WorkerDeploymentConfig | None:
        """The worker's deployment version and default behaviour, when a build ID is set."""
        if not self.build_id:
            return None
        behavior = (VersioningBehavior.PINNED if self.versioning_behavior == "pinned"
                    else VersioningBehavior.AUTO_UPGRADE)
        return WorkerDeploymentConfig(
            version=WorkerDeploymentVersion(deployment_name=self.deployment_name,
                                            build_id=self.build_id),
            use_worker_versioning=True, default_versioning_behavior=behavior)

    def worker_options(self) -> WorkerTuning:
        """The tuning options that are set, as `Worker` keyword arguments."""
        tuning = WorkerTuning()
        if self.max_cached_workflows is not None:
            tuning["max_cached_workflows"] = self.max_cached_workflows
        if self.max_concurrent_workflow_tasks is not None:
            tuning["max_concurrent_workflow_tasks"] = self.max_concurrent_workflow_tasks
        if self.max_concurrent_activities is not None:
            tuning["max_concurrent_activities"] = self.max_concurrent_activities
        return tuning


def connect_config() -> dict[str, Any]:
    """The client connect arguments from the environment, defaulting to the local server."""
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", "default")
    return config


async def connect(runtime: Runtime | None = None,
                  interceptors: Sequence[Interceptor] = (),
                  on_unknown_key: Callable[[str], None] | None = None) -> Client:
    """A client configured from the environment with the pydantic data converter (encrypting
    when `FIELD_SERVICE_ENCRYPTION_KEYS` is set), on `runtime` when given (the worker's, with
    its metrics exporter), with `interceptors` (tracing; a worker inherits them);
    `on_unknown_key` hears of payloads under a key this process lacks."""
    return await Client.connect(**connect_config(),
                                data_converter=converter_from_env(on_unknown_key),
                                runtime=runtime, interceptors=interceptors)


# The SDK core's own log lines (connection retries, poll errors) go to this stdlib logger, and
# from there through the project's structlog renderer: JSON in production like every other
# line (they used to be coloured plain text on stderr).
CORE_LOGGER = "temporalio.core"


def core_logging() -> LoggingConfig:
    """The SDK core's warnings and errors forwarded to Python logging (`CORE_LOGGER`)."""
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER),
                                       append_log_fields_to_message=False))


def worker_runtime(settings: Settings, exporter_port: int | None = None) -> Runtime:
    """The worker's runtime: the core's logs through structlog, and the SDK's Prometheus
    exporter on loopback `exporter_port` when given (`workers.metrics_endpoint` serves it on
    the metrics port), by Prometheus's naming conventions: counters end in `_total`, durations
    are seconds with the unit in the name."""
    metrics = (PrometheusConfig(
        bind_address=f"127.0.0.1:{exporter_port}",
        counters_total_suffix=True, unit_suffix=True, durations_as_seconds=True)
        if exporter_port is not None else None)
    return Runtime(telemetry=TelemetryConfig(logging=core_logging(), metrics=metrics))
