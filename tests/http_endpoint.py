"""A stand-in for the real systems' HTTP endpoint (records what it was sent; can fail, or
take its time)."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Endpoint:
    """An HTTP endpoint that fails the first `fail_first` posts, then takes them; a post to a
    path in `slow` is answered that many seconds late (a delivery in flight)."""

    def __init__(self, fail_first: int, slow: dict[str, float] | None = None) -> None:
        self.fail_first = fail_first
        self.slow = slow or {}
        self.received: list[tuple[str, str, dict[str, Any], int]] = []
        # Each post as it came: its headers and raw body (to verify signatures against).
        self.raw: list[tuple[dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = json.loads(raw)
                endpoint.raw.append(({k.lower(): v for k, v in self.headers.items()}, raw))
                time.sleep(endpoint.slow.get(self.path, 0.0))
                status = 503 if len(endpoint.received) < endpoint.fail_first else 201
                endpoint.received.append((self.path, self.headers["Idempotency-Key"], body,
                                          status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/effects"
