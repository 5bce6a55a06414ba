"""The worker's `/metrics` (issue 19): the SDK's Prometheus exposition, served on the worker's
metrics port with the SDK's `namespace` label renamed `temporal_namespace`.

Kubernetes service discovery gives every scraped series the pod's `namespace`; the SDK labels
its series with the Temporal namespace under the same name, so one of the two was renamed
`exported_namespace` or lost, depending on the scrape's `honor_labels`. The SDK has no option for
its label names: its exporter listens on a loopback port only, and this endpoint serves what it
exports with that one label renamed (served as `workers.health` serves the probes)."""

from __future__ import annotations

import asyncio
import re
import socket

from workers.health import PlainHttpServer

# `namespace="..."` as a label (after `{` or `,`), not inside a label value.
_NAMESPACE_LABEL = re.compile(r'(?<=[{,])namespace="')
RENAMED = "temporal_namespace"


def free_loopback_port() -> int:
    """A loopback port nothing listens on now, for the SDK's exporter."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rename_namespace_label(exposition: str) -> str:
    """The exposition with every `namespace` label called `temporal_namespace`."""
    return "\n".join(_NAMESPACE_LABEL.sub(f'{RENAMED}="', line) if not line.startswith("#")
                     else line for line in exposition.split("\n"))


async def _fetch(port: int) -> str:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    try:
        writer.write(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or head.split()[1] != b"200":
        raise ConnectionError("the SDK's exporter did not answer 200")
    return body.decode()


class MetricsEndpoint(PlainHttpServer):
    """`GET /metrics` on the worker's metrics port, from the SDK's exporter on `upstream`."""

    def __init__(self, upstream: int) -> None:
        async def metrics() -> tuple[str, str]:
            try:
                return "200 OK", rename_namespace_label(await _fetch(upstream))
            except (OSError, TimeoutError, ConnectionError):
                return "503 Service Unavailable", "metrics not available yet\n"

        super().__init__({"/metrics": metrics}, "text/plain; version=0.0.4; charset=utf-8")
