"""Lifecycle benchmark: the O&M happy path against a bare workflow of the same shape, both on
one dev server in one run (`python -m bench.lifecycle`; results: docs/benchmarks.md).

The bare arm (`BareCaseWorkflow`) does what the happy path does at the Temporal level and
nothing else: 7 activities (remote fix, FS case, text, reminder text, health check, asset
update, CRM close), 6 timers (3 of them fired), 3 Updates and 1 Signal, with trivial
activities and no search attributes, details or state. The project arm runs the real
`OmSimplifiedWorkflow` with the real activities (SQLite store), driven by the same client calls,
under a policy compressed to seconds. Each arm runs in its own worker process; the script
measures per arm:

- the wall time of a case, from open to closed (median and p90 of `--cases` cases, driven
  `--concurrency` at a time);
- the CPU seconds the worker process and the dev server spent per case (/proc);
- the worker's peak RSS while the cases run (sampled every 0.2 s from /proc);
- a burst: `--burst` cases opened at once: how fast they are accepted (openings per second),
  the time until all reached their first stage (project: `problem_identified` in the search
  attributes; bare: its first wait), the worker's and the server's CPU per case, and the
  latency of an Update (an operator's note) to a case opened before the burst, sent every
  0.25 s while the burst lasts;
- idle: the burst's cases left open for `--idle-s` seconds: the worker's RSS with them all
  cached or evicted, and the CPU the worker and the server spend on idle cases.

With `--featured-arm`, a third arm (`FeaturedCaseWorkflow`) runs the project's happy-path
history at the Temporal level: the same workflow tasks, activities, timers, Updates, patches
and upserts in the same order, with summaries and payloads of the same sizes, but no project
code (no domain rules, pydantic or sandboxed project modules). bare -> featured is what the
operator-facing features cost; featured -> project is what the project's code costs.

Both arms alternate over `--rounds` rounds so that server warm-up and machine noise fall on
both."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus

from bench.bare_workflow import (
    BareCaseWorkflow,
    FeaturedCaseWorkflow,
    bare_effect,
    featured_effect,
    filler,
)
from infra.wire import DATA_CONVERTER
from workflows.search_attributes import TYPES

ROOT = Path(__file__).resolve().parents[1]
SEARCH_ATTRIBUTES = [f"{name}={kind}" for name, kind in TYPES.items()]
SECOND = timedelta(seconds=1)


# ---- measuring ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (and its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """A process's resident set (VmRSS) in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def payload_bytes(message: object) -> int:
    """The bytes of every Payload inside a proto message (data and metadata): what the SDK's
    payload visitor and the data converter touch."""
    if isinstance(message, Payload):
        return message.ByteSize()
    total = 0
    for desc, value in message.ListFields():  # type: ignore[attr-defined]
        if desc.message_type is None:
            continue
        if desc.message_type.GetOptions().map_entry:
            total += sum(payload_bytes(v) for v in value.values() if hasattr(v, "ListFields"))
        elif hasattr(value, "ListFields"):
            total += payload_bytes(value)
        else:
            total += sum(payload_bytes(v) for v in value)
    return total


def history_shape(events: list[HistoryEvent]) -> dict[str, list[int]]:
    """Per event type: how many, their bytes, and the bytes of their payloads."""
    shape: dict[str, list[int]] = {}
    for event in events:
        row = shape.setdefault(EventType.Name(event.event_type).removeprefix("EVENT_TYPE_"),
                               [0, 0, 0])
        row[0] += 1
        row[1] += event.ByteSize()
        row[2] += payload_bytes(event)
    return dict(sorted(shape.items(), key=lambda kv: -kv[1][1]))


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


