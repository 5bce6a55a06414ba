"""`python -m workers`: run a field-service worker until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

import structlog

from activities.effects import FieldServiceActivities
from activities.http_delivery import HttpDelivery
from activities.store import SqliteRecordStore
from workers.config import Settings, connect, connect_config
from workers.logging_setup import configure_logging
from workers.process_exit import exit_without_teardown
from workers.registry import build_worker, ensure_search_attributes

log = structlog.get_logger("fieldservice.worker")


async def main() -> None:
    """Connect, register search attributes, run the worker, shut down cleanly on a signal."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    target = connect_config()
    client = await connect()
    if settings.register_search_attributes:
        added = await ensure_search_attributes(client)
        log.info("search attributes ready", added=added, namespace=client.namespace)
    store = SqliteRecordStore(settings.store)
    delivery = (HttpDelivery(settings.delivery_url, timeout=settings.delivery_timeout_seconds)
                if settings.delivery_url else None)
    worker = build_worker(client, settings.task_queue, FieldServiceActivities(store, delivery),
                          graceful_shutdown_timeout=timedelta(seconds=20))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, address=target["target_host"],
             namespace=client.namespace, store=settings.store,
             delivery="http" if delivery else "none")
    async with worker:
        await stop.wait()
        log.info("shutting down: finishing in-flight tasks")
    store.close()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
    logging.shutdown()
    exit_without_teardown(0)
