#!/usr/bin/env python3
"""Chaos + fuzz reliability run of the fieldservice project against its own worker.

The project's own copy of `../shared/tools/chaos.py`, kept working with today's client and
models: cases are opened through `starter.client.open_case`, the driver waits for a case's
stage on its search attributes (a describe call the server answers alone) and reads the
`status` query only once the stage is right, instead of polling queries (see
docs/decisions.md, "Non-determinism under worker kills"); expected side-effect keys follow the
reworked base (appointment reminders per visit, the safety notice, CRM records closed with
the case). Worker tuning comes from the environment (`FIELD_SERVICE_MAX_CACHED_WORKFLOWS`, ...)
or `--max-cached-workflows`.

What it does (see README-chaos.md):
  1. starts `temporal server start-dev` on 127.0.0.1:7300 (UI 8300) with the project's search
     attributes, on a fresh SQLite file in a work directory;
  2. starts a local HTTP sink (counts deliveries per Idempotency-Key and per kind) and two
     `python -m workers` processes sharing one SQLite record store;
  3. opens N O&M cases with a time-compressed policy and drives each along a scripted path
     through the public contract (Update or Signal events with unique event_ids, ops Updates),
     retrying its own calls on connection errors with the same event_id;
  4. meanwhile SIGKILLs a random worker at random moments (restarting it after 0-5 s) and
     restarts the dev server once mid-run on the same db file;
  5. sends hostile events (half Update, half Signal) to running cases, plus ~2 MB payloads and
     a flood of rejected signals to dedicated probe cases;
  6. verifies outcomes, side-effect records in the store, WorkflowTaskFailed events in every
     history, duplicate deliveries at the sink, fuzz results; prints a report and writes
     report.json in the work directory.

Run it with the project's virtualenv python (it imports the project's client and models):
    .venv/bin/python ../shared/tools/chaos.py --project . --workdir "$(mktemp -d)"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import tempfile
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def _early_project() -> Path:
    for i, a in enumerate(sys.argv):
        if a == "--project" and i + 1 < len(sys.argv):
            return Path(sys.argv[i + 1]).resolve()
        if a.startswith("--project="):
            return Path(a.split("=", 1)[1]).resolve()
    return Path(os.environ.get("CHAOS_PROJECT", ".")).resolve()


PROJECT = _early_project()
sys.path.insert(0, str(PROJECT))

from temporalio.api.common.v1 import Payload  # noqa: E402
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause  # noqa: E402
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest  # noqa: E402
from temporalio.client import (  # noqa: E402
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import RawValue  # noqa: E402
from infra.wire import DATA_CONVERTER  # noqa: E402
from temporalio.exceptions import ApplicationError  # noqa: E402
from temporalio.service import RPCError, RPCStatusCode  # noqa: E402

from temporalio.worker import Replayer  # noqa: E402

from domain.om import OmCase, OmCaseInput  # noqa: E402
from domain.processes import OM  # noqa: E402
from workflows.search_attributes import CASE_STAGE, NEXT_DEADLINE, PROCESS_TYPE, TYPES  # noqa: E402
from workers.registry import WORKFLOWS, workflow_runner  # noqa: E402
from bench.cross_cases import CrossCases  # noqa: E402
from starter.client import (  # noqa: E402
    EventRejected,
    ServerUnavailable,
    case_status,
    open_case,
    run_ops,
    send_event,
)

SEARCH_ATTRIBUTES = [f"{name}={kind}" for name, kind in TYPES.items()]

# stages / waiting_for strings of the project (workflows/*.py)
PROBLEM, READY, TEXTS, CALLS = ("problem_identified", "ready_for_scheduling",
                                "self_scheduling_texts", "outbound_calls")
SCHEDULED, FINDINGS, VALIDATION = ("appointment_scheduled", "pending_appt_findings",
                                   "pending_performance_validation")
M_PARTNER, M_FINDINGS, M_LIABILITY, M_RESOLUTION = ("dispatched_to_partner", "findings_review",
                                                    "liability_determination", "resolution")

MIB = 1024 * 1024


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(t: datetime) -> str:
    return t.isoformat()


# ------------------------------------------------------------------------------------------
# processes


class Proc:
    """A child process we started (own session), with its log file; killed only by PID."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path,
                 log_path: Path) -> None:
        self.name, self.argv, self.env, self.cwd, self.log_path = name, argv, env, cwd, log_path
        self.p: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.expected_down = False

    def start(self) -> None:
        logf = open(self.log_path, "ab", buffering=0)  # noqa: SIM115
        logf.write(f"\n===== chaos: start #{self.starts + 1} at {iso(now_utc())} =====\n"
                   .encode())
        self.p = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=logf,  # noqa: S603
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        logf.close()
        self.starts += 1
        self.expected_down = False

    def alive(self) -> bool:
        return self.p is not None and self.p.poll() is None

    def send(self, sig: int) -> None:
        if self.alive():
            assert self.p is not None
            os.kill(self.p.pid, sig)

    async def wait_exit(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.alive():
                return True
            await asyncio.sleep(0.05)
        return not self.alive()


# ------------------------------------------------------------------------------------------
# HTTP sink


class Sink:
    """Counts POSTs per Idempotency-Key and per kind (last path segment)."""

    def __init__(self, fail_rate: float, seed: int) -> None:
        self.lock = threading.Lock()
        self.by_key: Counter[str] = Counter()
        self.by_kind: Counter[str] = Counter()
        self.posts = 0
        self.failed = 0
        self.no_key = 0
        self.fail_rate = fail_rate
        self.rng = random.Random(seed)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                key = self.headers.get("Idempotency-Key")
                kind = self.path.rstrip("/").rsplit("/", 1)[-1]
                with sink.lock:
                    sink.posts += 1
                    fail = sink.fail_rate > 0 and sink.rng.random() < sink.fail_rate
                    if fail:
                        sink.failed += 1
                    else:
                        if key is None:
                            sink.no_key += 1
                        sink.by_key[key or "-"] += 1
                        sink.by_kind[kind] += 1
                self.send_response(503 if fail else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/effects"


# ------------------------------------------------------------------------------------------
# cases


@dataclass
class Case:
    idx: int
    system_id: str
    path: str
    variant: str
    mode: str  # "update" | "signal": how the driver sends events
    fuzz: bool
    input: dict[str, Any]
    expected_outcome: str = ""
    expected_keys: Counter[str] = field(default_factory=Counter)
    # Side effects of the R&R project the case starts (a repair that needs removal).
    project_keys: Counter[str] = field(default_factory=Counter)
    # Keys that may or may not be recorded: an appointment reminder is skipped when the case
    # reaches its reminder time only after the (seconds-long) window has begun.
    maybe_keys: Counter[str] = field(default_factory=Counter)
    expect_manual: bool = False
    first_run_id: str | None = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    driver_ok: bool = False
    driver_error: str | None = None
    driver_step: str = ""
    last: OmCase | None = None
    acked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    t_open: float = 0.0
    t_done: float = 0.0
    # fuzz bookkeeping
    fuzz_sig_expected: Counter[str] = field(default_factory=Counter)  # rejection key -> n
    fuzz_sig_ambiguous: int = 0
    fuzz_sig_items: list[dict[str, Any]] = field(default_factory=list)
    fuzz_sent: int = 0
    fuzz_dup_ids: Counter[str] = field(default_factory=Counter)

    @property
    def case_id(self) -> str:
        return f"om-{self.system_id}"

    def exp(self, *suffixes: str) -> None:
        for s in suffixes:
            self.expected_keys[s] += 1


class PathError(Exception):
    pass


@dataclass
class Position:
    """A case's position as its search attributes tell it."""

    stage: str | None
    deadline: datetime | None
    process: str | None
    running: bool
    now: datetime


TRANSIENT = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED,
             RPCStatusCode.UNKNOWN, RPCStatusCode.INTERNAL, RPCStatusCode.RESOURCE_EXHAUSTED,
             RPCStatusCode.ABORTED}


def err_text(e: BaseException) -> str:
    if isinstance(e, RPCError):
        return f"RPCError {e.status.name if e.status else '?'}: {e.message}"
    if isinstance(e, WorkflowQueryFailedError):
        return f"QueryFailed: {e}"
    if isinstance(e, WorkflowUpdateFailedError):
        cause = e.cause
        msg = cause.message if isinstance(cause, ApplicationError) else str(cause or e)
        return f"UpdateFailed: {msg}"
    return f"{type(e).__name__}: {e}"


def is_transient(e: BaseException, what: str) -> bool:
    if isinstance(e, ServerUnavailable):
        return True  # the project's client: the server did not answer; safe to resend
    if isinstance(e, RPCError):
        if e.status in TRANSIENT:
            return True
        msg = (e.message or "").lower()
        if e.status == RPCStatusCode.FAILED_PRECONDITION and what.startswith("query"):
            return True
        if e.status == RPCStatusCode.FAILED_PRECONDITION and what.startswith("update") \
                and "workflow task" in msg:
            return True  # the update was aborted with its workflow task; safe to resend
        if e.status == RPCStatusCode.NOT_FOUND and "update" in msg:
            return True
        return False
    if isinstance(e, WorkflowQueryFailedError) and what.startswith("query"):
        return True
    if isinstance(e, WorkflowUpdateRPCTimeoutOrCancelledError | asyncio.TimeoutError
                  | TimeoutError | ConnectionError):
        return True
    if isinstance(e, RuntimeError):
        msg = str(e).lower()
        return any(w in msg for w in ("connect", "transport", "channel", "unavailable", "broken"))
    return False


def short(s: str, n: int = 160) -> str:
    s = s.replace("\n", " ")
    return s if len(s) <= n else s[:n] + f"...(+{len(s) - n} chars)"


# ------------------------------------------------------------------------------------------
# the run


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.tag = uuid.uuid4().hex[:6].upper()
        base = Path(args.workdir or os.path.join(tempfile.gettempdir(), "chaos-runs", f"{time.strftime('%Y%m%d-%H%M%S')}-{self.tag}"))
        base.mkdir(parents=True, exist_ok=True)
        self.dir = base
        self.db = base / "temporal.db"
        self.store = base / "records.db"
        self.cross = CrossCases(self, self.tag, args.cross, args.step_timeout)
        self.task_queue = f"chaos-{self.tag.lower()}"
        self.stats: dict[str, Counter[str]] = defaultdict(Counter)
        self.samples: dict[str, list[str]] = defaultdict(list)
        self.timeline: list[tuple[float, str]] = []
        self.t0 = time.monotonic()
        self.client: Client | None = None
        self.cases: list[Case] = []
        self.kills = 0
        self.kills_during_load = 0
        self.server_restarts = 0
        self.unexpected_exits: list[str] = []
        self.restarting = False
        self.load_done = asyncio.Event()
        self.drivers_done = False
        self.fuzz_running_sent = 0
        self.fuzz_door_parity = 0
        self.fuzz_update: Counter[str] = Counter()
        self.fuzz_update_by_cat: dict[str, Counter[str]] = defaultdict(Counter)
        self.fuzz_signal: Counter[str] = Counter()
        self.fuzz_closed: Counter[str] = Counter()
        self.probes: list[dict[str, Any]] = []
        self.deadline = 0.0
        temporal = PROJECT / ".venv" / "bin" / "temporal"
        sa: list[str] = []
        for a in SEARCH_ATTRIBUTES:
            sa += ["--search-attribute", a]
        self.server = Proc("server", [str(temporal), "server", "start-dev", "--ip", "127.0.0.1",
                                      "--port", str(args.port), "--ui-port", str(args.ui_port),
                                      "--db-filename", str(self.db), "--log-level", "warn", *sa],
                           dict(os.environ), base, base / "server.log")
        self.sink = Sink(args.sink_fail_rate, args.seed)
        wenv = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        wenv.update({
            "TEMPORAL_ADDRESS": f"127.0.0.1:{args.port}", "TEMPORAL_NAMESPACE": "default",
            "FIELD_SERVICE_TASK_QUEUE": self.task_queue, "FIELD_SERVICE_STORE": str(self.store),
            "FIELD_SERVICE_DELIVERY_URL": self.sink.url, "FIELD_SERVICE_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        })
        py = str(PROJECT / ".venv" / "bin" / "python")
        self.workers = [Proc(f"worker{i}", [py, "-m", "workers"], wenv, PROJECT,
                             base / f"worker{i}.log") for i in (1, 2)]

    # -- helpers --------------------------------------------------------------------------

    def mark(self, what: str) -> None:
        t = time.monotonic() - self.t0
        self.timeline.append((round(t, 1), what))
        print(f"[{t:7.1f}s] {what}", flush=True)

    def sample(self, key: str, text: str, limit: int = 6) -> None:
        if len(self.samples[key]) < limit:
            self.samples[key].append(text)

    async def call(self, what: str, fn: Callable[[], Awaitable[Any]], info: dict[str, Any] | None = None,
                   budget: float | None = None) -> Any:
        loop = asyncio.get_running_loop()
        start = loop.time()
        delay = 0.3
        budget = budget if budget is not None else self.args.retry_budget
        attempts = 0
        while True:
            attempts += 1
            if info is not None:
                info["attempts"] = attempts
            try:
                return await fn()
            except Exception as e:  # noqa: BLE001
                if not is_transient(e, what) or loop.time() - start > budget:
                    raise
                kind = what.split(":")[0]
                self.stats["transient_errors"][f"{kind}: {short(err_text(e), 90)}"] += 1
                self.stats["retries"][kind] += 1
                await asyncio.sleep(delay * (0.5 + self.rng.random()))
                delay = min(delay * 1.7, 4.0)

    # -- stack ----------------------------------------------------------------------------

    async def wait_server(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < end:
            try:
                if self.client is None:
                    self.client = await Client.connect(f"127.0.0.1:{self.args.port}",
                                                       data_converter=DATA_CONVERTER)
                await self.client.workflow_service.get_system_info(GetSystemInfoRequest())
                # the namespace must answer too
                await self.client.count_workflows()
                return
            except Exception as e:  # noqa: BLE001
                last = e
                await asyncio.sleep(0.5)
        raise RuntimeError(f"dev server not ready: {last}")

    async def start_stack(self) -> None:
        self.server.start()
        await self.wait_server()
        self.mark(f"dev server up on 127.0.0.1:{self.args.port} (db {self.db})")
        for w in self.workers:
            w.start()
        # wait until both workers logged "worker started"
        end = time.monotonic() + 60
        while time.monotonic() < end:
            ok = all(b'"worker started"' in w.log_path.read_bytes() for w in self.workers)
            if ok:
                break
            await asyncio.sleep(0.3)
        self.mark(f"2 workers up (task queue {self.task_queue}, store {self.store}, "
                  f"sink {self.sink.url})")

    async def stop_stack(self) -> None:
        for w in self.workers:
            w.expected_down = True
            w.send(signal.SIGTERM)
        for w in self.workers:
            if not await w.wait_exit(30):
                w.send(signal.SIGKILL)
                await w.wait_exit(5)
        self.server.expected_down = True
        self.server.send(signal.SIGTERM)
        if not await self.server.wait_exit(20):
            self.server.send(signal.SIGKILL)
            await self.server.wait_exit(5)
        self.sink.server.shutdown()

    # -- chaos ----------------------------------------------------------------------------

    async def watchdog(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            for w in self.workers:
                if not w.alive() and not w.expected_down:
                    rc = w.p.returncode if w.p else None
                    tail = w.log_path.read_bytes()[-600:].decode(errors="replace")
                    self.unexpected_exits.append(f"{w.name} exited rc={rc}: {short(tail, 600)}")
                    self.mark(f"!! {w.name} exited on its own (rc={rc}); restarting")
                    w.start()

    async def chaos_kills(self) -> None:
        a = self.args
        while True:
            gap = self.rng.uniform(a.kill_gap_min, a.kill_gap_max)
            if self.load_done.is_set():
                if self.kills >= a.min_kills:
                    return
                gap = self.rng.uniform(0.5, 2.0)
            await asyncio.sleep(gap)
            if self.restarting:
                continue
            alive = [w for w in self.workers if w.alive()]
            if not alive:
                continue
            w = self.rng.choice(alive)
            w.expected_down = True
            w.send(signal.SIGKILL)
            await w.wait_exit(5)
            self.kills += 1
            if not self.drivers_done:
                self.kills_during_load += 1
            down = self.rng.uniform(0, 5)
            self.mark(f"SIGKILL {w.name} pid={w.p.pid if w.p else '?'} (kill #{self.kills}); "
                      f"restart in {down:.1f}s")
            await asyncio.sleep(down)
            w.start()

    async def server_restart(self) -> None:
        # in the middle: once half of the cases have been opened
        n = len(self.cases)
        while sum(1 for c in self.cases if c.opened.is_set()) < max(1, n // 2):
            if self.load_done.is_set():
                break
            await asyncio.sleep(0.5)
        self.restarting = True
        sig = signal.SIGKILL if self.args.server_kill_signal == "KILL" else signal.SIGTERM
        t = time.monotonic()
        self.server.expected_down = True
        self.server.send(sig)
        exited = await self.server.wait_exit(20)
        if not exited:
            self.server.send(signal.SIGKILL)
            await self.server.wait_exit(10)
        self.mark(f"dev server stopped with SIG{self.args.server_kill_signal} "
                  f"({'exited' if exited else 'needed SIGKILL'}); restarting on the same db")
        await asyncio.sleep(self.args.server_down_s)
        self.server.start()
        try:
            await self.wait_server(90)
        except Exception as e:  # noqa: BLE001
            self.mark(f"!! dev server did not come back: {e}")
            raise
        self.server_restarts += 1
        self.restarting = False
        self.mark(f"dev server back after {time.monotonic() - t:.1f}s")

    # -- driving --------------------------------------------------------------------------

    async def status(self, c: Case) -> OmCase:
        assert self.client is not None
        st = await self.call("query", lambda: asyncio.wait_for(
            case_status(self.client, c.case_id), 30),  # type: ignore[arg-type]
            budget=30.0 if c.path == "probe" else None)
        self.stats["load"]["queries"] += 1
        return st  # type: ignore[no-any-return]

    async def position(self, c: Case) -> Position:
        """Where the case is, from a describe call (search attributes): the server answers it
        alone, no worker runs the case forward for it (see docs/decisions.md)."""
        assert self.client is not None
        h = self.client.get_workflow_handle(c.case_id)
        desc = await self.call("describe", lambda: asyncio.wait_for(h.describe(), 30))
        self.stats["load"]["describes"] += 1
        sa = desc.typed_search_attributes
        return Position(stage=sa.get(CASE_STAGE), deadline=sa.get(NEXT_DEADLINE),
                        process=sa.get(PROCESS_TYPE),
                        running=desc.status == WorkflowExecutionStatus.RUNNING, now=now_utc())

    async def wait(self, c: Case, pred: Callable[[Position], bool], what: str,
                   timeout: float | None = None) -> Position:
        """Poll the case's position (no query) until `pred` holds."""
        loop = asyncio.get_running_loop()
        end = min(loop.time() + (timeout or self.args.step_timeout), self.deadline)
        c.driver_step = f"waiting for {what}"
        interval = 0.3
        while True:
            pos = await self.position(c)
            try:
                ok = pred(pos)
            except Exception:  # noqa: BLE001
                ok = False
            if ok:
                return pos
            if not pos.running:
                raise PathError(f"case closed ({pos.stage}) while waiting for {what}")
            if loop.time() > end:
                raise PathError(f"timed out waiting for {what}: process={pos.process} "
                                f"stage={pos.stage} next_deadline={pos.deadline}")
            await asyncio.sleep(interval * (0.7 + 0.6 * self.rng.random()))
            interval = min(interval * 1.5, self.args.poll_max)

    async def send(self, c: Case, name: str, body: dict[str, Any], step: str,
                   final: bool = False) -> OmCase | None:
        payload = {"event_id": f"{c.case_id}:{step}", **body}
        door = c.mode
        info: dict[str, Any] = {}
        c.driver_step = f"sending {name} ({door})"
        self.stats["load"][f"driver {door}s"] += 1
        try:
            res = await self.call(f"{door}:{name}", lambda: asyncio.wait_for(send_event(
                self.client, c.case_id, name, payload, signal=door == "signal"), 120),  # type: ignore[arg-type]
                info)
        except EventRejected as e:
            if info.get("attempts", 1) > 1:
                self.stats["driver"]["retry of an accepted event rejected"] += 1
                self.sample("retry rejected", f"{c.case_id} {name} {payload['event_id']}: {e}")
                if final and "closed" in str(e):
                    c.notes.append(f"retried final {name} answered 'closed': {e}")
                    c.acked.append((name, payload))
                    return None
            raise PathError(f"{door} {name} ({payload['event_id']}) rejected: {e}") from None
        if info.get("attempts", 1) > 1:
            self.stats["driver"]["events delivered after retry"] += 1
        c.acked.append((name, payload))
        return res  # type: ignore[no-any-return]

    async def ops(self, c: Case, command: str, body: dict[str, Any], step: str) -> None:
        payload = {"event_id": f"{c.case_id}:{step}", "actor": "chaos", **body}
        info: dict[str, Any] = {}
        c.driver_step = f"ops {command}"
        self.stats["load"]["driver ops"] += 1
        try:
            await self.call(f"update:{command}", lambda: asyncio.wait_for(
                run_ops(self.client, c.case_id, command, payload), 120), info)  # type: ignore[arg-type]
        except EventRejected as e:
            if info.get("attempts", 1) > 1:
                self.stats["driver"]["retry of an accepted event rejected"] += 1
                self.sample("retry rejected", f"{c.case_id} {command}: {e}")
                if "closed" in str(e):
                    c.notes.append(f"retried {command} answered 'closed': {e}")
                    return
            raise PathError(f"ops {command} rejected: {e}") from None
        c.acked.append((command, payload))

    # path pieces

    async def remote_fix(self, c: Case, resolved: bool) -> None:
        await self.wait(c, lambda p: p.stage == PROBLEM and p.deadline is not None,
                        "remote fix wait")
        await self.send(c, "remote_fix_result", {"resolved": resolved}, "fix",
                        final=resolved)

    async def text_sent(self, c: Case, visit: int, texts: int) -> None:
        await self.wait(c, lambda p: p.stage == TEXTS and p.deadline is not None,
                        f"visit {visit} text {texts} sent")
        c.exp(f"visit{visit}/text/1")

    async def book(self, c: Case, visit: int, window_in: float = 3.0) -> str:
        appt = f"APT-{c.idx}-{visit}"
        start = now_utc() + timedelta(seconds=window_in)
        await self.send(c, "appointment_scheduled", {
            "appointment_id": appt, "window_start": iso(start),
            "window_end": iso(start + timedelta(seconds=2))}, f"book{visit}")
        return appt

    async def outcome(self, c: Case, visit: int, appt: str, result: str,
                      asset: bool = False) -> None:
        c.maybe_keys[f"visit{visit}/appointment-reminder/1"] += 1
        await self.wait(c, lambda p: p.stage == FINDINGS and p.deadline is not None,
                        f"visit {visit} waiting for outcome")
        body: dict[str, Any] = {"appointment_id": appt, "result": result}
        if asset:
            body["asset_update_needed"] = True
        await self.send(c, "appointment_outcome", body, f"outcome{visit}")

    async def validation(self, c: Case, visit: int, healthy: bool, after_check: bool = False,
                         final: bool = False) -> None:
        if after_check:
            await self.wait(c, lambda p: p.stage == VALIDATION and p.deadline is not None
                            and p.deadline - p.now > timedelta(seconds=60), "health check done")
            c.exp(f"visit{visit}/health-check")
        else:
            await self.wait(c, lambda p: p.stage == VALIDATION and p.deadline is not None,
                            "validation period")
        await self.send(c, "system_health_reported", {"healthy": healthy}, f"health{visit}",
                        final=final)

    async def failed_visit(self, c: Case, visit: int, how: str) -> None:
        await self.text_sent(c, visit, visit)
        appt = await self.book(c, visit)
        if how == "nc":
            await self.outcome(c, visit, appt, "not_completed")
        else:
            await self.outcome(c, visit, appt, "completed")
            await self.validation(c, visit, healthy=False)

    async def manual_track(self, c: Case, partner: bool | None, plan: list[str]) -> None:
        c.exp("manual/case-manager")
        if partner is not None:
            c.exp("manual/partner-dispatch")
            await self.wait(c, lambda p: p.process == "om_manual" and p.stage == M_PARTNER
                            and p.deadline is not None, "partner dispatch")
            await self.send(c, "partner_decision", {"accepted": partner}, "partner")
        if not partner:
            c.exp("manual/work-order")
        await self.wait(c, lambda p: p.process == "om_manual" and p.stage == M_FINDINGS
                        and p.deadline is not None, "manual findings review")
        await self.send(c, "findings_submitted", {"summary": "inverter board failed; replaced",
                                                  "at_fault_party": "manufacturer"}, "findings")
        for i, d in enumerate(plan):
            await self.wait(c, lambda p: p.stage == M_LIABILITY and p.deadline is not None,
                            f"liability determination {i + 1}")
            decision = {"deny": "deny", "repair": "repair", "rr": "repair",
                        "settle_accept": "settle", "settle_decline": "settle"}[d]
            await self.send(c, "liability_determined", {
                "liable_party": "company", "decision": decision, "rr_required": d == "rr"},
                f"liability{i + 1}", final=d == "deny")
            c.exp(f"manual/liability-notice/{i + 1}")
            if d == "rr":  # spec 2.3: the case waits for the project it starts, to its end
                c.project_keys.update(["project", "owner", "started-notice",
                                       "completed-notice", "close-records"])
                await self.wait(c, lambda p: p.stage == "project_in_progress",
                                "the R&R project")
                project_id = (await self.status(c)).project_id
                assert project_id is not None
                await self.cross.complete_project(project_id)
            if d == "repair":
                await self.wait(c, lambda p: p.stage == M_RESOLUTION and p.deadline is not None,
                                "repair")
                await self.send(c, "repair_completed", {}, "repaired", final=True)
            if d in ("settle_accept", "settle_decline"):
                await self.wait(c, lambda p: p.stage == M_RESOLUTION and p.deadline is not None,
                                "settlement answer")
                name = "settlement_accepted" if d == "settle_accept" else "settlement_declined"
                await self.send(c, name, {}, f"settlement{i + 1}", final=d == "settle_accept")

    async def drive(self, c: Case) -> None:
        v = c.variant
        if v == "a6_hazard_phone":
            c.exp("fs-case", "priority-dispatch", "visit1/call/1")
            await self.wait(c, lambda p: p.stage == CALLS and p.deadline is not None,
                            "call 1 placed")
            await self.send(c, "call_attempt_result", {"reached": True, "scheduled": True}, "call1")
            # No wait for "phone booking noted": the booking queues behind the call result.
            appt = await self.book(c, 1)
            await self.outcome(c, 1, appt, "completed")
            await self.validation(c, 1, healthy=True, final=True)
            return
        if v == "d4_manual_findings":
            c.exp("manual/case-manager", "manual/work-order")
            await self.wait(c, lambda p: p.process == "om_manual" and p.stage == M_FINDINGS
                            and p.deadline is not None, "manual findings review")
            await self.ops(c, "cancel_case", {"reason": "chaos: duplicate case"}, "cancel")
            return
        c.exp("remote-fix")
        answered = v in ("a2_fix_answered", "a3_health_check", "a4_asset_update",
                         "a5_resolved_remotely", "b2_nc_unhealthy_repair",
                         "b4_partner_accept_settle", "b6_ops_escalate_deny", "d1_problem")
        if v == "a5_resolved_remotely":
            await self.remote_fix(c, True)
            return
        if v == "d1_problem":
            await self.wait(c, lambda p: p.stage == PROBLEM and p.deadline is not None,
                            "remote fix wait")
            await self.ops(c, "cancel_case", {"reason": "chaos: customer withdrew"}, "cancel")
            return
        if answered:
            await self.remote_fix(c, False)
        c.exp("fs-case")
        if c.path == "happy":
            await self.text_sent(c, 1, 1)
            appt = await self.book(c, 1)
            await self.outcome(c, 1, appt, "completed", asset=v == "a4_asset_update")
            if v == "a4_asset_update":
                c.exp("asset-update")
            await self.validation(c, 1, healthy=True, after_check=v == "a3_health_check",
                                  final=True)
            return
        if c.path == "unreachable":
            if v == "c1_texts":
                c.exp("visit1/text/1", "visit1/text/2", "pg-void-notice", "unreachable-assignment")
                return  # timers only: nothing to send
            await self.text_sent(c, 1, 1)
            await self.send(c, "text_opt_out", {}, "stop")
            c.exp("pg-void-notice", "unreachable-assignment")
            return
        if c.path == "cancel":
            await self.text_sent(c, 1, 1)
            if v == "d3_appointment":
                await self.book(c, 1, window_in=3600)
                await self.wait(c, lambda p: p.stage == SCHEDULED and p.deadline is not None,
                                "booked")
            await self.ops(c, "cancel_case", {"reason": "chaos: ops cancel"}, "cancel")
            return
        # manual paths
        if v == "b6_ops_escalate_deny":
            await self.text_sent(c, 1, 1)
            await self.ops(c, "escalate", {"reason": "chaos: homeowner asked for a manager"},
                           "escalate")
            await self.manual_track(c, None, ["deny"])
            return
        first, second = {"b1_nc_nc_deny": ("nc", "nc"), "b2_nc_unhealthy_repair": ("nc", "unh"),
                         "b3_unhealthy_nc_rr": ("unh", "nc"),
                         "b4_partner_accept_settle": ("nc", "nc"),
                         "b5_partner_decline_settle_decline_deny": ("nc", "unh")}[v]
        await self.failed_visit(c, 1, first)
        await self.failed_visit(c, 2, second)
        partner = {"b4_partner_accept_settle": True,
                   "b5_partner_decline_settle_decline_deny": False}.get(v)
        plan = {"b1_nc_nc_deny": ["deny"], "b2_nc_unhealthy_repair": ["repair"],
                "b3_unhealthy_nc_rr": ["rr"], "b4_partner_accept_settle": ["settle_accept"],
                "b5_partner_decline_settle_decline_deny": ["settle_decline", "deny"]}[v]
        await self.manual_track(c, partner, plan)

    async def wait_closed(self, c: Case) -> None:
        assert self.client is not None
        loop = asyncio.get_running_loop()
        end = min(loop.time() + self.args.step_timeout, self.deadline)
        c.driver_step = "waiting for the case to close"
        interval = 0.5
        while True:
            h = self.client.get_workflow_handle(c.case_id)
            desc = await self.call("describe", lambda h=h: asyncio.wait_for(h.describe(), 30))
            wtype = desc.workflow_type
            if desc.status != WorkflowExecutionStatus.RUNNING and (
                    not c.expect_manual or wtype == "OmManualWorkflow"):
                return
            if loop.time() > end:
                st = None
                try:
                    st = await asyncio.wait_for(case_status(self.client, c.case_id), 10)
                except Exception:  # noqa: BLE001
                    pass
                raise PathError(f"timed out waiting for close: {wtype} {desc.status.name if desc.status else '?'}"
                                + (f" stage={st.stage} waiting_for={st.waiting_for!r}" if st else ""))
            await asyncio.sleep(interval * (0.7 + 0.6 * self.rng.random()))
            interval = min(interval * 1.5, self.args.poll_max)

    async def run_case(self, c: Case, sem: asyncio.Semaphore) -> None:
        async with sem:
            assert self.client is not None
            c.t_open = time.monotonic()
            try:
                inp = OmCaseInput.model_validate(c.input)
                opened = await self.call("open", lambda: asyncio.wait_for(
                    open_case(self.client, OM, inp, self.task_queue), 60))  # type: ignore[arg-type]
                c.first_run_id = opened.run_id
                c.opened.set()
                self.stats["load"]["cases opened"] += 1
                await self.drive(c)
                # The reworked base: a hazard's safety notice, and the CRM records a case
                # opened closed with it (every path but the remote fix and the early cancel).
                if c.variant == "a6_hazard_phone":
                    c.exp("safety-notice")
                if c.variant not in ("a5_resolved_remotely", "d1_problem"):
                    c.exp("close-records")
                await self.wait_closed(c)
                c.driver_ok = True
            except PathError as e:
                c.driver_error = str(e)
            except Exception as e:  # noqa: BLE001
                c.driver_error = f"{c.driver_step}: {err_text(e)}"
                self.sample("driver exception", f"{c.case_id}: {traceback.format_exc()[-800:]}")
            finally:
                c.opened.set()
                c.t_done = time.monotonic()
                c.done.set()

    # -- fuzz -----------------------------------------------------------------------------

    def fuzz_catalog(self, c: Case, eid: str) -> list[tuple[str, str, Any, list[str], str]]:
        """(category, name, payload-or-('args', list), tokens, expectation)."""
        raw_json = RawValue(Payload(metadata={"encoding": b"json/plain"},
                                    data=b'{"event_id": "' + eid.encode() + b'", "result": '))
        raw_bin = RawValue(Payload(metadata={"encoding": b"binary/plain"}, data=os.urandom(48)))
        big = 100_000
        cat: list[tuple[str, str, Any, list[str], str]] = [
            ("unknown_name", "fz_no_such_event", {"event_id": eid}, ["unknown event"], "reject"),
            ("unknown_name_typo", "appointment_schedule", {
                "event_id": eid, "appointment_id": "FZ-1", "window_start": iso(now_utc()),
                "window_end": iso(now_utc() + timedelta(hours=1))}, ["unknown event"], "reject"),
            ("non_json", "appointment_outcome", raw_json, ["json"], "reject"),
            ("binary_payload", "remote_fix_result", raw_bin,
             ["dictionary", "json object", "object", "dict"], "reject"),
            ("wrong_type_list", "system_health_reported", [eid, True],
             ["dictionary", "json object", "object", "dict"], "reject"),
            ("wrong_type_string", "appointment_scheduled", "tomorrow at nine",
             ["dictionary", "json object", "object", "dict"], "reject"),
            ("wrong_type_null", "findings_reviewed", None,
             ["dictionary", "json object", "object", "dict", "none"], "reject"),
            ("wrong_type_field", "remote_fix_result", {"event_id": eid, "resolved": "maybe"},
             ["resolved"], "reject"),
            ("wrong_type_fields", "appointment_scheduled", {
                "event_id": eid, "appointment_id": 42, "window_start": "soon",
                "window_end": False}, ["window_start", "appointment_id"], "reject"),
            ("bad_enum", "appointment_outcome", {"event_id": eid, "appointment_id": "FZ-BOGUS",
                                                 "result": "exploded"}, ["result"], "reject"),
            ("missing_field", "appointment_scheduled", {"event_id": eid, "appointment_id": "FZ-1"},
             ["window_start", "window_end"], "reject"),
            ("missing_event_id", "system_health_reported", {"healthy": True}, ["event_id"],
             "reject"),
            ("empty_event_id", "remote_fix_result", {"event_id": "", "resolved": False},
             ["event_id"], "reject"),
            ("extra_field", "appointment_outcome", {
                "event_id": eid, "appointment_id": "FZ-BOGUS", "result": "completed",
                "technician_mood": "grumpy"}, ["technician_mood"], "reject"),
            ("extra_field_optout", "text_opt_out", {"event_id": eid, "unsubscribe_all": True},
             ["unsubscribe_all"], "reject"),
            ("naive_occurred_at", "equipment_available", {
                "event_id": eid, "occurred_at": "2026-01-01T10:00:00"}, ["occurred_at"], "reject"),
            ("huge_event_id", "remote_fix_result", {"event_id": eid + "-" + "E" * big,
                                                    "resolved": False}, ["event_id"], "reject"),
            ("huge_field", "appointment_outcome", {"event_id": eid, "appointment_id": "A" * big,
                                                   "result": "completed"},
             ["appointment_id"], "reject"),
            ("huge_actor", "findings_reviewed", {"event_id": eid, "clear_path": True,
                                                 "actor": "x" * big}, ["actor"], "reject"),
            ("huge_name", "fz_" + "n" * big, {"event_id": eid},
             ["name", "length", "too long", "unknown event", "exceeds"], "reject"),
            ("wrong_stage_findings_reviewed", "findings_reviewed", {"event_id": eid,
                                                                    "clear_path": True},
             ["does not fit stage", "unknown event"], "reject"),
            ("wrong_stage_equipment", "equipment_available", {"event_id": eid},
             ["does not fit stage", "unknown event"], "reject"),
            ("wrong_stage_call_result", "call_attempt_result", {"event_id": eid, "reached": False},
             ["does not fit stage", "unknown event", "no call attempt"], "reject"),
            ("bogus_appointment", "appointment_outcome", {
                "event_id": eid, "appointment_id": "FZ-BOGUS", "result": "completed"},
             ["does not fit stage", "appointment", "unknown event"], "reject"),
            ("two_args", "remote_fix_result", ("args", [{"event_id": eid, "resolved": False},
                                                        {"event_id": eid + "b"}]),
             ["expected one", "argument"], "reject"),
            ("zero_args", "system_health_reported", ("args", []), ["expected one", "argument"],
             "reject"),
            ("ops_missing_reason", "cancel_case", {"event_id": eid}, ["reason"], "reject"),
            ("ops_empty_reason", "escalate", {"event_id": eid, "reason": ""}, ["reason"], "reject"),
            ("ops_wrong_type", "cancel_case", {"event_id": eid, "reason": 12345}, ["reason"],
             "reject"),
            ("ops_extra_field", "escalate", {"event_id": eid, "reason": "fuzz",
                                             "severity": "max"}, ["severity"], "reject"),
            ("ops_huge_text", "add_note", {"event_id": eid, "text": "n" * big}, ["text"], "reject"),
            ("ops_non_json", "cancel_case", RawValue(Payload(metadata={"encoding": b"json/plain"},
                                                              data=b"{oops")),
             ["json", "reason"], "reject"),
            ("ops_list", "escalate", ["reason", "fuzz"], ["dictionary", "object", "dict"],
             "reject"),
            ("ops_long_event_id", "cancel_case", {"event_id": "e" * 300, "reason": "fuzz"},
             ["event_id"], "reject"),
        ]
        events = [(n, pl) for n, pl in c.acked if n not in ("cancel_case", "escalate", "add_note")]
        if events:
            name, payload = self.rng.choice(events)
            cat.append(("duplicate_event_id", name, dict(payload), [], "ack"))
        return cat

    @staticmethod
    def rejection_key(payload: Any) -> str:
        if isinstance(payload, dict):
            v = payload.get("event_id")
            return v[:200] if isinstance(v, str) and v else "<none>"
        return "<none>"

    def classify(self, msg: str, tokens: list[str]) -> str:
        low = msg.lower()
        tokens = [*tokens, "unknown event", "is closed", "already completed"]
        return "clear" if any(t.lower() in low for t in tokens) else "vague"

    async def fuzz_one(self, c: Case, item: tuple[str, str, Any, list[str], str], door: str,
                       closed: bool = False) -> None:
        assert self.client is not None
        catg, name, payload, tokens, expect = item
        handle = self.client.get_workflow_handle(c.case_id)
        multi = isinstance(payload, tuple) and payload and payload[0] == "args"
        ops_names = {"cancel_case", "escalate", "add_note"}
        info: dict[str, Any] = {}
        c.fuzz_sent += 1
        if door == "update":
            try:
                if multi:
                    await self.call("fuzz-update", lambda: asyncio.wait_for(handle.execute_update(
                        name, args=payload[1]), 60), info)
                elif name in ops_names:
                    await self.call("fuzz-update", lambda: asyncio.wait_for(run_ops(
                        self.client, c.case_id, name, payload), 60), info)  # type: ignore[arg-type]
                else:
                    await self.call("fuzz-update", lambda: asyncio.wait_for(send_event(
                        self.client, c.case_id, name, payload), 60), info)  # type: ignore[arg-type]
                res = "acked" if expect == "ack" else "ACCEPTED (unexpected)"
                if expect != "ack":
                    self.sample("fuzz update accepted", f"{c.case_id} {catg} {short(name, 40)}")
            except (EventRejected, WorkflowUpdateFailedError, RPCError) as e:
                msg = str(e) if isinstance(e, EventRejected) else err_text(e)
                if expect == "ack":
                    res = "dup rejected"
                    self.sample("duplicate event_id rejected (closed case)" if closed
                                else "duplicate event_id rejected (open case)",
                                f"{c.case_id} {name} "
                                f"{payload.get('event_id') if isinstance(payload, dict) else ''}: "
                                f"{short(msg, 240)}")
                else:
                    res = f"rejected_{self.classify(msg, tokens + (['closed'] if closed else []))}"
                    if res == "rejected_vague":
                        self.sample(f"vague update rejection [{catg}]",
                                    f"{c.case_id}: {short(msg, 300)}", 3)
                    else:
                        self.sample(f"clear update rejection [{catg}]",
                                    f"{c.case_id}: {short(msg, 200)}", 1)
            except Exception as e:  # noqa: BLE001
                res = f"error {type(e).__name__}"
                self.sample("fuzz update error", f"{c.case_id} {catg}: {short(err_text(e), 300)}")
            if closed:
                self.fuzz_closed[f"update {res}"] += 1
            else:
                self.fuzz_update[res] += 1
                self.fuzz_update_by_cat[catg][res] += 1
            return
        # signal door
        try:
            if multi:
                await self.call("fuzz-signal", lambda: asyncio.wait_for(
                    handle.signal(name, args=payload[1]), 60), info)
            else:
                await self.call("fuzz-signal", lambda: asyncio.wait_for(
                    handle.signal(name, payload), 60), info)
            ok = True
            res = "sent"
        except RPCError as e:
            ok = False
            res = f"refused by server ({e.status.name if e.status else '?'})"
            self.sample(f"signal refused [{catg}]", f"{c.case_id}: {short(err_text(e), 300)}", 2)
        except Exception as e:  # noqa: BLE001
            ok = False
            res = f"error {type(e).__name__}"
            self.sample("fuzz signal error", f"{c.case_id} {catg}: {short(err_text(e), 300)}")
        if closed:
            self.fuzz_closed[f"signal {res}"] += 1
            return
        self.fuzz_signal[res] += 1
        if ok:
            ambiguous = info.get("attempts", 1) > 1
            key = self.rejection_key(payload[1][0] if multi and payload[1] else payload)
            c.fuzz_sig_items.append({"cat": catg, "name": name[:60], "key": key,
                                     "tokens": tokens, "expect": expect,
                                     "ambiguous": ambiguous})
            if expect == "ack" and isinstance(payload, dict):
                c.fuzz_dup_ids[self.rejection_key(payload)] += 1
                self.fuzz_signal["duplicate event_id signals sent"] += 1
            if expect == "reject":
                if ambiguous:
                    c.fuzz_sig_ambiguous += 1
                c.fuzz_sig_expected[key] += 1

    async def fuzz_case(self, c: Case) -> None:
        await c.opened.wait()
        if c.first_run_id is None:
            return
        k = 0
        per_case_cap = self.args.fuzz_per_case_cap
        sent_here = 0
        while not c.done.is_set() and sent_here < per_case_cap \
                and self.fuzz_running_sent < self.args.fuzz:
            await asyncio.sleep(self.rng.uniform(self.args.fuzz_gap_min, self.args.fuzz_gap_max))
            if c.done.is_set():
                break
            k += 1
            eid = f"fz-{c.idx}-{k}"
            item = self.rng.choice(self.fuzz_catalog(c, eid))
            door = "update" if self.fuzz_door_parity % 2 == 0 else "signal"
            self.fuzz_door_parity += 1
            self.fuzz_running_sent += 1
            sent_here += 1
            await self.fuzz_one(c, item, door)
        await c.done.wait()
        if not c.driver_ok:
            return
        # events to the closed case
        k += 1
        late = ("closed_new_event", "system_health_reported",
                {"event_id": f"fz-{c.idx}-{k}", "healthy": True}, ["closed", "completed"], "reject")
        await self.fuzz_one(c, late, "update", closed=True)
        await self.fuzz_one(c, late, "signal", closed=True)
        if c.acked:
            name, payload = c.acked[-1]
            await self.fuzz_one(c, ("closed_duplicate", name, dict(payload), [], "ack"), "update",
                                closed=True)
        await self.fuzz_one(c, ("closed_ops", "add_note", {"event_id": f"fz-{c.idx}-{k}n",
                                                           "text": "late note"},
                                ["closed"], "reject"), "update", closed=True)

    # -- probes (big payloads, flood) -------------------------------------------------------

    def probe_case(self, name: str, manual: bool = False) -> Case:
        idx = 90000 + len(self.probes)
        c = Case(idx=idx, system_id=f"PRB{self.tag}-{name}", path="probe", variant=name,
                 mode="signal", fuzz=False, input=self.case_input(f"PRB{self.tag}-{name}", "happy",
                                                                 "probe"))
        if manual:
            c.input["installer_accepting_service_work"] = False
        return c

    async def probe_outcome(self, c: Case, seconds: float = 90) -> dict[str, Any]:
        """Wait for the case to close (or not) and read what happened."""
        assert self.client is not None
        end = time.monotonic() + seconds
        desc = None
        while time.monotonic() < end:
            try:
                desc = await self.client.get_workflow_handle(c.case_id).describe()
                if desc.status != WorkflowExecutionStatus.RUNNING:
                    break
            except Exception:  # noqa: BLE001
                pass
            await asyncio.sleep(1)
        out: dict[str, Any] = {"status": desc.status.name if desc and desc.status else "?"}
        try:
            hist = await self.client.get_workflow_handle(c.case_id).fetch_history()
            counts = Counter(EventType.Name(e.event_type) for e in hist.events)
            out["wft_failed"] = counts.get("EVENT_TYPE_WORKFLOW_TASK_FAILED", 0)
            out["history_events"] = len(hist.events)
            msgs = []
            for e in hist.events:
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    a = e.workflow_task_failed_event_attributes
                    msgs.append(f"{WorkflowTaskFailedCause.Name(a.cause)}: "
                                f"{short(a.failure.message, 200)}")
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                    out["terminated_reason"] = short(
                        e.workflow_execution_terminated_event_attributes.reason, 300)
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                    out["failed"] = short(
                        e.workflow_execution_failed_event_attributes.failure.message, 300)
            out["wft_failed_messages"] = sorted(Counter(msgs).items())[:4]
            if desc is not None and desc.status == WorkflowExecutionStatus.RUNNING:
                pw = desc.raw_description.pending_workflow_task
                if pw.attempt:
                    out["pending_wft_attempt"] = pw.attempt
        except Exception as e:  # noqa: BLE001
            out["history_error"] = short(err_text(e), 200)
        return out

    async def probe_big_simplified(self, name: str, door: str, size: int, valid_name: str) -> None:
        """A ~2 MB (invalid) event on a simplified case waiting for a booking; then the case is
        driven to `resolved`."""
        c = self.probe_case(name)
        rec: dict[str, Any] = {"probe": name, "case_id": c.case_id, "door": door,
                               "payload_bytes": size}
        self.probes.append(rec)
        try:
            inp = OmCaseInput.model_validate(c.input)
            opened = await self.call("open", lambda: open_case(self.client, OM, inp, self.task_queue))  # type: ignore[arg-type]
            c.first_run_id = opened.run_id
            c.exp("remote-fix", "fs-case")
            await self.remote_fix(c, False)
            await self.text_sent(c, 1, 1)
            payload = {"event_id": f"{c.case_id}:big", "appointment_id": "A" * size,
                       "result": "completed"}
            assert self.client is not None
            h = self.client.get_workflow_handle(c.case_id)
            t = time.monotonic()
            try:
                if door == "update":
                    await asyncio.wait_for(send_event(self.client, c.case_id, valid_name, payload), 120)
                    rec["big_call"] = "accepted"
                else:
                    await asyncio.wait_for(h.signal(valid_name, payload), 120)
                    rec["big_call"] = "signal sent"
            except Exception as e:  # noqa: BLE001
                rec["big_call"] = short(err_text(e) if not isinstance(e, EventRejected)
                                        else f"EventRejected: {e}", 300)
            rec["big_call_s"] = round(time.monotonic() - t, 2)
            st = await self.status(c)
            rec["rejected_events_after"] = [short(r.reason, 160) for r in st.rejected_events][-2:]
            appt = await self.book(c, 1)
            await self.outcome(c, 1, appt, "completed")
            await self.validation(c, 1, healthy=True, final=True)
        except Exception as e:  # noqa: BLE001
            rec["driver_error"] = short(err_text(e) if not isinstance(e, PathError) else str(e), 300)
        rec.update(await self.probe_outcome(c))
        try:
            res = await self.status(c)
            rec["outcome"] = res.outcome
        except Exception as e:  # noqa: BLE001
            rec["status_error"] = short(err_text(e), 200)

    async def probe_big_manual(self, name: str, door: str, size: int) -> None:
        """A valid liability decision whose `liable_party` is `size` bytes (the model has no
        length limit on it) on a manual case; decision deny closes the case."""
        c = self.probe_case(name, manual=True)
        c.expect_manual = True
        rec: dict[str, Any] = {"probe": name, "case_id": c.case_id, "door": door,
                               "payload_bytes": size, "event": "liability_determined (valid)"}
        self.probes.append(rec)
        try:
            inp = OmCaseInput.model_validate(c.input)
            opened = await self.call("open", lambda: open_case(self.client, OM, inp, self.task_queue))  # type: ignore[arg-type]
            c.first_run_id = opened.run_id
            await self.wait(c, lambda p: p.stage == M_FINDINGS and p.deadline is not None,
                            "findings review")
            await self.send(c, "findings_submitted", {"summary": "roof damage near array"},
                            "findings")
            await self.wait(c, lambda p: p.stage == M_LIABILITY and p.deadline is not None,
                            "liability")
            payload = {"event_id": f"{c.case_id}:big", "liable_party": "P" * size,
                       "decision": "deny"}
            assert self.client is not None
            t = time.monotonic()
            try:
                if door == "update":
                    r = await asyncio.wait_for(send_event(self.client, c.case_id,
                                                          "liability_determined", payload), 150)
                    rec["big_call"] = f"update returned (status outcome={r.outcome if r else None})"
                else:
                    await asyncio.wait_for(self.client.get_workflow_handle(c.case_id).signal(
                        "liability_determined", payload), 120)
                    rec["big_call"] = "signal sent"
            except Exception as e:  # noqa: BLE001
                rec["big_call"] = short(err_text(e) if not isinstance(e, EventRejected)
                                        else f"EventRejected: {e}", 300)
            rec["big_call_s"] = round(time.monotonic() - t, 2)
        except Exception as e:  # noqa: BLE001
            rec["driver_error"] = short(err_text(e) if not isinstance(e, PathError) else str(e), 300)
        rec.update(await self.probe_outcome(c, 60))
        try:
            q = await asyncio.wait_for(self.client.get_workflow_handle(c.case_id).query("status"), 30)  # type: ignore[union-attr]
            rec["status_query_bytes"] = len(json.dumps(q))
            rec["stage"] = q.get("stage")
            rec["outcome"] = q.get("outcome")
        except Exception as e:  # noqa: BLE001
            rec["status_query_error"] = short(err_text(e), 300)

    async def probe_flood(self, n: int, name_len: int) -> None:
        """Many rejected signals with long (but server-accepted) unknown names on one case,
        then the case is driven to `resolved`."""
        c = self.probe_case("flood")
        rec: dict[str, Any] = {"probe": "flood", "case_id": c.case_id, "signals": n,
                               "name_len": name_len}
        self.probes.append(rec)
        assert self.client is not None
        try:
            inp = OmCaseInput.model_validate(c.input)
            opened = await self.call("open", lambda: open_case(self.client, OM, inp, self.task_queue))  # type: ignore[arg-type]
            c.first_run_id = opened.run_id
            await self.remote_fix(c, False)
            await self.text_sent(c, 1, 1)
            h = self.client.get_workflow_handle(c.case_id)
            sem = asyncio.Semaphore(20)
            refused: Counter[str] = Counter()

            async def one(i: int) -> None:
                nm = f"fz_flood_{i:05d}_" + "n" * max(0, name_len - 15)
                async with sem:
                    try:
                        await self.call("flood", lambda: h.signal(nm, {"event_id": f"fl-{i}"}))
                    except Exception as e:  # noqa: BLE001
                        refused[short(err_text(e), 120)] += 1

            t = time.monotonic()
            await asyncio.gather(*(one(i) for i in range(n)))
            rec["flood_s"] = round(time.monotonic() - t, 1)
            rec["refused"] = dict(refused)
            try:
                q = await asyncio.wait_for(h.query("status"), 60)
                rec["status_bytes_after_flood"] = len(json.dumps(q))
                rec["rejected_events_after_flood"] = len(q.get("rejected_events", []))
            except Exception as e:  # noqa: BLE001
                rec["status_query_error"] = short(err_text(e), 300)
            try:
                await asyncio.wait_for(run_ops(self.client, c.case_id, "add_note",
                                               {"text": "after flood", "event_id": "fl-note"}), 60)
                rec["update_after_flood"] = "ok"
            except Exception as e:  # noqa: BLE001
                rec["update_after_flood"] = short(err_text(e) if not isinstance(e, EventRejected)
                                                  else f"EventRejected: {e}", 300)
            appt = await self.book(c, 1)
            await self.outcome(c, 1, appt, "completed")
            await self.validation(c, 1, healthy=True, final=True)
        except Exception as e:  # noqa: BLE001
            rec["driver_error"] = short(err_text(e) if not isinstance(e, PathError) else str(e), 300)
        rec.update(await self.probe_outcome(c, 60))

    async def probes_task(self) -> None:
        if self.args.no_probes:
            return
        # start once a few cases run, spread over the load
        await asyncio.sleep(5)
        under = 2 * MIB - 64 * 1024  # ~1.94 MiB: under the 2 MiB blob limit
        over = int(2.3 * MIB)
        just_under = 2 * MIB - 1200  # the event fits under 2 MiB, the case carrying it does not
        await asyncio.gather(
            self.probe_big_simplified("big-sig-invalid", "signal", under, "appointment_outcome"),
            self.probe_big_simplified("big-upd-invalid", "update", under, "appointment_outcome"),
            self.probe_big_simplified("big-sig-over", "signal", over, "appointment_outcome"),
            self.probe_big_simplified("big-upd-over", "update", over, "appointment_outcome"),
            self.probe_big_manual("big-sig-valid-1.9MiB", "signal", under),
            self.probe_big_manual("big-upd-valid-1.9MiB", "update", under),
            self.probe_big_manual("big-sig-valid-edge", "signal", just_under),
            self.probe_big_manual("big-upd-valid-edge", "update", just_under),
            self.probe_flood(self.args.flood, self.args.flood_name_len),
        )

    # -- cases ----------------------------------------------------------------------------

    def case_input(self, system_id: str, path: str, variant: str) -> dict[str, Any]:
        long = 3600
        policy: dict[str, Any] = {
            "contact_hours": {"start": "00:00", "end": "00:00"}, "holidays": [],
            "remote_fix_timeout": 2, "text_attempts": 3, "text_interval": long,
            "wait_after_last_text": long, "call_attempts": 0,
            "appointment_reminder_before": 2, "outcome_reminder_after": long,
            "performance_validation_period": long, "failed_appointments_to_escalate": 2,
            "equipment_eta_check_interval": long, "partner_decision_business_days": 3,
            "manual_reminder_interval": long,
        }
        if variant in ("a2_fix_answered", "a3_health_check", "a4_asset_update",
                       "a5_resolved_remotely", "b2_nc_unhealthy_repair", "b4_partner_accept_settle",
                       "b6_ops_escalate_deny", "d1_problem", "probe"):
            policy["remote_fix_timeout"] = long
        if variant == "a3_health_check":
            policy["performance_validation_period"] = 2
        if variant == "c1_texts":
            policy.update(text_attempts=2, text_interval=1, wait_after_last_text=1)
        if variant == "a6_hazard_phone":
            policy.update(call_attempts=1)
        markets = [("CA", "94103"), ("TX", "78701"), ("NJ", "07030"), ("AZ", "85004"),
                   ("CO", "80202"), ("NY", "10001")]
        market, zip_code = markets[self.rng.randrange(len(markets))]
        data: dict[str, Any] = {
            "system_id": system_id, "case_reason": "system_failure", "source": "sunrun_monitoring",
            "installer": "sunrun", "installer_accepting_service_work": True,
            "agreement_type": "ppa", "acquisition_channel": "retail", "zip": zip_code,
            "market": market,
            "homeowner": {"name": "Chaos Tester", "phone": "+14155550100",
                          "email": "chaos@example.com", "address": "1 Main St"},
            "description": f"chaos case {variant}", "policy": policy,
        }
        if variant == "a6_hazard_phone":
            data["hazard"] = {"burning_smell": True}
            data["homeowner"]["time_zone"] = "UTC"
        if variant in ("b4_partner_accept_settle", "b5_partner_decline_settle_decline_deny"):
            data["installer"] = "partner"
        if variant == "d4_manual_findings":
            data["installer_accepting_service_work"] = False
        return data

    def make_cases(self) -> None:
        variants = [
            ("happy", "a1_fix_timeout", 12), ("happy", "a2_fix_answered", 8),
            ("happy", "a3_health_check", 6), ("happy", "a4_asset_update", 6),
            ("happy", "a5_resolved_remotely", 4), ("happy", "a6_hazard_phone", 4),
            ("manual", "b1_nc_nc_deny", 5), ("manual", "b2_nc_unhealthy_repair", 5),
            ("manual", "b3_unhealthy_nc_rr", 4), ("manual", "b4_partner_accept_settle", 4),
            ("manual", "b5_partner_decline_settle_decline_deny", 4),
            ("manual", "b6_ops_escalate_deny", 3),
            ("unreachable", "c1_texts", 12), ("unreachable", "c2_opt_out", 5),
            ("cancel", "d1_problem", 5), ("cancel", "d2_texts", 5), ("cancel", "d3_appointment", 4),
            ("cancel", "d4_manual_findings", 4),
        ]
        weekday = now_utc().weekday() < 5 and (now_utc() + timedelta(hours=2)).weekday() < 5
        if not weekday:
            variants = [v for v in variants if v[1] != "a6_hazard_phone"]
            self.mark("weekend (UTC): the hazardous phone variant is skipped (calls wait for a "
                      "business day)")
        total = sum(w for _, _, w in variants)
        plan: list[tuple[str, str]] = []
        for p, v, w in variants:
            plan += [(p, v)] * max(1, round(self.args.cases * w / total))
        self.rng.shuffle(plan)
        plan = plan[: self.args.cases]
        outcomes = {
            "a1_fix_timeout": "resolved", "a2_fix_answered": "resolved",
            "a3_health_check": "resolved", "a4_asset_update": "resolved",
            "a5_resolved_remotely": "resolved_remotely", "a6_hazard_phone": "resolved",
            "b1_nc_nc_deny": "denied", "b2_nc_unhealthy_repair": "repaired",
            "b3_unhealthy_nc_rr": "repaired", "b4_partner_accept_settle": "settled",
            "b5_partner_decline_settle_decline_deny": "denied", "b6_ops_escalate_deny": "denied",
            "c1_texts": "unreachable_pg_void", "c2_opt_out": "unreachable_pg_void",
            "d1_problem": "cancelled", "d2_texts": "cancelled", "d3_appointment": "cancelled",
            "d4_manual_findings": "cancelled",
        }
        for i, (p, v) in enumerate(plan):
            sid = f"CH{self.tag}-{i:04d}"
            c = Case(idx=i, system_id=sid, path=p, variant=v,
                     mode="update" if self.rng.random() < 0.5 else "signal",
                     fuzz=(i % self.args.fuzz_every == 0) and v != "a6_hazard_phone",
                     input=self.case_input(sid, p, v), expected_outcome=outcomes[v],
                     expect_manual=p == "manual" or v == "d4_manual_findings")
            self.cases.append(c)

    # -- main -----------------------------------------------------------------------------

    async def main(self) -> dict[str, Any]:
        a = self.args
        self.make_cases()
        self.mark(f"work dir {self.dir}; {len(self.cases)} cases "
                  f"({Counter(c.path for c in self.cases)}), "
                  f"{sum(c.fuzz for c in self.cases)} fuzz targets")
        await self.start_stack()
        wd = asyncio.create_task(self.watchdog())
        self.deadline = asyncio.get_running_loop().time() + a.max_load_s
        sem = asyncio.Semaphore(a.concurrency)
        kills = asyncio.create_task(self.chaos_kills())
        restart = asyncio.create_task(self.server_restart()) if a.server_restart else None
        probes = asyncio.create_task(self.probes_task())
        fuzzers = [asyncio.create_task(self.fuzz_case(c)) for c in self.cases if c.fuzz]
        cross = asyncio.create_task(self.cross.run())
        t_load = time.monotonic()
        drivers = []
        for c in self.cases:
            drivers.append(asyncio.create_task(self.run_case(c, sem)))
            await asyncio.sleep(1.0 / a.open_rate)
        progress = asyncio.create_task(self.progress())
        await asyncio.gather(*drivers)
        self.drivers_done = True
        self.mark(f"all drivers done in {time.monotonic() - t_load:.0f}s: "
                  f"{sum(c.driver_ok for c in self.cases)} ok, "
                  f"{sum(not c.driver_ok for c in self.cases)} failed")
        await asyncio.gather(*fuzzers)
        await cross
        await probes
        self.load_done.set()
        if restart is not None:
            if not restart.done():
                self.mark("!! the server restart had not happened by the end of the load; doing it now")
            await restart
        await kills
        progress.cancel()
        # both workers up for verification
        for w in self.workers:
            if not w.alive():
                w.start()
        await asyncio.sleep(3)
        self.mark(f"chaos done: {self.kills} worker kills ({self.kills_during_load} while case drivers "
                  f"ran), {self.server_restarts} server restart(s); verifying")
        load_s = time.monotonic() - t_load
        report = await self.verify()
        report["wall_time_load_s"] = round(load_s, 1)
        wd.cancel()
        await self.stop_stack()
        report["wall_time_total_s"] = round(time.monotonic() - self.t0, 1)
        report["worker_logs"] = self.scan_logs()
        return report

    async def progress(self) -> None:
        while True:
            await asyncio.sleep(20)
            done = sum(c.done.is_set() for c in self.cases)
            ok = sum(c.driver_ok for c in self.cases)
            self.mark(f"progress: {sum(c.opened.is_set() for c in self.cases)} opened, {done} "
                      f"drivers done ({ok} ok), kills {self.kills}, fuzz sent "
                      f"{self.fuzz_running_sent}, load {os.getloadavg()[0]:.1f}")

    # -- verification -----------------------------------------------------------------------

    async def scan_chain(self, case_id: str, first_run_id: str | None) -> dict[str, Any]:
        assert self.client is not None
        out: dict[str, Any] = {"runs": [], "wft_failed": [], "counts": Counter(),
                               "activity_retries": 0, "final": None, "closed_as": None}
        run_id = first_run_id
        seen = 0
        while run_id and seen < 5:
            seen += 1
            h = self.client.get_workflow_handle(case_id, run_id=run_id)
            hist = await self.call("history", lambda h=h: h.fetch_history())
            evs = hist.events
            wtype = evs[0].workflow_execution_started_event_attributes.workflow_type.name
            out["runs"].append({"run_id": run_id, "type": wtype, "events": len(evs)})
            out.setdefault("histories", []).append(hist)
            for i, e in enumerate(evs):
                out["counts"][EventType.Name(e.event_type).replace("EVENT_TYPE_", "")] += 1
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    at = e.workflow_task_failed_event_attributes
                    near = [x.workflow_execution_signaled_event_attributes.signal_name[:40]
                            for x in evs[max(0, i - 3): i + 3]
                            if x.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
                    near_fz = any(
                        b'"fz-' in x.workflow_execution_signaled_event_attributes.input.payloads[0].data[:40]
                        for x in evs[max(0, i - 3): i + 3]
                        if x.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
                        and x.workflow_execution_signaled_event_attributes.input.payloads)
                    out["wft_failed"].append((WorkflowTaskFailedCause.Name(at.cause)
                                              .replace("WORKFLOW_TASK_FAILED_CAUSE_", ""),
                                              short(at.failure.message, 300)
                                              + (f" [signals next to it: {near}"
                                                 f"{', a fuzz signal among them' if near_fz else ''}]"
                                                 if near else " [no signal next to it]"),
                                              wtype, e.event_id))
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    if e.activity_task_started_event_attributes.attempt > 1:
                        out["activity_retries"] += 1
            last = evs[-1]
            run_id = None
            if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                run_id = last.workflow_execution_continued_as_new_event_attributes \
                    .new_execution_run_id
            elif last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
                out["closed_as"] = "COMPLETED"
                payloads = last.workflow_execution_completed_event_attributes.result.payloads
                try:
                    vals = await self.client.data_converter.decode(list(payloads), [OmCase])
                    out["final"] = vals[0]
                except Exception as e:  # noqa: BLE001
                    out["decode_error"] = short(err_text(e), 200)
            elif last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                out["closed_as"] = "TERMINATED"
                out["close_reason"] = short(last.workflow_execution_terminated_event_attributes.reason, 300)
            elif last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                out["closed_as"] = "FAILED"
                out["close_reason"] = short(last.workflow_execution_failed_event_attributes.failure.message, 300)
            elif last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
                out["closed_as"] = "TIMED_OUT"
            else:
                out["closed_as"] = None  # running
                out["last_run_id"] = h.run_id
        return out

    async def stuck_details(self, c: Case) -> str:
        assert self.client is not None
        parts = []
        try:
            st = await asyncio.wait_for(case_status(self.client, c.case_id), 20)
            parts.append(f"{st.process} stage={st.stage} waiting_for={st.waiting_for!r} "
                         f"next_deadline={st.next_deadline} pending={[p.name for p in st.pending]}")
        except Exception as e:  # noqa: BLE001
            parts.append(f"status query failed: {short(err_text(e), 200)}")
        try:
            d = await self.client.get_workflow_handle(c.case_id).describe()
            raw = d.raw_description
            for pa in raw.pending_activities:
                parts.append(f"pending activity {pa.activity_type.name} attempt={pa.attempt} "
                             f"state={pa.state} last_failure={short(pa.last_failure.message, 160)!r}")
            if raw.pending_workflow_task.attempt:
                parts.append(f"pending workflow task attempt={raw.pending_workflow_task.attempt}")
        except Exception as e:  # noqa: BLE001
            parts.append(f"describe failed: {short(err_text(e), 200)}")
        return "; ".join(parts)

    async def verify(self) -> dict[str, Any]:
        assert self.client is not None
        sem = asyncio.Semaphore(12)
        chains: dict[str, dict[str, Any]] = {}

        async def scan(c: Case) -> None:
            async with sem:
                try:
                    chains[c.case_id] = await self.scan_chain(c.case_id, c.first_run_id)
                except Exception as e:  # noqa: BLE001
                    chains[c.case_id] = {"error": short(err_text(e), 300), "runs": [],
                                         "wft_failed": [], "counts": Counter(),
                                         "activity_retries": 0, "final": None,
                                         "closed_as": None}

        await asyncio.gather(*(scan(c) for c in self.cases))
        # every committed history must replay with the project's own workflows
        replayer = Replayer(workflows=list(WORKFLOWS), workflow_runner=workflow_runner("checked"),
                            data_converter=DATA_CONVERTER)
        replay_fail: list[str] = []
        replayed = 0
        t_rep = time.monotonic()
        for c in self.cases:
            ch = chains.get(c.case_id, {})
            for i, hist in enumerate(ch.get("histories", [])):
                replayed += 1
                try:
                    res = await replayer.replay_workflow(hist, raise_on_replay_failure=False)
                    failure = res.replay_failure
                except Exception as e:  # noqa: BLE001
                    failure = e
                if failure is not None:
                    msg = str(failure)
                    m = re.search(r"Nondeterminism error: ([^\"]+)", msg)
                    last = "running" if i == len(ch["histories"]) - 1 and ch.get("closed_as") is None \
                        else "closed"
                    replay_fail.append(f"{c.case_id} run {ch['runs'][i]['run_id'][:8]} "
                                       f"({ch['runs'][i]['type']}, {last}): "
                                       f"{short(m.group(1) if m else msg, 160)}")
            ch.pop("histories", None)
        self.mark(f"replayed {replayed} histories in {time.monotonic() - t_rep:.0f}s: "
                  f"{len(replay_fail)} do not replay")
        cross_report = await self.cross.verify(replayer)
        self.mark(f"cross-case paths: {cross_report['driven']} of {cross_report['paths']} driven, "
                  f"{len(cross_report['wrong'])} wrong, {cross_report['replayed']} histories "
                  f"replayed, {len(cross_report['replay_failures'])} do not replay")
        # store
        con = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)
        rows = con.execute("SELECT key, record_id, case_id, kind, payload, created_at, delivered_at"
                           " FROM records").fetchall()
        con.close()
        recs: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for r in rows:
            recs[r[2]].append(r)
        outcome_counts: Counter[str] = Counter()
        wrong_outcome: list[str] = []
        lost: list[str] = []
        stuck: list[str] = []
        fx_missing: Counter[str] = Counter()
        fx_extra: Counter[str] = Counter()
        fx_cases_bad: list[str] = []
        wft_failed_total = 0
        wft_by_cause: Counter[str] = Counter()
        wft_samples: list[str] = []
        event_totals: Counter[str] = Counter()
        activity_retries = 0
        per_path: dict[str, Counter[str]] = defaultdict(Counter)
        driver_errors: Counter[str] = Counter()
        fuzz_sig = Counter()
        fuzz_sig_reason: Counter[str] = Counter()
        fuzz_sig_missing: list[str] = []
        fuzz_cases_finished = Counter()
        driver_rejected_recorded: list[str] = []
        durations: list[float] = []
        for c in self.cases:
            ch = chains.get(c.case_id, {})
            for cause, msg, wtype, evid in ch.get("wft_failed", []):
                wft_failed_total += 1
                wft_by_cause[cause] += 1
                if len(wft_samples) < 12:
                    wft_samples.append(f"{c.case_id} ({wtype}, event {evid}) {cause}: {msg}")
            event_totals.update(ch.get("counts", Counter()))
            activity_retries += ch.get("activity_retries", 0)
            final: OmCase | None = ch.get("final")
            closed_as = ch.get("closed_as")
            if c.driver_error:
                driver_errors[short(c.driver_error, 110)] += 1
            if c.first_run_id is None:
                lost.append(f"{c.case_id}: never opened ({c.driver_error})")
                per_path[c.path]["lost"] += 1
                continue
            if closed_as in ("TERMINATED", "FAILED", "TIMED_OUT"):
                lost.append(f"{c.case_id} [{c.variant}]: {closed_as}: {ch.get('close_reason')}")
                per_path[c.path]["lost"] += 1
                continue
            if closed_as is None:
                detail = await self.stuck_details(c)
                stuck.append(f"{c.case_id} [{c.variant}, driver: {c.driver_error or 'ok'}]: {detail}")
                per_path[c.path]["stuck"] += 1
                continue
            outcome = final.outcome if final else None
            outcome_counts[str(outcome)] += 1
            per_path[c.path][f"outcome {outcome}"] += 1
            if outcome != c.expected_outcome:
                wrong_outcome.append(f"{c.case_id} [{c.variant}]: {outcome} != expected "
                                     f"{c.expected_outcome} (driver: {c.driver_error or 'ok'})")
            if c.driver_ok:
                durations.append(c.t_done - c.t_open)
            # side effects
            suffixes: Counter[str] = Counter()
            instances = set()
            undelivered = 0
            for r in recs.get(c.case_id, []):
                parts = r[0].split("/", 2)
                instances.add(parts[1])
                suffixes[parts[2]] += 1
                if r[6] is None:
                    undelivered += 1
            missing = c.expected_keys - suffixes
            extra = suffixes - c.expected_keys - c.maybe_keys
            if c.project_keys:
                project_id = getattr(final, "project_id", None) or ""
                project: Counter[str] = Counter(
                    "rr:" + r[0].split("/", 2)[2] for r in recs.get(project_id, []))
                wanted = Counter({"rr:" + k: n for k, n in c.project_keys.items()})
                missing += wanted - project
                extra += project - wanted
            if (missing or extra or len(instances) != 1 or undelivered) and c.driver_ok:
                fx_missing.update(missing)
                fx_extra.update(extra)
                fx_cases_bad.append(f"{c.case_id} [{c.variant}]: missing={dict(missing)} "
                                    f"extra={dict(extra)} instances={len(instances)} "
                                    f"undelivered={undelivered}")
            # rejected events vs fuzz
            if final is not None:
                rej_keys: Counter[str] = Counter()
                reasons: dict[str, list[str]] = defaultdict(list)
                for rj in final.rejected_events:
                    k = rj.event_id[:200] if rj.event_id else "<none>"
                    if k.startswith(c.case_id + ":") and c.fuzz_dup_ids[k] > 0:
                        c.fuzz_dup_ids[k] -= 1
                        fuzz_sig["duplicate event_id signals recorded as rejected"] += 1
                        self.sample("duplicate event_id signal recorded as rejected",
                                    f"{c.case_id}: {rj.name} {rj.event_id}: {short(rj.reason, 200)}")
                        continue
                    if k.startswith(c.case_id + ":"):
                        driver_rejected_recorded.append(f"{c.case_id}: {rj.name} {rj.event_id}: "
                                                        f"{short(rj.reason, 200)}")
                        continue
                    rej_keys[k] += 1
                    reasons[k].append(rj.reason)
                if c.fuzz:
                    exp = c.fuzz_sig_expected
                    recorded = sum(min(rej_keys[k], n) for k, n in exp.items())
                    missing_n = sum(exp.values()) - recorded
                    extra_n = sum(rej_keys.values()) - recorded
                    fuzz_sig["expected rejections"] += sum(exp.values())
                    fuzz_sig["recorded in rejected_events"] += recorded
                    fuzz_sig["expected but not recorded"] += missing_n
                    fuzz_sig["recorded beyond expected"] += extra_n
                    fuzz_sig["of which ambiguous (retried) sends"] += c.fuzz_sig_ambiguous
                    if missing_n and len(fuzz_sig_missing) < 6:
                        fuzz_sig_missing.append(f"{c.case_id}: missing {dict(exp - rej_keys)}")
                    for item in c.fuzz_sig_items:
                        if item["expect"] != "reject":
                            continue
                        rs = reasons.get(item["key"])
                        if rs:
                            msg = rs.pop(0)
                            q = self.classify(msg, item["tokens"])
                            fuzz_sig_reason[f"reason {q}"] += 1
                            if q == "vague":
                                self.sample(f"vague signal rejection reason [{item['cat']}]",
                                            f"{c.case_id}: {short(msg, 240)}", 3)
                            else:
                                self.sample(f"clear signal rejection reason [{item['cat']}]",
                                            f"{c.case_id}: {short(msg, 200)}", 1)
        for c in self.cases:
            if not c.fuzz:
                continue
            ch = chains.get(c.case_id, {})
            fin = ch.get("final")
            good = ch.get("closed_as") == "COMPLETED" and fin is not None \
                and fin.outcome == c.expected_outcome
            fuzz_cases_finished["finished with the expected outcome" if good
                                else "did not finish as expected"] += 1
        # sink
        store_keys = {r[0] for r in rows}
        with self.sink.lock:
            by_key = Counter(self.sink.by_key)
            sink_report = {
                "posts": self.sink.posts, "failed_on_purpose": self.sink.failed,
                "unique_keys": len(by_key),
                "keys_delivered_more_than_once": sum(1 for n in by_key.values() if n > 1),
                "duplicate_deliveries": sum(n - 1 for n in by_key.values() if n > 1),
                "posts_without_idempotency_key": self.sink.no_key,
                "by_kind": dict(self.sink.by_kind),
                "store_records": len(rows),
                "store_keys_never_delivered": len(store_keys - set(by_key)),
                "sink_keys_not_in_store": len(set(by_key) - store_keys),
                "store_rows_undelivered": sum(1 for r in rows if r[6] is None),
                "duplicate_examples": [f"{k} x{n}" for k, n in by_key.most_common(5) if n > 1],
            }
        durations.sort()

        def pct(p: float) -> float | None:
            return round(durations[min(len(durations) - 1, int(p * len(durations)))], 1) \
                if durations else None

        probe_scans = {}
        for p in self.probes:
            probe_scans[p["probe"]] = p
        report = {
            "work_dir": str(self.dir),
            "cases_started": sum(1 for c in self.cases if c.first_run_id),
            "cases_planned": len(self.cases),
            "per_path": {k: dict(v) for k, v in per_path.items()},
            "outcomes": dict(outcome_counts),
            "wrong_outcome": wrong_outcome,
            "lost": lost,
            "stuck": stuck,
            "driver_errors": dict(driver_errors),
            "driver_events_recorded_as_rejected": driver_rejected_recorded[:20],
            "driver_events_recorded_as_rejected_count": len(driver_rejected_recorded),
            "case_duration_s": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99),
                                "max": durations[-1] if durations else None},
            "worker_kills": self.kills, "worker_kills_while_case_drivers_ran": self.kills_during_load,
            "server_restarts": self.server_restarts,
            "unexpected_worker_exits": self.unexpected_exits,
            "side_effects": {
                "store_records": len(rows),
                "cases_with_unexpected_records": len(fx_cases_bad),
                "missing_by_key": dict(fx_missing), "extra_by_key": dict(fx_extra),
                "examples": fx_cases_bad[:10],
            },
            "sink": sink_report,
            "histories": {
                "runs_replayed": replayed,
                "runs_that_do_not_replay": len(replay_fail),
                "not_replayable": replay_fail,
                "workflow_task_failed": wft_failed_total, "by_cause": dict(wft_by_cause),
                "samples": wft_samples,
                "workflow_task_timed_out": event_totals.get("WORKFLOW_TASK_TIMED_OUT", 0),
                "activity_task_timed_out": event_totals.get("ACTIVITY_TASK_TIMED_OUT", 0),
                "activity_starts_with_attempt_gt_1": activity_retries,
                "continued_as_new": event_totals.get("WORKFLOW_EXECUTION_CONTINUED_AS_NEW", 0),
                "signals": event_totals.get("WORKFLOW_EXECUTION_SIGNALED", 0),
                "updates_accepted": event_totals.get("WORKFLOW_EXECUTION_UPDATE_ACCEPTED", 0),
                "events_total": sum(event_totals.values()),
            },
            "fuzz": {
                "running_case_events_sent": self.fuzz_running_sent,
                "update": dict(self.fuzz_update),
                "update_by_category": {k: dict(v) for k, v in sorted(self.fuzz_update_by_cat.items())},
                "signal": dict(self.fuzz_signal),
                "signal_rejections": dict(fuzz_sig),
                "signal_rejection_reasons": dict(fuzz_sig_reason),
                "signal_missing_examples": fuzz_sig_missing,
                "closed_case_events": dict(self.fuzz_closed),
                "fuzzed_cases": dict(fuzz_cases_finished),
            },
            "probes": probe_scans,
            "cross_cases": cross_report,
            "driver": dict(self.stats["driver"]),
            "load": dict(self.stats["load"]),
            "retries": dict(self.stats["retries"]),
            "transient_errors_top": dict(self.stats["transient_errors"].most_common(15)),
            "samples": dict(self.samples),
            "timeline": self.timeline,
        }
        return report

    def scan_logs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        levels: Counter[str] = Counter()
        msgs: Counter[str] = Counter()
        non_json = 0
        tracebacks = 0
        core: Counter[str] = Counter()
        nondet: list[str] = []
        for w in self.workers:
            for line in w.log_path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        d = json.loads(line)
                    except ValueError:
                        non_json += 1
                        continue
                    lvl = d.get("level", "?")
                    levels[lvl] += 1
                    if lvl in ("warning", "error", "critical"):
                        ev = str(d.get("event", ""))
                        msgs[f"{lvl}: {short(ev, 120)}"] += 1
                else:
                    if line.strip() and not line.startswith("====="):
                        non_json += 1
                        if "Traceback" in line:
                            tracebacks += 1
                        clean = re.sub(r"\x1b\[[0-9;]*m", "", line)
                        m = re.search(r"\b(WARN|ERROR)\b\s+(\S+?):\s+(.*)", clean)
                        if m:
                            text = re.sub(r"run_id=\S+|\d{4,}|[0-9a-f]{8}-[0-9a-f-]{27}", "#",
                                          m.group(3))
                            core[f"{m.group(1)} {m.group(2)}: {short(text, 150)}"] += 1
                            if "ondetermin" in clean and len(nondet) < 8:
                                nondet.append(f"{w.name}: {short(clean, 700)}")
        out["levels"] = dict(levels)
        out["warning_error_messages"] = dict(msgs.most_common(15))
        out["core_warn_error_lines"] = dict(core.most_common(20))
        out["nondeterminism_lines"] = nondet
        out["non_json_lines"] = non_json
        out["tracebacks"] = tracebacks
        srv = self.server.log_path.read_text(errors="replace").splitlines()
        out["server_log_lines"] = len(srv)
        return out


def print_report(r: dict[str, Any]) -> None:
    print("\n================ CHAOS REPORT ================")
    print(json.dumps({k: v for k, v in r.items() if k not in ("timeline", "samples")},
                     indent=1, default=str))
    print("---- samples ----")
    for k, v in r.get("samples", {}).items():
        print(f"[{k}]")
        for s in v:
            print("   ", s)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", default=str(PROJECT), help="the project checkout (with .venv)")
    p.add_argument("--workdir", help="where the db, store, logs and report go "
                                     "(default $TMPDIR/chaos-runs/<time>-<tag>)")
    p.add_argument("--cases", type=int, default=400)
    p.add_argument("--open-rate", type=float, default=3.0, help="cases opened per second")
    p.add_argument("--concurrency", type=int, default=200, help="cases driven at once")
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--port", type=int, default=7300)
    p.add_argument("--ui-port", type=int, default=8300)
    p.add_argument("--min-kills", type=int, default=20)
    p.add_argument("--kill-gap-min", type=float, default=2.0)
    p.add_argument("--kill-gap-max", type=float, default=10.0)
    p.add_argument("--no-server-restart", dest="server_restart", action="store_false")
    p.add_argument("--server-kill-signal", choices=["TERM", "KILL"], default="TERM")
    p.add_argument("--server-down-s", type=float, default=2.0)
    p.add_argument("--fuzz", type=int, default=2100, help="hostile events to running cases")
    p.add_argument("--fuzz-every", type=int, default=2, help="every k-th case is a fuzz target")
    p.add_argument("--fuzz-per-case-cap", type=int, default=16)
    p.add_argument("--fuzz-gap-min", type=float, default=0.1)
    p.add_argument("--fuzz-gap-max", type=float, default=0.7)
    p.add_argument("--flood", type=int, default=1200, help="signals in the flood probe")
    p.add_argument("--flood-name-len", type=int, default=950)
    p.add_argument("--no-probes", action="store_true")
    p.add_argument("--cross", type=int, default=3,
                   help="runs of each cross-case path (claim to R&R, R&R damage to claim to the "
                        "same project, hazardous inquiry to the O&M case)")
    p.add_argument("--step-timeout", type=float, default=300.0)
    p.add_argument("--max-load-s", type=float, default=480.0,
                   help="drivers give up after this many seconds of load")
    p.add_argument("--retry-budget", type=float, default=240.0,
                   help="how long one call is retried on connection errors")
    p.add_argument("--poll-max", type=float, default=2.0)
    p.add_argument("--sink-fail-rate", type=float, default=0.0)
    return p.parse_args()


def main() -> None:
    args = parse_args()
    run = Run(args)
    report: dict[str, Any] = {}
    try:
        report = asyncio.run(run.main())
    except KeyboardInterrupt:
        pass
    finally:
        for w in run.workers:
            if w.alive():
                w.send(signal.SIGKILL)
        if run.server.alive():
            run.server.send(signal.SIGTERM)
            try:
                assert run.server.p is not None
                run.server.p.wait(20)
            except subprocess.TimeoutExpired:
                run.server.send(signal.SIGKILL)
    if report:
        (run.dir / "report.json").write_text(json.dumps(report, indent=1, default=str))
        print_report(report)
        print(f"\nreport: {run.dir / 'report.json'}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