@dataclass
class Arm:
    """One arm's figures."""

    name: str
    walls: list[float] = field(default_factory=list)
    worker_cpu: float = 0.0
    server_cpu: float = 0.0
    cases: int = 0
    burst_s: list[float] = field(default_factory=list)
    start_rss_mib: float = 0.0
    peak_rss_mib: float = 0.0
    burst_accepted_per_s: list[float] = field(default_factory=list)
    burst_worker_cpu_ms: list[float] = field(default_factory=list)
    burst_server_cpu_ms: list[float] = field(default_factory=list)
    update_latency_s: list[float] = field(default_factory=list)
    idle_rss_mib: list[float] = field(default_factory=list)
    idle_worker_cpu_pct: list[float] = field(default_factory=list)
    idle_server_cpu_pct: list[float] = field(default_factory=list)
    # History events and bytes of every run of the case (sampled after the CPU is measured).
    history_events: list[int] = field(default_factory=list)
    history_bytes: list[int] = field(default_factory=list)
    # Per event type of one case's history: [events, bytes, payload bytes].
    history_shape: dict[str, list[int]] = field(default_factory=dict)

    def row(self) -> dict[str, float]:
        """Median / p90 wall, CPU per case, burst time."""
        cases = max(self.cases, 1)
        return {
            "wall_median_s": _median(self.walls),
            "wall_p90_s": _pct(self.walls, 0.9),
            "worker_cpu_ms_per_case": 1000 * self.worker_cpu / cases,
            "server_cpu_ms_per_case": 1000 * self.server_cpu / cases,
            "worker_start_rss_mib": self.start_rss_mib,
            "worker_peak_rss_mib": self.peak_rss_mib,
            "burst_accepted_per_s": _median(self.burst_accepted_per_s),
            "burst_first_stage_s": _median(self.burst_s),
            "burst_worker_cpu_ms_per_case": _median(self.burst_worker_cpu_ms),
            "burst_server_cpu_ms_per_case": _median(self.burst_server_cpu_ms),
            "update_p50_under_burst_s": _median(self.update_latency_s),
            "update_p90_under_burst_s": _pct(self.update_latency_s, 0.9),
            "idle_worker_rss_mib": _median(self.idle_rss_mib),
            "idle_worker_cpu_pct": _median(self.idle_worker_cpu_pct),
            "idle_server_cpu_pct": _median(self.idle_server_cpu_pct),
            "history_events_per_case": _median([float(e) for e in self.history_events]),
            "history_kb_per_case": _median([float(b) for b in self.history_bytes]) / 1024,
        }


