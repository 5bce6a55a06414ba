"""`python -m workers`: run a field-service worker until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

import structlog
from temporalio.client import Client, Interceptor
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from activities.effects import FieldServiceActivities
from activities.http_delivery import DeliverySecretError, HttpDelivery, parse_delivery_secrets
from activities.store import describe_store, is_postgres, open_store
from activities.store_postgres import StoreNotMigrated, StoreUnavailable
from infra import metric_names
from infra.encryption import UnknownKeys
from infra.secret_files import SecretFileError, load_secret_files
from workers.config import Settings, connect, connect_config, worker_runtime
from workers.health import Check, HealthServer
from workers.logging_setup import configure_logging
from workers.metrics_endpoint import MetricsEndpoint, free_loopback_port
from workers.process_exit import exit_without_teardown
from workers.registry import build_worker, ensure_search_attributes
from workers.tracing import configure_tracing
from workers.version_check import VersionReachability

log = structlog.get_logger("fieldservice.worker")


async def connect_with_backoff(settings: Settings, target: str,
                               runtime: Runtime | None = None,
                               interceptors: Sequence[Interceptor] = (),
                               on_unknown_key: Callable[[str], None] | None = None) -> Client:
    """Connect, retrying with backoff while the server is not up yet (a worker that starts
    before its server, or during a server restart, waits instead of exiting)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + settings.connect_timeout_seconds
    delay = 0.5
    while True:
        try:
            return await connect(runtime, interceptors, on_unknown_key)
        except RuntimeError as err:  # the SDK's connection failures
            if loop.time() + delay > give_up:
                raise SystemExit(f"cannot reach the Temporal server at {target} after "
                                 f"{settings.connect_timeout_seconds:.0f} s: {err}") from None
            log.warning("Temporal server not reachable yet; retrying", address=target,
                        retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def main() -> None:
    """Connect, register search attributes, run the worker, shut down cleanly on a signal."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        secrets = parse_delivery_secrets(settings.delivery_secret)
    except DeliverySecretError as err:
        log.error("the worker cannot start", reason=str(err))
        raise SystemExit(2) from None
    target = connect_config()
    tracing = configure_tracing("fieldservice-worker")
    exporter_port = free_loopback_port() if settings.metrics_port is not None else None
    runtime = worker_runtime(settings, exporter_port)
    unknown_keys = UnknownKeys(_unknown_key_counter(runtime))
    client = await connect_with_backoff(settings, target["target_host"], runtime,
                                        tracing.interceptors, unknown_keys)
    if settings.register_search_attributes:
        added = await ensure_search_attributes(client)
        log.info("search attributes ready", added=added, namespace=client.namespace)
    try:
        store = open_store(settings.store, migrate_at_start=settings.store_migrate == "auto",
                           wait_seconds=settings.connect_timeout_seconds)
    except (StoreNotMigrated, StoreUnavailable) as err:
        log.error("the worker cannot start", reason=str(err))
        raise SystemExit(2) from None
    delivery = (HttpDelivery(settings.delivery_url, timeout=settings.delivery_timeout_seconds,
                             secrets=secrets)
                if settings.delivery_url else None)
    worker = build_worker(client, settings.task_queue, FieldServiceActivities(store, delivery),
                          graceful_shutdown_timeout=timedelta(seconds=20),
                          tuning=settings.worker_options(),
                          deployment_config=settings.deployment_config(),
                          sandbox=settings.workflow_sandbox)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reachability = (VersionReachability(client, settings.deployment_name, settings.build_id,
                                        timedelta(seconds=settings.version_grace_seconds))
                    if settings.build_id else None)
    health = HealthServer(*health_checks(client, worker, stop, unknown_keys, reachability))
    if settings.health_port is not None:
        await health.start(settings.metrics_host, settings.health_port)
    metrics = MetricsEndpoint(exporter_port) if exporter_port is not None else None
    if metrics is not None and settings.metrics_port is not None:
        await metrics.start(settings.metrics_host, settings.metrics_port)
    log.info("worker started", task_queue=settings.task_queue, address=target["target_host"],
             namespace=client.namespace, store=describe_store(settings.store),
             delivery=("http, signed" if secrets else "http") if delivery else "none",
             metrics_port=settings.metrics_port,
             health_port=settings.health_port,
             build_id=settings.build_id and f"{settings.deployment_name}.{settings.build_id}",
             **settings.worker_options())
    async with worker:
        await stop.wait()
        log.info("shutting down: finishing in-flight tasks")
    await health.stop()
    if metrics is not None:
        await metrics.stop()
    store.close()
    tracing.shutdown()
    log.info("worker stopped")


def _unknown_key_counter(runtime: Runtime | None) -> Callable[[str], None] | None:
    """The metric of payloads under a key this worker lacks (on the worker's `/metrics`)."""
    if runtime is None:
        return None
    counter = runtime.metric_meter.create_counter(
        metric_names.PAYLOADS_UNKNOWN_KEY,
        metric_names.DESCRIPTIONS[metric_names.PAYLOADS_UNKNOWN_KEY])
    return lambda key_id: counter.add(1, {"key_id": key_id})


def health_checks(client: Client, worker: Worker, stopping: asyncio.Event,
                  unknown_keys: UnknownKeys | None = None,
                  reachability: VersionReachability | None = None) -> tuple[Check, Check]:
    """Liveness: the worker has not failed. Readiness: it runs, is not draining, the Temporal
    server answers, it holds every key its cases' payloads were encrypted with, and (a
    versioned worker, after its grace period) tasks can reach its version."""

    async def live() -> str | None:
        if worker.is_shutdown and not stopping.is_set():
            return "the worker stopped unexpectedly"
        return None

    async def ready() -> str | None:
        if stopping.is_set():
            return "draining: finishing in-flight tasks before it stops"
        if not worker.is_running:
            return "the worker is not polling"
        try:
            await client.service_client.check_health(timeout=timedelta(seconds=2))
        except Exception as err:  # noqa: BLE001 - any failure means not ready
            return f"the Temporal server does not answer: {type(err).__name__}"
        if unknown_keys is not None and unknown_keys.seen:
            return ("payloads under encryption keys this worker does not hold: "
                    f"{', '.join(sorted(unknown_keys.seen))} (add them to "
                    "FIELD_SERVICE_ENCRYPTION_KEYS)")
        if reachability is not None:
            return await reachability.problem()
        return None

    return live, ready


def migrate_store() -> None:
    """`python -m workers migrate`: apply the record store's pending schema migrations (under
    an advisory lock: runs at once migrate once) and exit; run it as the database owner before
    workers that need the new schema (deploy/k8s/jobs/store-migrate.yaml)."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    if not is_postgres(settings.store):
        open_store(settings.store).close()  # SQLite: created and migrated when opened
        log.info("store migrated", store=describe_store(settings.store), applied=[])
        return
    import psycopg  # noqa: PLC0415

    from activities.store_postgres import migrate, while_down  # noqa: PLC0415

    def connect_and_migrate() -> list[int]:
        with psycopg.connect(settings.store, autocommit=True, connect_timeout=5) as conn:
            return migrate(conn)

    try:  # waits for a database that is still starting
        applied = while_down(connect_and_migrate, settings.connect_timeout_seconds)
    except StoreUnavailable as err:
        raise SystemExit(f"{describe_store(settings.store)}: {err}") from None
    log.info("store migrated", store=describe_store(settings.store), applied=applied)


if __name__ == "__main__":
    try:
        load_secret_files()
    except SecretFileError as err:
        print(f"workers: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    if sys.argv[1:] == ["migrate"]:
        migrate_store()
        logging.shutdown()
        raise SystemExit(0)
    asyncio.run(main())
    logging.shutdown()
    exit_without_teardown(0)
