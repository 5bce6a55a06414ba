"""The cross-case paths of the chaos run (spec 2.3): cases of one system that start, join and
wait for each other, driven through the public contract while workers are killed and the
server restarts, then checked: outcomes, no second project, one P1 dispatch owned by the O&M
case and left open, and every history of every case involved replaying.

- `claim_rr`: a claim whose liability needs R&R starts its project and waits for it; the
  project completes and the claim closes `repaired`.
- `rr_damage`: damage found during a damage R&R opens a claim; its repairs join that project
  (never `rr-...-P1-D1`); the project completes and the claim closes `repaired`.
- `hazard_inquiry`: a RIC inquiry reporting sparks hands the hazard to `om-{system}`, which
  sends the safety notice and the P1 dispatch; the inquiry closes; the O&M case is cancelled
  by an operator at the end (its dispatch closes with it, never before)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer

from domain.processes import DAMAGE, INQUIRY, PROCESSES, RR, process_of
from starter.client import closed_case, current_stage, open_case, run_ops, send_event

PATHS = ("claim_rr", "rr_damage", "hazard_inquiry")
STEPS = (("removal", "removal_completed"), ("roofing_work", "roofing_completed"),
         ("reinstall", "reinstall_completed"))
ALL_DAY = {"start": "00:00", "end": "00:00"}


class Host(Protocol):
    """What the chaos run lends: its client, its retrying call, its marks."""

    client: Client | None
    task_queue: str
    store: Path

    async def call(self, what: str, fn: Any, info: dict[str, Any] | None = None,
                   budget: float | None = None) -> Any:
        """Call with retries on connection errors."""
        ...

    def mark(self, what: str) -> None:
        """Log a line of the run."""
        ...


@dataclass
class CrossPath:
    """One cross-case path on one system, and what it touched."""

    path: str
    system_id: str
    ok: bool = False
    error: str = ""
    case_ids: list[str] = field(default_factory=list)


def _homeowner() -> dict[str, Any]:
    return {"name": "Chaos Tester", "phone": "+14155550100", "email": "chaos@example.com",
            "address": "1 Main St", "time_zone": "UTC"}


def claim_input(system_id: str, claim_no: str) -> dict[str, Any]:
    """A company-installed roof leak under warranty, texts all day."""
    return {"system_id": system_id, "claim_no": claim_no, "roof_leak": True,
            "installer": "sunrun",
            "entitlements": [{"kind": "roof_penetration", "active_until": "2035-01-01"}],
            "reported_on": datetime.now(UTC).date().isoformat(), "market": "CA",
            "zip": "94103", "homeowner": _homeowner(), "description": "chaos roof leak",
            "policy": {"contact_hours": ALL_DAY, "holidays": []}}


def rr_input(system_id: str) -> dict[str, Any]:
    """A damage R&R (company-managed), all day."""
    return {"system_id": system_id, "project_no": "P1", "variant": "damage", "market": "CA",
            "zip": "94103", "homeowner": _homeowner(), "reason": "chaos damage R&R",
            "policy": {"contact_hours": ALL_DAY, "holidays": []}}


def inquiry_input(system_id: str) -> dict[str, Any]:
    """A RIC damage report after M3 with sparks."""
    return {"case_id": f"INQ-{system_id}", "system_id": system_id, "agreement_type": "ric",
            "m3_approved": True, "inquiry": "damage_report", "homeowner": _homeowner(),
            "details": {"market": "CA", "zip": "94103", "hazard": {"sparks_smoke_fire": True}},
            "policy": {"contact_hours": ALL_DAY, "holidays": []}}


class CrossCases:
    """The cross-case paths of one chaos run."""

    def __init__(self, host: Host, tag: str, per_path: int, step_timeout: float) -> None:
        self.host = host
        self.step_timeout = step_timeout
        self.paths = [CrossPath(p, f"X{tag}-{p.replace('_', '')}-{i}")
                      for p in PATHS for i in range(per_path)]

    @property
    def client(self) -> Client:
        """The run's client (connected once the stack is up)."""
        assert self.host.client is not None
        return self.host.client

    async def run(self) -> None:
        """Drive every path at once; a path that fails records why."""
        await asyncio.gather(*(self._one(p) for p in self.paths))
        ok = sum(p.ok for p in self.paths)
        self.host.mark(f"cross-case paths: {ok} of {len(self.paths)} driven to their end")

    async def _one(self, p: CrossPath) -> None:
        try:
            await getattr(self, f"_{p.path}")(p)
            p.ok = True
        except Exception as exc:  # noqa: BLE001 - recorded in the report
            p.error = f"{type(exc).__name__}: {str(exc)[:300]}"

    # ---- the contract, with the run's retries --------------------------------------------

    async def _open(self, p: CrossPath, process: str, data: dict[str, Any]) -> str:
        spec = PROCESSES[process]
        inp = spec.input_model.model_validate(data)
        opened = await self.host.call("open", lambda: asyncio.wait_for(
            open_case(self.client, spec, inp, self.host.task_queue), 60))
        p.case_ids.append(opened.case_id)
        return str(opened.case_id)

    async def _send(self, case_id: str, name: str, step: str, **body: Any) -> None:
        payload = {"event_id": f"{case_id}:{step}", **body}
        await self.host.call(f"update:{name}", lambda: asyncio.wait_for(
            send_event(self.client, case_id, name, payload), 120))

    async def _stage(self, case_id: str, *stages: str) -> None:
        """Until the case is in one of `stages` (a describe call: no worker needed)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.step_timeout
        while True:
            try:
                stage, running = await self.host.call("describe", lambda: asyncio.wait_for(
                    current_stage(self.client, case_id), 30))
            except Exception as exc:  # noqa: BLE001 - a child not started yet
                if "there is no case" not in str(exc):
                    raise
                stage, running = None, True
            if stage in stages:
                return
            if not running and stage not in stages:
                raise AssertionError(f"{case_id} closed in {stage}, not {stages}")
            if loop.time() > end:
                raise AssertionError(f"{case_id} in {stage}, not {stages}, after "
                                     f"{self.step_timeout:.0f} s")
            await asyncio.sleep(0.5)

    async def _claim_to_rr(self, claim_id: str) -> None:
        await self._stage(claim_id, "investigation")
        start = datetime.now(UTC) + timedelta(hours=1)
        await self._send(claim_id, "appointment_scheduled", "book", appointment_id="APT-1",
                         window_start=start.isoformat(),
                         window_end=(start + timedelta(hours=4)).isoformat())
        await self._send(claim_id, "field_assessment", "assess", follow_up_required=False,
                         at_fault="company")
        await self._stage(claim_id, "liability_determination")
        await self._send(claim_id, "liability_determined", "liability", liable_party="company",
                         decision="repair", rr_required=True)
        await self._stage(claim_id, "project_in_progress")

    async def complete_project(self, project_id: str) -> None:
        """Drive a company-managed project through its steps to `closed`."""
        for stage, event in STEPS:
            await self._stage(project_id, stage)
            await self._send(project_id, event, event)
        await self._stage(project_id, "closed")

    # ---- the paths ----------------------------------------------------------------------

    async def _claim_rr(self, p: CrossPath) -> None:
        claim_id = await self._open(p, DAMAGE.name, claim_input(p.system_id, "C1"))
        await self._claim_to_rr(claim_id)
        project_id = f"rr-{p.system_id}-C1"
        p.case_ids.append(project_id)
        await self.complete_project(project_id)
        await self._stage(claim_id, "closed")

    async def _rr_damage(self, p: CrossPath) -> None:
        project_id = await self._open(p, RR.name, rr_input(p.system_id))
        await self._stage(project_id, "removal")
        await self._send(project_id, "damage_reported", "damage", description="cracked rafter",
                         roof_leak=True)
        claim_id = f"damage-{p.system_id}-P1-D1"
        p.case_ids.append(claim_id)
        await self._claim_to_rr(claim_id)
        await self.complete_project(project_id)
        await self._stage(claim_id, "closed")

    async def _hazard_inquiry(self, p: CrossPath) -> None:
        inquiry_id = await self._open(p, INQUIRY.name, inquiry_input(p.system_id))
        await self._stage(inquiry_id, "closed")
        owner = f"om-{p.system_id}"
        p.case_ids.append(owner)
        await self._stage(owner, "installer_routing", "dispatched_to_branch", "findings_review",
                          "dispatched_to_partner")
        await self._wait_records(owner, "dispatch")
        await self.host.call("update:cancel_case", lambda: asyncio.wait_for(run_ops(
            self.client, owner, "cancel_case",
            {"event_id": f"{owner}:cancel", "reason": "chaos: end of the path",
             "actor": "chaos"}), 120))
        await self._stage(owner, "closed")

    async def _wait_records(self, case_id: str, kind: str) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + self.step_timeout
        while not self._records(case_id, kind):
            if loop.time() > end:
                raise AssertionError(f"{case_id}: no {kind} recorded")
            await asyncio.sleep(0.5)

    def _records(self, case_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        con = sqlite3.connect(f"file:{self.host.store}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT record_id, kind, payload FROM records WHERE case_id = ?",
                               (case_id,)).fetchall()
        finally:
            con.close()
        return [{"record_id": r[0], "kind": r[1], "payload": json.loads(r[2])} for r in rows
                if kind in (None, r[1])]

    # ---- verification -------------------------------------------------------------------

    async def verify(self, replayer: Replayer) -> dict[str, Any]:
        """Outcomes, the spec 2.3 facts in the records, and every history replaying."""
        wrong: list[str] = [f"{p.system_id} ({p.path}) not driven: {p.error}"
                            for p in self.paths if not p.ok]
        replayed, replay_fail = 0, []
        outcomes: Counter[str] = Counter()
        for p in self.paths:
            for case_id in p.case_ids:
                for hist in await self._histories(case_id):
                    replayed += 1
                    res = await replayer.replay_workflow(hist, raise_on_replay_failure=False)
                    if res.replay_failure is not None:
                        replay_fail.append(f"{case_id}: {str(res.replay_failure)[:200]}")
                case = await self.host.call("result", lambda c=case_id: closed_case(
                    self.client, c))
                outcome = getattr(case, "outcome", None)
                outcomes[f"{process_of(case_id).name}:{outcome}"] += 1
            if p.ok:
                wrong += self._check(p)
        return {"paths": len(self.paths), "driven": sum(p.ok for p in self.paths),
                "outcomes": dict(outcomes), "wrong": wrong, "replayed": replayed,
                "replay_failures": replay_fail}

    def _check(self, p: CrossPath) -> list[str]:
        """What spec 2.3 says the records of the path's system hold."""
        sys_ = p.system_id
        out: list[str] = []
        records = {c: self._records(c) for c in p.case_ids}
        every = [r for rs in records.values() for r in rs]
        projects = [r for r in every if r["kind"] == "project"]
        if p.path in ("claim_rr", "rr_damage") and len(projects) != 1:
            out.append(f"{sys_}: {len(projects)} project records, not 1")
        dispatches = [(c, r) for c, rs in records.items() for r in rs if r["kind"] == "dispatch"]
        safety = [r for r in every if r["payload"].get("template") == "safety_notice"]
        if p.path == "hazard_inquiry":
            owner = f"om-{sys_}"
            if [c for c, _ in dispatches] != [owner] or len(safety) != 1:
                out.append(f"{sys_}: dispatches {[c for c, _ in dispatches]}, "
                           f"{len(safety)} safety notices")
            closes = [r for r in every if r["kind"] == "crm_close"]
            by_inquiry = [r for r in records[f"inquiry-INQ-{sys_}"] if r["kind"] == "crm_close"]
            if dispatches and any(dispatches[0][1]["record_id"] in r["payload"]["record_ids"]
                                  for r in by_inquiry):
                out.append(f"{sys_}: the inquiry closed the O&M case's P1 dispatch")
            if not any(r["payload"].get("outcome") == "cancelled" for r in closes):
                out.append(f"{sys_}: the O&M case's records were not closed with it")
        return out

    async def _histories(self, case_id: str) -> list[WorkflowHistory]:
        """Every run of the case's newest chain, oldest first."""
        try:
            desc = await self.host.call("describe", lambda: self.client.workflow_service
                                        .describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace=self.client.namespace,
                    execution=WorkflowExecution(workflow_id=case_id))))
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return []
            raise
        info = desc.workflow_execution_info
        histories: list[WorkflowHistory] = []
        run_id: str | None = info.first_run_id or info.execution.run_id
        while run_id:
            h = self.client.get_workflow_handle(case_id, run_id=run_id)
            hist = await self.host.call("history", lambda h=h: h.fetch_history())
            histories.append(hist)
            last = hist.events[-1]
            run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                      if last.HasField("workflow_execution_continued_as_new_event_attributes")
                      else None)
        return histories