class Bench:
    """The dev server, one worker process per arm, and the drivers."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.dir = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
        self.port = args.port
        self.procs: list[subprocess.Popen[bytes]] = []
        self.client: Client | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, argv: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,  # noqa: S603
                                stderr=(self.dir / log).open("wb"))
        self.procs.append(proc)
        return proc

    async def start(self) -> None:
        """The dev server and the two workers."""
        sa = [a for s in SEARCH_ATTRIBUTES for a in ("--search-attribute", s)]
        self.server = self._spawn(
            [str(ROOT / ".venv/bin/temporal"), "server", "start-dev", "--ip", "127.0.0.1",
             "--port", str(self.port), "--headless", "--db-filename",
             str(self.dir / "temporal.db"), "--log-level", "error", *sa],
            dict(os.environ), "server.log")
        for _ in range(120):
            try:
                self.client = await Client.connect(f"127.0.0.1:{self.port}",
                                                   data_converter=DATA_CONVERTER)
                await self.client.count_workflows()
                break
            except Exception:  # noqa: BLE001 - not up yet
                await asyncio.sleep(0.5)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # the sandbox re-imports: keep bytecode
        env.update({"TEMPORAL_ADDRESS": f"127.0.0.1:{self.port}",
                    "FIELD_SERVICE_STORE": str(self.dir / "records.db"),
                    "FIELD_SERVICE_LOG_FORMAT": "json", "FIELD_SERVICE_LOG_LEVEL": "WARNING"})
        py = str(ROOT / ".venv/bin/python")
        self.workers["project"] = self._spawn(
            [py, "-m", "workers"], {**env, "FIELD_SERVICE_TASK_QUEUE": "bench-project"},
            "worker-project.log")
        if self.args.checked_arm:
            # The project as it ran before issue 21: the workflow code imported into the
            # sandbox of every new run.
            self.workers["checked"] = self._spawn(
                [py, "-m", "workers"], {**env, "FIELD_SERVICE_TASK_QUEUE": "bench-checked",
                                        "FIELD_SERVICE_WORKFLOW_SANDBOX": "checked"},
                "worker-checked.log")
        if self.args.unsandboxed_arm:
            # The project's worker without the SDK's sandbox (FIELD_SERVICE_WORKFLOW_SANDBOX).
            self.workers["unsandboxed"] = self._spawn(
                [py, "-m", "workers"], {**env, "FIELD_SERVICE_TASK_QUEUE": "bench-unsandboxed",
                                        "FIELD_SERVICE_WORKFLOW_SANDBOX": "off"},
                "worker-unsandboxed.log")
        self.workers["bare"] = self._spawn(
            [py, "-m", "bench.lifecycle", "--bare-worker", "--port", str(self.port)],
            {**env, "FIELD_SERVICE_TASK_QUEUE": "bench-bare"}, "worker-bare.log")
        if self.args.featured_arm:
            self.workers["featured"] = self._spawn(
                [py, "-m", "bench.lifecycle", "--bare-worker", "--featured", "--port",
                 str(self.port)], env, "worker-featured.log")
        await asyncio.sleep(4)

    def stop(self) -> None:
        """Everything this run started."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def _profile(self, arm: str, pid: int, phase: str) -> subprocess.Popen[bytes] | None:
        """py-spy on the project's worker for one phase (`--profile DIR`): collapsed stacks of
        the samples that held the GIL, for bench/profile_summary.py."""
        if not self.args.profile or arm == "bare":
            return None
        folder = Path(self.args.profile)
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{arm}-{phase}-{len(list(folder.glob(f'{arm}-{phase}-*')))}.txt"
        argv = [str(ROOT / ".venv/bin/py-spy"), "record", "--pid", str(pid), "--format", "raw",
                "--gil", "--rate", "50", "--output", str(out), "--nonblocking"]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL,  # noqa: S603
                                stderr=subprocess.DEVNULL)

    @staticmethod
    def _end_profile(profiler: subprocess.Popen[bytes] | None) -> None:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)

    # -- one case of each arm ------------------------------------------------------------

    def case_of(self, arm: str) -> Callable[[int], Awaitable[tuple[float, str]]]:
        """The driver of one case of `arm`."""
        if arm == "bare":
            return self.bare_case
        if arm == "featured":
            return self.featured_case
        return self.project_case(arm)

    def project_case(self, arm: str) -> Callable[[int], Awaitable[tuple[float, str]]]:
        """The O&M happy path on an arm running the project's worker."""
        return lambda n: self._project_case(f"bench-{arm}")

    async def _project_case(self, queue: str) -> tuple[float, str]:
        """The O&M happy path through the project's client."""
        from domain.om import OmCaseInput
        from domain.processes import OM
        from starter.client import open_case, send_event, wait_for_stage

        assert self.client is not None
        system_id = f"BENCH-{uuid.uuid4().hex[:10]}"
        inp = OmCaseInput.model_validate({
            "system_id": system_id, "case_reason": "system_failure",
            "source": "sunrun_monitoring", "installer": "sunrun",
            "installer_accepting_service_work": True, "agreement_type": "ppa",
            "zip": "94103", "market": "CA",
            "homeowner": {"name": "Bench", "phone": "+14155550100", "time_zone": "UTC"},
            "policy": {"contact_hours": {"start": "00:00", "end": "00:00"}, "holidays": [],
                       "appointment_reminder_before": 1, "outcome_reminder_after": 3600,
                       "performance_validation_period": 1, "text_interval": 3600,
                       "wait_after_last_text": 3600}})
        t = time.monotonic()
        opened = await open_case(self.client, OM, inp, queue)
        await wait_for_stage(self.client, opened.case_id, {"problem_identified"}, 60)
        await send_event(self.client, opened.case_id, "remote_fix_result",
                         {"event_id": "fix", "resolved": False})
        start = datetime.now(UTC) + timedelta(seconds=self.args.window_s)
        await send_event(self.client, opened.case_id, "appointment_scheduled", {
            "event_id": "book", "appointment_id": "APT-1", "window_start": start.isoformat(),
            "window_end": (start + SECOND).isoformat()})
        await wait_for_stage(self.client, opened.case_id, {"pending_appt_findings"}, 60)
        await send_event(self.client, opened.case_id, "appointment_outcome", {
            "event_id": "done", "appointment_id": "APT-1", "result": "completed",
            "asset_update_needed": True})
        await wait_for_stage(self.client, opened.case_id, {"pending_performance_validation"},
                             60)
        await send_event(self.client, opened.case_id, "system_health_reported",
                         {"event_id": "health", "healthy": True})
        await self._closed(opened.case_id)
        return time.monotonic() - t, opened.case_id

    async def bare_case(self, n: int) -> tuple[float, str]:
        """The bare workflow through the same kinds of calls."""
        assert self.client is not None
        case_id = f"bare-{uuid.uuid4().hex[:10]}"
        t = time.monotonic()
        handle = await self.client.start_workflow(
            "BareCaseWorkflow", self.args.window_s, id=case_id, task_queue="bench-bare",
            start_signal="issue_reported", start_signal_args=[{}])
        await handle.execute_update("event", "remote_fix_result")
        await handle.execute_update("event", "appointment_scheduled")
        await asyncio.sleep(self.args.window_s + 1)
        await handle.execute_update("event", "appointment_outcome")
        await handle.result()
        return time.monotonic() - t, case_id

    async def featured_case(self, n: int) -> tuple[float, str]:
        """The bare shape with the project's features, driven as the project is."""
        from starter.client import wait_for_stage

        assert self.client is not None
        handle = await self._start_featured(self.args.window_s)
        t = time.monotonic()
        await wait_for_stage(self.client, handle.id, {"problem_identified"}, 60)
        await handle.execute_update("remote_fix_result", {"event_id": "fix", **filler(25)})
        await handle.execute_update("appointment_scheduled", {"event_id": "book", **filler(100)})
        await wait_for_stage(self.client, handle.id, {"pending_appt_findings"}, 60)
        await handle.execute_update("appointment_outcome", {"event_id": "done", **filler(85)})
        await wait_for_stage(self.client, handle.id, {"pending_performance_validation"}, 60)
        await handle.execute_update("system_health_reported",
                                    {"event_id": "health", **filler(25)})
        await self._closed(handle.id)
        return time.monotonic() - t, handle.id

    async def _start_featured(self, window_s: float) -> Any:
        """A featured case opened as the project opens one: signal-with-start, an input and an
        opening report as large as the project's, a static summary, two search attributes."""
        from temporalio.common import (
            SearchAttributeKey,
            SearchAttributePair,
            TypedSearchAttributes,
        )

        assert self.client is not None
        case_id = f"feat-{uuid.uuid4().hex[:10]}"
        attrs = TypedSearchAttributes([
            SearchAttributePair(SearchAttributeKey.for_keyword("CaseId"), case_id),
            SearchAttributePair(SearchAttributeKey.for_keyword("SystemId"), case_id)])
        return await self.client.start_workflow(
            "FeaturedCaseWorkflow", {"window_in_s": window_s, "system_id": case_id,
                                     **filler(1280)},
            id=case_id, task_queue="bench-featured", start_signal="issue_reported",
            start_signal_args=[filler(470)], static_summary="O&M case: system failure (bench)",
            search_attributes=attrs)

    async def _closed(self, case_id: str) -> None:
        assert self.client is not None
        while True:
            desc = await self.client.get_workflow_handle(case_id).describe()
            if desc.status != WorkflowExecutionStatus.RUNNING:
                return
            await asyncio.sleep(0.2)

    async def _probe_case(self, arm: str) -> Callable[[int], Awaitable[object]]:
        """A case opened before the burst, and the Update an operator would send it (a note)."""
        assert self.client is not None
        client = self.client
        if arm == "featured":
            featured = await self._start_featured(3600.0)

            async def featured_note(n: int) -> object:
                return await featured.execute_update("add_note", {"event_id": f"note-{n}"})
            return featured_note
        if arm != "bare":
            from domain.processes import OM
            from starter.client import open_case, run_ops, wait_for_stage

            opened = await open_case(client, OM, self._burst_input(), f"bench-{arm}")
            await wait_for_stage(client, opened.case_id, {"problem_identified"}, 60)

            async def note(n: int) -> object:
                return await run_ops(client, opened.case_id, "add_note",
                                     {"event_id": f"note-{n}", "text": f"note {n}"})
            return note
        handle = await client.start_workflow(
            "BareCaseWorkflow", 3600.0, id=f"probe-{uuid.uuid4().hex[:10]}",
            task_queue="bench-bare", start_signal="issue_reported", start_signal_args=[{}])

        async def bare_note(n: int) -> object:
            return await handle.execute_update("event", f"note-{n}")
        return bare_note

    @staticmethod
    def _burst_input() -> BaseModel:
        from domain.om import OmCaseInput

        return OmCaseInput.model_validate({
            "system_id": f"BURST-{uuid.uuid4().hex[:10]}", "case_reason": "system_failure",
            "source": "sunrun_monitoring", "installer": "sunrun",
            "installer_accepting_service_work": True, "agreement_type": "ppa",
            "zip": "94103", "market": "CA",
            "homeowner": {"name": "Bench", "phone": "+14155550100"},
            "policy": {"holidays": []}})

    async def burst(self, arm: Arm) -> None:
        """`--burst` cases opened at once: openings accepted per second, seconds until all
        reached their first stage, CPU per case, the latency of Updates to another case
        meanwhile; then the cases left idle (`--idle-s`): the worker's RSS and the CPU idle
        cases cost; then terminated."""
        assert self.client is not None and self.server is not None
        from domain.processes import OM
        from starter.client import open_case

        client, worker, server = self.client, self.workers[arm.name], self.server
        note = await self._probe_case(arm.name)
        stop_probe = asyncio.Event()
        latencies: list[float] = []

        async def probe() -> None:
            n = 0
            while not stop_probe.is_set():
                n += 1
                t0 = time.monotonic()
                await note(n)
                latencies.append(time.monotonic() - t0)
                await asyncio.sleep(0.25)

        probing = asyncio.create_task(probe())
        profiler = self._profile(arm.name, worker.pid, "burst")
        w0, s0 = cpu_seconds(worker.pid), cpu_seconds(server.pid)
        t = time.monotonic()
        gate = asyncio.Semaphore(500)  # openings in flight, as a busy ingress would send them

        async def open_one() -> str:
            async with gate:
                if arm.name == "featured":
                    return str((await self._start_featured(3600.0)).id)
                if arm.name != "bare":
                    return (await open_case(client, OM, self._burst_input(),
                                            f"bench-{arm.name}")).case_id
                handle = await client.start_workflow(
                    "BareCaseWorkflow", 3600.0, id=f"burst-{uuid.uuid4().hex[:10]}",
                    task_queue="bench-bare", start_signal="issue_reported",
                    start_signal_args=[{}])
                return handle.id

        ids = await asyncio.gather(*(open_one() for _ in range(self.args.burst)))
        arm.burst_accepted_per_s.append(self.args.burst / (time.monotonic() - t))
        look = asyncio.Semaphore(100)

        async def reached(case_id: str) -> bool:
            # Both arms by describe, so that the polling costs the server the same: the
            # project's stage search attribute; the bare arm's first activity completed
            # (its 8th history event).
            async with look:
                desc = await client.get_workflow_handle(case_id).describe()
            if arm.name != "bare":
                stage = (desc.raw_description.workflow_execution_info.search_attributes
                         .indexed_fields.get("CaseStage"))
                return stage is not None and b"problem_identified" in stage.data
            return desc.raw_description.workflow_execution_info.history_length >= 8

        pending = set(ids)
        while pending:
            done = await asyncio.gather(*(reached(i) for i in pending))
            pending = {i for i, ok in zip(pending, done, strict=True) if not ok}
            if pending:
                await asyncio.sleep(1)
        arm.burst_s.append(time.monotonic() - t)
        self._end_profile(profiler)
        arm.burst_worker_cpu_ms.append(1000 * (cpu_seconds(worker.pid) - w0) / len(ids))
        arm.burst_server_cpu_ms.append(1000 * (cpu_seconds(server.pid) - s0) / len(ids))
        stop_probe.set()
        await probing
        arm.update_latency_s.extend(latencies)
        await asyncio.sleep(5)
        w1, s1 = cpu_seconds(worker.pid), cpu_seconds(server.pid)
        await asyncio.sleep(self.args.idle_s)
        arm.idle_rss_mib.append(rss_mib(worker.pid))
        arm.idle_worker_cpu_pct.append(100 * (cpu_seconds(worker.pid) - w1) / self.args.idle_s)
        arm.idle_server_cpu_pct.append(100 * (cpu_seconds(server.pid) - s1) / self.args.idle_s)
        gate = asyncio.Semaphore(200)

        async def end(case_id: str) -> None:
            async with gate:
                await client.get_workflow_handle(case_id).terminate("burst measured")
        await asyncio.gather(*(end(i) for i in ids))

    async def run_arm(self, arm: Arm,
                      case: Callable[[int], Awaitable[tuple[float, str]]]) -> None:
        """`--cases` cases, `--concurrency` at a time, CPU measured around them; then the
        history size of ten of them."""
        assert self.server is not None and self.client is not None
        worker = self.workers[arm.name]
        sem = asyncio.Semaphore(self.args.concurrency)
        w0, s0 = cpu_seconds(worker.pid), cpu_seconds(self.server.pid)
        ids: list[str] = []

        async def one(n: int) -> None:
            async with sem:
                wall, case_id = await case(n)
                arm.walls.append(wall)
                ids.append(case_id)

        async def sample_rss() -> None:
            while True:
                arm.peak_rss_mib = max(arm.peak_rss_mib, rss_mib(worker.pid))
                await asyncio.sleep(0.2)

        sampling = asyncio.create_task(sample_rss())
        profiler = self._profile(arm.name, worker.pid, "lifecycle")
        await asyncio.gather(*(one(n) for n in range(self.args.cases)))
        self._end_profile(profiler)
        sampling.cancel()
        arm.worker_cpu += cpu_seconds(worker.pid) - w0
        arm.server_cpu += cpu_seconds(self.server.pid) - s0
        arm.cases += self.args.cases
        for case_id in ids[:10]:
            every: list[HistoryEvent] = []
            async for run in self.client.list_workflows(f'WorkflowId = "{case_id}"'):
                history = await self.client.get_workflow_handle(
                    case_id, run_id=run.run_id).fetch_history()
                every.extend(history.events)
            arm.history_events.append(len(every))
            arm.history_bytes.append(sum(e.ByteSize() for e in every))
            arm.history_shape = history_shape(every)


