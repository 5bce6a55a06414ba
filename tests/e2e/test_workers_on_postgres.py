"""Two worker processes on the PostgreSQL record store (issue 10), on a real dev server: one is
SIGKILLed while it delivers a side effect; the other finishes the case, and every side effect has
exactly one record, delivered (the delivery repeated under the same Idempotency-Key)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from activities.store_postgres import PostgresRecordStore
from tests.e2e.test_local_stack import Stack, om_report, running
from tests.http_endpoint import Endpoint


@pytest.fixture
def slow_endpoint() -> Iterator[Endpoint]:
    """The real systems, taking 4 s to accept a text (so a worker can die mid-delivery)."""
    ep = Endpoint(fail_first=0, slow={"/effects/text": 4.0})
    thread = threading.Thread(target=ep.server.serve_forever, daemon=True)
    thread.start()
    yield ep
    ep.server.shutdown()


class PgStack(Stack):
    """The stack with more workers than the first."""

    def another_worker(self) -> subprocess.Popen[bytes]:
        """One more `python -m workers` on the same settings."""
        return self.spawn("workers", self.log.parent / f"worker{len(self.procs) + 1}.log")

    async def status_until(self, case_id: str, ok: Callable[[dict[str, Any]], bool],
                           seconds: float) -> dict[str, Any]:
        """The case's status once `ok` holds for it."""
        end = time.monotonic() + seconds
        while True:
            code, status, err = await self.starter("status", case_id)
            # The whole status (a worker answered), not the server's summary of a case whose
            # worker is down (issue 20).
            if code == 0 and status.get("source") == "worker" and ok(status):
                return dict(status)
            if time.monotonic() > end:
                raise AssertionError(f"{case_id}: {status} {err}")
            await asyncio.sleep(0.5)


@pytest_asyncio.fixture
async def pg_stack(tmp_path: Path, postgres_uri: str,
                   slow_endpoint: Endpoint) -> AsyncIterator[PgStack]:
    """A dev server; workers started by the test share one PostgreSQL store."""
    async with running(PgStack, tmp_path) as s:
        s.vars.update({"FIELD_SERVICE_STORE": postgres_uri,
                       "FIELD_SERVICE_DELIVERY_URL": slow_endpoint.url})
        yield s


async def test_a_worker_killed_mid_delivery_leaves_one_record_per_side_effect(
        pg_stack: PgStack, postgres_uri: str, slow_endpoint: Endpoint) -> None:
    stack = pg_stack
    store = PostgresRecordStore(postgres_uri)
    stack.start_worker()  # worker A
    report = om_report("SYS-PG-1")
    code, _, err = await stack.starter("open", "om", "-", stdin=json.dumps(report))
    assert code == 0, err
    await stack.status_until("om-SYS-PG-1", lambda s: s["stage"] == "problem_identified", 30)
    code, _, err = await stack.starter("event", "om-SYS-PG-1", "remote_fix_result",
                                       '{"event_id": "mon-1", "resolved": false}', "--signal")
    assert code == 0, err

    # Worker A has made the text's record and is delivering it (the endpoint takes 4 s).
    end = time.monotonic() + 30
    while not any(r.kind == "text" for r in store.records("om-SYS-PG-1")):
        assert time.monotonic() < end, store.records("om-SYS-PG-1")
        await asyncio.sleep(0.1)
    worker_b = stack.another_worker()
    await asyncio.sleep(1)
    assert stack.worker is not None
    stack.worker.send_signal(signal.SIGKILL)
    stack.worker.wait()

    # Worker B takes over: the text's activity times out on A (30 s) and is retried on B.
    await stack.status_until("om-SYS-PG-1",
                        lambda s: s["attempts"].get("texts") == 1 and
                        s["waiting_for"] == "self-scheduled appointment", 90)
    code, status, err = await stack.starter("ops", "om-SYS-PG-1", "cancel_case",
                                            "test over", "--actor", "test")
    assert code == 0 and status["outcome"] == "cancelled", err
    assert worker_b.poll() is None

    records = store.records("om-SYS-PG-1")
    kinds = [r.kind for r in records]
    assert kinds == ["remote_fix_request", "fs_case", "text", "crm_close"], kinds
    assert len({r.key for r in records}) == len(records)
    assert all(r.delivered_at for r in records)
    # The text was posted by A (cut off) and again by B, under one Idempotency-Key: the
    # receiving system sees one message (at-least-once delivery, exactly-once record).
    texts = [key for path, key, _, _ in slow_endpoint.received if path == "/effects/text"]
    assert len(texts) == 2 and len(set(texts)) == 1  # A's cut-off post, then B's
    store.close()
