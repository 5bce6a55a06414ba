"""The worker's liveness and readiness endpoints for the cluster's probes (issue 10), on
`FIELD_SERVICE_HEALTH_PORT`:

- `GET /livez`: 200 while the process serves requests and its worker has not failed (a
  draining worker is still alive: killing it would cut the drain short);
- `GET /readyz`: 200 when the worker is running (polling its task queue) and the Temporal
  server answers a health check within 2 s, else 503 with the reason.

A few lines of asyncio rather than a web framework: two fixed routes, no body to parse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("fieldservice.health")

Check = Callable[[], Awaitable[str | None]]  # None: fine; else the reason it is not


# What a route answers: the status line's code and text, and the body.
Answer = tuple[str, str]
Route = Callable[[], Awaitable[Answer]]


class PlainHttpServer:
    """GET routes on one port, each answering text: the worker's probes and its metrics. A few
    lines of asyncio rather than a web framework: fixed routes, no body to parse."""

    def __init__(self, routes: dict[str, Route], content_type: str) -> None:
        self.routes = routes
        self.content_type = content_type
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        """Listen on `host:port`."""
        self._server = await asyncio.start_server(self._serve, host, port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b""):
                pass  # headers: not needed
            parts = request.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) > 1 else ""
            route = self.routes.get(path)
            status, body = ("404 Not Found", "not found\n") if route is None else await route()
            data = body.encode()
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {self.content_type}\r\n"
                         f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                         + data)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


def _probe(check: Check) -> Route:
    async def answer() -> Answer:
        reason = await check()
        return ("200 OK", "ok\n") if reason is None else ("503 Service Unavailable",
                                                           f"{reason}\n")
    return answer


class HealthServer(PlainHttpServer):
    """`/livez` and `/readyz` on one port, answering from the checks it is given."""

    def __init__(self, live: Check, ready: Check) -> None:
        super().__init__({"/livez": _probe(live), "/readyz": _probe(ready)},
                         "text/plain; charset=utf-8")