async def run(args: argparse.Namespace) -> None:
    """The arms, alternating, then the table (and `--json` the figures)."""
    bench = Bench(args)
    names = (["project"] + (["checked"] if args.checked_arm else [])
             + (["unsandboxed"] if args.unsandboxed_arm else [])
             + (["featured"] if args.featured_arm else []))

    def fresh() -> list[Arm]:
        return [Arm("bare"), *(Arm(n) for n in names)]

    arms = fresh()
    try:
        await bench.start()
        for arm in arms:  # warm-up, not counted
            await bench.run_arm(arm, bench.case_of(arm.name))
        started = {n: rss_mib(w.pid) for n, w in bench.workers.items()}
        arms = fresh()
        for arm in arms:
            arm.start_rss_mib = started[arm.name]
        for _ in range(args.rounds):
            if not args.no_lifecycle:
                for arm in arms:
                    await bench.run_arm(arm, bench.case_of(arm.name))
            for arm in arms:
                await bench.burst(arm)
    finally:
        bench.stop()
    rows = {arm.name: arm.row() for arm in arms}
    print(f"{args.rounds} rounds x {args.cases} cases per arm, {args.concurrency} at a time; "
          f"bursts of {args.burst}; idle {args.idle_s:.0f} s")
    print("| measure | bare | " + " | ".join(f"{n} | ratio" for n in names) + " |")
    print("| --- | --- |" + " --- | --- |" * len(names))
    for key, base in rows["bare"].items():
        cells = [f"{rows[n][key]:.3f} | {rows[n][key] / base:.2f}x" if base else
                 f"{rows[n][key]:.3f} | -" for n in names]
        print(f"| {key} | {base:.3f} | " + " | ".join(cells) + " |")
    if arms[0].history_shape:
        print("\nOne case's history by event type: events / bytes / payload bytes")
        print("| event type | " + " | ".join(a.name for a in arms) + " |")
        print("| --- |" + " --- |" * len(arms))
        for kind in {k: None for a in reversed(arms) for k in a.history_shape}:
            cells = ["{} / {} / {}".format(*a.history_shape.get(kind, [0, 0, 0])) for a in arms]
            print(f"| {kind} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": vars(args), "rows": rows,
             "history_shape": {a.name: a.history_shape for a in arms}}, indent=2))


