"""Serving the gateway (spec 6.1): uvicorn with a deadline for a request's headers. uvicorn's
HTTP/1.1 protocol waits for headers as long as a client keeps the connection open (its
keep-alive timer runs only between requests), so a client that sends a byte a minute could hold
a connection for ever; this protocol closes a connection whose request has not finished its
headers in time. The body's deadline is the perimeter's (`gateway.perimeter`)."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose headers are late."""

    header_seconds = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the clock for the first request's headers."""
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Feed the parser; once a request's headers are complete, stop the clock."""
        if self._header_timer is None and self._between_requests():
            self._arm()
        super().data_received(data)
        if not self._between_requests():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        """No clock for a closed connection."""
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is None or bool(getattr(cycle, "response_complete", False))

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_seconds, self._late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _late(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            self.transport.close()


def protocol_with_deadline(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class with this header deadline."""
    return type("GatewayHttpProtocol", (HeaderDeadlineProtocol,), {"header_seconds": seconds})
