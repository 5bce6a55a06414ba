"""Ingress under a worker backlog (spec 6.1): why the gateway falls back from an Update to a
Signal, measured on this stack (`python -m bench.ingress_backlog`; results in
docs/benchmarks.md).

One dev server, one worker (`python -m workers`, keys set, `--slots` workflow-task slots), and
`--cases` open O&M cases waiting in `problem_identified`. Each event goes the gateway's way
(`starter.client.deliver_event`: an Update answered within `--update-timeout` seconds, else
the same event as a Signal):

- idle: one event to each case, one after the other, with nothing else queued;
- backlog: `--burst` new cases are opened at once (each one's workflow tasks queue on the
  worker's task queue), and `--lead` seconds later, while they still arrive, one event to each
  waiting case, all at once.

For each phase it reports how many events were answered by the Update (200) and how many were
delivered as a Signal (202), the time the gateway took to answer, and then waits until every
event has been applied, checking that each case recorded its `event_id` exactly once."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

from domain.om import OmCase
from domain.processes import OM
from infra.encryption import KeyRing, new_key_setting
from infra.wire import data_converter
from starter.client import ServerUnavailable, case_status, deliver_event, open_case
from tests.workflows.harness import om_input
from workflows.search_attributes import TYPES

ROOT = Path(__file__).resolve().parents[1]
SEARCH_ATTRIBUTES = [f"{name}={kind}" for name, kind in TYPES.items()]
QUEUE = "bench-ingress"


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    answered: list[float] = field(default_factory=list)  # seconds, Update answered (200)
    fell_back: list[float] = field(default_factory=list)  # seconds, Signal (202)
    applied_after: float = 0.0  # seconds from the first event until all were applied
    applied_once: int = 0
    status_timeouts: int = 0  # status queries that timed out while waiting

    def line(self) -> str:
        """One row of the results table."""
        def med(xs: list[float]) -> str:
            return f"{statistics.median(xs):.2f}" if xs else "-"
        return (f"| {self.name} | {len(self.answered)} | {med(self.answered)} | "
                f"{len(self.fell_back)} | {med(self.fell_back)} | {self.applied_after:.1f} | "
                f"{self.applied_once}/{len(self.answered) + len(self.fell_back)} | "
                f"{self.status_timeouts} |")


async def _stage_reached(client: Client, case_id: str, stage: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while (await case_status(client, case_id)).stage != stage:
        if time.monotonic() > end:
            raise TimeoutError(f"{case_id} not in {stage}")
        await asyncio.sleep(0.2)


async def _send_all(client: Client, ids: list[str], tag: str, timeout: timedelta,
                    phase: Phase, concurrent: bool) -> None:
    async def one(case_id: str) -> None:
        started = time.monotonic()
        delivery = await deliver_event(client, case_id, "remote_fix_result",
                                       {"event_id": f"{tag}-{case_id}", "resolved": False},
                                       update_timeout=timeout)
        took = time.monotonic() - started
        (phase.answered if delivery.answer is not None else phase.fell_back).append(took)

    if concurrent:
        await asyncio.gather(*(one(i) for i in ids))
    else:
        for case_id in ids:
            await one(case_id)


async def _applied(client: Client, ids: list[str], tag: str, phase: Phase,
                   since: float) -> None:
    """Wait until every case has left problem_identified; count each event_id's records."""
    pending = set(ids)
    while pending:
        for case_id in list(pending):
            try:
                st = await case_status(client, case_id)
            except ServerUnavailable:  # a query waits behind the backlog too: ask again
                phase.status_timeouts += 1
                continue
            if st.stage != "problem_identified":
                assert isinstance(st, OmCase)
                seen = [e.event_id for e in st.events].count(f"{tag}-{case_id}")
                phase.applied_once += seen == 1
                pending.discard(case_id)
        await asyncio.sleep(0.2)
    phase.applied_after = time.monotonic() - since


async def run(args: argparse.Namespace) -> None:
    """Start everything, run both phases, print the table, stop everything."""
    work = Path(tempfile.mkdtemp(prefix="bench-ingress-"))
    keys = new_key_setting("bench-1")
    converter = data_converter(KeyRing.parse(keys))
    procs: list[subprocess.Popen[bytes]] = []
    sa = [a for s in SEARCH_ATTRIBUTES for a in ("--search-attribute", s)]
    procs.append(subprocess.Popen(  # noqa: S603
        [str(ROOT / ".venv/bin/temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port",
         str(args.port), "--headless", "--db-filename", str(work / "temporal.db"),
         "--log-level", "error", *sa], stdout=subprocess.DEVNULL,
        stderr=(work / "server.log").open("wb")))
    try:
        client = None
        for _ in range(120):
            try:
                client = await Client.connect(f"127.0.0.1:{args.port}",
                                              data_converter=converter)
                await client.count_workflows()
                break
            except Exception:  # noqa: BLE001 - not up yet
                await asyncio.sleep(0.5)
        assert client is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_",
                                                                        "FIELD_SERVICE_"))}
        env.update({"TEMPORAL_ADDRESS": f"127.0.0.1:{args.port}",
                    "FIELD_SERVICE_TASK_QUEUE": QUEUE,
                    "FIELD_SERVICE_ENCRYPTION_KEYS": keys,
                    "FIELD_SERVICE_STORE": str(work / "records.db"),
                    "FIELD_SERVICE_LOG_FORMAT": "json", "FIELD_SERVICE_LOG_LEVEL": "WARNING",
                    "FIELD_SERVICE_MAX_CONCURRENT_WORKFLOW_TASKS": str(args.slots)})
        procs.append(subprocess.Popen(  # noqa: S603
            [str(ROOT / ".venv/bin/python"), "-m", "workers"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=(work / "worker.log").open("wb")))
        timeout = timedelta(seconds=args.update_timeout)
        phases = []
        for name in ("idle", "backlog"):
            ids = [f"om-B{name[0].upper()}{n:04d}" for n in range(args.cases)]
            for case_id in ids:
                await open_case(client, OM, om_input(case_id.removeprefix("om-")), QUEUE)
            for case_id in ids:
                await _stage_reached(client, case_id, "problem_identified", 120)
            phase = Phase(name)
            opening = None
            if name == "backlog":
                burst = [om_input(f"BURST{n:05d}") for n in range(args.burst)]
                opening = asyncio.gather(*(open_case(client, OM, inp, QUEUE) for inp in burst))
                # The events go while the burst is still arriving, as an integration's would.
                await asyncio.sleep(args.lead)
            started = time.monotonic()
            await _send_all(client, ids, name, timeout, phase, concurrent=name == "backlog")
            if opening is not None:
                await opening
            await _applied(client, ids, name, phase, started)
            phases.append(phase)
        print(f"\nslots={args.slots} cases={args.cases} burst={args.burst} "
              f"update_timeout={args.update_timeout}s\n")
        print("| phase | Update answered (200) | its median s | delivered as Signal (202) | "
              "its median s | all applied after s | each applied once | status reads timed out |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for phase in phases:
            print(phase.line())
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=7299)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--burst", type=int, default=1500)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--update-timeout", type=float, default=2.0)
    parser.add_argument("--lead", type=float, default=2.0,
                        help="seconds between the start of the burst and the events")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
