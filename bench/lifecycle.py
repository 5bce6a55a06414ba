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
- a burst: `--burst` cases opened at once, and the time until all reached their first stage
  (project: `problem_identified` in the search attributes; bare: its first wait).

Both arms alternate over `--rounds` rounds so that server warm-up and machine noise fall on
both."""

from __future__ import annotations

import argparse
import asyncio
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

from temporalio.client import Client, WorkflowExecutionStatus

from bench.bare_workflow import BareCaseWorkflow, bare_effect
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


@dataclass
class Arm:
    """One arm's figures."""

    name: str
    walls: list[float] = field(default_factory=list)
    worker_cpu: float = 0.0
    server_cpu: float = 0.0
    cases: int = 0
    burst_s: list[float] = field(default_factory=list)
    # History events and bytes of every run of the case (sampled after the CPU is measured).
    history_events: list[int] = field(default_factory=list)
    history_bytes: list[int] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        """Median / p90 wall, CPU per case, burst time."""
        walls = sorted(self.walls)
        return {
            "wall_median_s": statistics.median(walls),
            "wall_p90_s": walls[int(len(walls) * 0.9) - 1],
            "worker_cpu_ms_per_case": 1000 * self.worker_cpu / self.cases,
            "server_cpu_ms_per_case": 1000 * self.server_cpu / self.cases,
            "burst_first_stage_s": statistics.median(self.burst_s) if self.burst_s else 0.0,
            "history_events_per_case": statistics.median(self.history_events),
            "history_kb_per_case": statistics.median(self.history_bytes) / 1024,
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
        self.workers["bare"] = self._spawn(
            [py, "-m", "bench.lifecycle", "--bare-worker", "--port", str(self.port)],
            {**env, "FIELD_SERVICE_TASK_QUEUE": "bench-bare"}, "worker-bare.log")
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

    # -- one case of each arm ------------------------------------------------------------

    async def project_case(self, n: int) -> tuple[float, str]:
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
        opened = await open_case(self.client, OM, inp, "bench-project")
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

    async def _closed(self, case_id: str) -> None:
        assert self.client is not None
        while True:
            desc = await self.client.get_workflow_handle(case_id).describe()
            if desc.status != WorkflowExecutionStatus.RUNNING:
                return
            await asyncio.sleep(0.2)

    async def burst(self, arm: str) -> float:
        """`--burst` cases opened at once; seconds until all reached their first stage."""
        assert self.client is not None
        from domain.om import OmCaseInput
        from domain.processes import OM
        from starter.client import current_stage, open_case

        client = self.client
        t = time.monotonic()
        ids: list[str] = []
        if arm == "project":
            inputs = [OmCaseInput.model_validate({
                "system_id": f"BURST-{uuid.uuid4().hex[:10]}", "case_reason": "system_failure",
                "source": "sunrun_monitoring", "installer": "sunrun",
                "installer_accepting_service_work": True, "agreement_type": "ppa",
                "zip": "94103", "market": "CA",
                "homeowner": {"name": "Bench", "phone": "+14155550100"},
                "policy": {"holidays": []}}) for _ in range(self.args.burst)]
            opened = await asyncio.gather(*(open_case(client, OM, i, "bench-project")
                                            for i in inputs))
            ids = [o.case_id for o in opened]

            async def reached(case_id: str) -> bool:
                stage, _ = await current_stage(client, case_id)
                return stage == "problem_identified"
        else:
            handles = await asyncio.gather(*(client.start_workflow(
                "BareCaseWorkflow", 3600.0, id=f"burst-{uuid.uuid4().hex[:10]}",
                task_queue="bench-bare", start_signal="issue_reported", start_signal_args=[{}])
                for _ in range(self.args.burst)))
            ids = [h.id for h in handles]

            async def reached(case_id: str) -> bool:
                history = await client.get_workflow_handle(case_id).fetch_history()
                return any(e.HasField("activity_task_completed_event_attributes")
                           for e in history.events)
        pending = set(ids)
        while pending:
            done = await asyncio.gather(*(reached(i) for i in pending))
            pending = {i for i, ok in zip(pending, done, strict=True) if not ok}
            if pending:
                await asyncio.sleep(0.2)
        elapsed = time.monotonic() - t
        await asyncio.gather(*(client.get_workflow_handle(i).terminate("burst measured")
                               for i in ids))
        return elapsed

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

        await asyncio.gather(*(one(n) for n in range(self.args.cases)))
        arm.worker_cpu += cpu_seconds(worker.pid) - w0
        arm.server_cpu += cpu_seconds(self.server.pid) - s0
        arm.cases += self.args.cases
        for case_id in ids[:10]:
            events = size = 0
            async for run in self.client.list_workflows(f'WorkflowId = "{case_id}"'):
                history = await self.client.get_workflow_handle(
                    case_id, run_id=run.run_id).fetch_history()
                events += len(history.events)
                size += sum(e.ByteSize() for e in history.events)
            arm.history_events.append(events)
            arm.history_bytes.append(size)


async def run(args: argparse.Namespace) -> None:
    """Both arms, alternating, then the table."""
    bench = Bench(args)
    project, bare = Arm("project"), Arm("bare")
    try:
        await bench.start()
        await bench.run_arm(bare, bench.bare_case)  # warm-up, not counted
        await bench.run_arm(project, bench.project_case)
        project.walls.clear()
        bare.walls.clear()
        project.worker_cpu = project.server_cpu = bare.worker_cpu = bare.server_cpu = 0.0
        project.cases = bare.cases = 0
        project.history_events.clear()
        bare.history_events.clear()
        project.history_bytes.clear()
        bare.history_bytes.clear()
        for _ in range(args.rounds):
            await bench.run_arm(bare, bench.bare_case)
            await bench.run_arm(project, bench.project_case)
            bare.burst_s.append(await bench.burst("bare"))
            project.burst_s.append(await bench.burst("project"))
    finally:
        bench.stop()
    p, b = project.row(), bare.row()
    print(f"{args.rounds} rounds x {args.cases} cases per arm, {args.concurrency} at a time; "
          f"bursts of {args.burst}")
    print("| measure | bare | project | ratio |\n| --- | --- | --- | --- |")
    for key in p:
        ratio = p[key] / b[key] if b[key] else float("nan")
        print(f"| {key} | {b[key]:.3f} | {p[key]:.3f} | {ratio:.2f}x |")


async def bare_worker(port: int) -> None:
    """The bare arm's worker process."""
    from temporalio.worker import Worker

    client = await Client.connect(f"127.0.0.1:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(client, task_queue="bench-bare", workflows=[BareCaseWorkflow],
                      activities=[bare_effect]):
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
    parser.add_argument("--port", type=int, default=7400)
    parser.add_argument("--bare-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_worker:
        asyncio.run(bare_worker(args.port))
        return
    asyncio.run(run(args))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
