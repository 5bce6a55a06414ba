"""Slowing down guessing (spec 6.1): a client that fails to authenticate too often in a window
(a wrong codec token, a bad signature) is answered 429 with `Retry-After` until the window ends,
without its credentials being checked."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

FAILURES = 10
WINDOW_SECONDS = 60.0
# Clients remembered at most (the oldest are forgotten first).
MAX_CLIENTS = 10_000


class FailureThrottle:
    """Authentication failures per client address within a window."""

    def __init__(self, failures: int = FAILURES, window: float = WINDOW_SECONDS) -> None:
        self.failures = failures
        self.window = window
        self._seen: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> list[float]:
        times = [t for t in self._seen.get(client, []) if now - t < self.window]
        if times:
            self._seen[client] = times
        else:
            self._seen.pop(client, None)
        return times

    def retry_after(self, client: str, now: float | None = None) -> int | None:
        """Seconds the client must wait before it may try again, or None."""
        at = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, at)
            if len(times) < self.failures:
                return None
            return max(1, int(self.window - (at - times[0])) + 1)

    def failed(self, client: str, now: float | None = None) -> None:
        """Count one failure of the client."""
        at = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, at)
            times.append(at)
            self._seen[client] = times
            self._seen.move_to_end(client)
            while len(self._seen) > MAX_CLIENTS:
                self._seen.popitem(last=False)