async def bare_worker(port: int, featured: bool) -> None:
    """The worker process of the bare arm (or of the featured one)."""
    from temporalio.worker import Worker

    client = await Client.connect(f"127.0.0.1:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    queue, flow, effect = (("bench-featured", FeaturedCaseWorkflow, featured_effect) if featured
                           else ("bench-bare", BareCaseWorkflow, bare_effect))
    async with Worker(client, task_queue=queue, workflows=[flow], activities=[effect]):
        await stop.wait()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--window-s", type=float, default=3.0)
    parser.add_argument("--idle-s", type=float, default=30.0,
                        help="how long the burst's cases are left idle before they end")
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy the project's worker in each phase, stacks into DIR")
    parser.add_argument("--checked-arm", action="store_true",
                        help="an arm: the project's worker with the sandbox checking the "
                             "workflow code (FIELD_SERVICE_WORKFLOW_SANDBOX=checked, as before "
                             "issue 21)")
    parser.add_argument("--unsandboxed-arm", action="store_true",
                        help="an arm: the project's worker without the SDK's workflow sandbox "
                             "(FIELD_SERVICE_WORKFLOW_SANDBOX=off)")
    parser.add_argument("--featured-arm", action="store_true",
                        help="an arm with the bare shape and the project's Temporal features "
                             "(its patches, upserts, summaries and payload sizes; no project "
                             "code): splits the project's cost into features and code")
    parser.add_argument("--featured", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--no-lifecycle", action="store_true",
                        help="bursts only (the 10,000 run)")
    parser.add_argument("--port", type=int, default=7400)
    parser.add_argument("--bare-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_worker:
        asyncio.run(bare_worker(args.port, args.featured))
        return
    asyncio.run(run(args))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
