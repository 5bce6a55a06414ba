"""One case harness for every process (and the probe workflows that test a shared part
alone): a worker on the test's task queue, cases opened through the starter's client, and a
driver per case that sends events, fires its timers one at a time (the status says when the
next one is due), and reads its status, search attributes and the side effects recorded."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.effects import FieldServiceActivities, all_activities
from activities.store import SqliteRecordStore, StoredRecord
from domain.case import CaseState
from domain.damage import DamageClaim, DamageClaimInput
from domain.effects import (
    CrmRecordRequest,
    EffectReceipt,
    HealthCheckResult,
    MonitoringRequest,
    Notification,
)
from domain.followup import FollowUpInput
from domain.inquiry import SupportInquiryInput
from domain.om import OmCase, OmCaseInput
from domain.processes import DAMAGE, OM, RR, ProcessSpec
from domain.reactivation import ReactivationInput
from domain.rr import RemovalReinstallInput, RrProject
from starter.client import open_case, send_event
from tests.visits.probe_workflow import (
    ReminderProbeWorkflow,
    StarterProbeWorkflow,
    VisitProbeWorkflow,
)
from workers.registry import WORKFLOWS, workflow_runner

# Tests run under production conditions by default (the developers' guide): contact hours
# 08:00-20:00 in the homeowner's own zone and the holiday calendar resolved as in production.
# These permissive settings (contact hours all day, no holidays) are for a test that says why.
ANY_TIME_POLICY: dict[str, Any] = {"contact_hours": {"start": "00:00", "end": "00:00"},
                                   "holidays": []}

_ids = itertools.count(1)
# Each try of a status query, and how many (see CaseDriver.status).
QUERY_TIMEOUT = timedelta(seconds=5)
QUERY_TRIES = 6
_QUERY_CUT_OFF = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)
S = TypeVar("S", bound=CaseState)


# The test homeowner: phone only (no e-mail, so every notice is a text held to contact hours),
# at a San Francisco address with no explicit zone (America/Los_Angeles from the ZIP code).
HOMEOWNER: dict[str, Any] = {"name": "Ana Ruiz", "phone": "+14155550100",
                             "address": "1 Main St, San Francisco, CA 94103"}
# The same homeowner with an e-mail on file, for tests of the e-mail channel.
WITH_EMAIL: dict[str, Any] = {**HOMEOWNER, "email": "ana@example.com"}
M = TypeVar("M", bound=BaseModel)


def _build(model: type[M], defaults: dict[str, Any], system_id: str | None,
           policy: dict[str, Any] | None, changes: dict[str, Any]) -> M:
    """A process input: the defaults, a fresh system ID, the test policy, then `changes`."""
    data = {"system_id": system_id or f"SYS-{next(_ids):05d}", "homeowner": HOMEOWNER,
            **defaults, "policy": dict(policy or {})}
    data.update(changes)
    return model.model_validate(data)


def om_input(system_id: str | None = None, *, policy: dict[str, Any] | None = None,
             **changes: Any) -> OmCaseInput:
    """An issue report that is eligible for the simplified track unless changed."""
    return _build(OmCaseInput, {
        "case_reason": "system_failure", "source": "sunrun_monitoring", "installer": "sunrun",
        "installer_accepting_service_work": True, "agreement_type": "ppa",
        "acquisition_channel": "retail", "zip": "94103", "market": "CA",
        "description": "inverter shows error 21"}, system_id, policy, changes)


def claim_input(system_id: str | None = None, *, policy: dict[str, Any] | None = None,
                **changes: Any) -> DamageClaimInput:
    """A company-installed roof leak under warranty on its report date, unless changed."""
    return _build(DamageClaimInput, {
        "claim_no": "CLM-1", "roof_leak": True, "installer": "sunrun",
        "entitlements": [{"kind": "roof_penetration", "active_until": "2035-01-01"}],
        "reported_on": "2026-11-20", "market": "CA", "zip": "94103",
        "description": "water stain on the ceiling under the array"}, system_id, policy, changes)


def rr_input(system_id: str | None = None, *, policy: dict[str, Any] | None = None,
             **changes: Any) -> RemovalReinstallInput:
    """An elective R&R in a non-Remi market (company-managed, five steps) unless changed."""
    return _build(RemovalReinstallInput, {
        "project_no": "P1", "variant": "elective", "market": "HI",
        "reason": "homeowner is replacing the roof"}, system_id, policy, changes)


def reactivation_input(*, policy: dict[str, Any] | None = None,
                       **changes: Any) -> ReactivationInput:
    """A reactivation whose payment was made long ago (no wait) unless changed; like the
    spec's input, it has no market or ZIP (the zone comes from the homeowner's address)."""
    return _build(ReactivationInput, {
        "contract_id": f"CON-{next(_ids):05d}", "payment_date": "2026-01-05",
        "payment_proof": "CONF-123"}, None, policy, changes)


def followup_input(*, policy: dict[str, Any] | None = None, **changes: Any) -> FollowUpInput:
    """A follow-up with an unresponsive installer unless changed."""
    return _build(FollowUpInput, {
        "case_id": f"CS-{next(_ids):05d}", "party": "installer",
        "party_email": "service@acme-solar.example", "concern": "the inverter was never connected",
        "best_time_to_reach": "weekdays after 5 pm", "market": "CA"}, None, policy, changes)


def inquiry_input(*, policy: dict[str, Any] | None = None, **changes: Any) -> SupportInquiryInput:
    """A PPA maintenance request after M3 (an O&M case) unless changed."""
    return _build(SupportInquiryInput, {
        "case_id": f"INQ-{next(_ids):05d}", "agreement_type": "ppa", "m3_approved": True,
        "inquiry": "maintenance_request",
        "details": {"market": "CA", "zip": "94103", "installer": "sunrun",
                    "installer_accepting_service_work": True,
                    "description": "production dropped by half",
                    "concern": "the installer never came back", "contract_id": "CON-77",
                    "payment_date": "2026-01-05", "payment_proof": "CONF-9",
                    "installer_email": "service@acme-solar.example"}}, None, policy, changes)


def zone_where_local_hour_is(hour: int, now: datetime) -> str:
    """A fixed-offset IANA zone in which `now` falls in the local `hour` (to put a homeowner
    outside contact hours whatever time the suite runs at)."""
    offset = (hour - now.astimezone(UTC).hour) % 24
    if offset > 12:
        offset -= 24  # keep within Etc/GMT-14 .. Etc/GMT+12
    # POSIX sign convention: Etc/GMT+5 is five hours *behind* UTC.
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def health_stand_in(healthy: bool | None) -> Callable[..., Any]:
    """A monitoring health check that answers `healthy` (the real adapter answers unknown)."""

    @activity.defn(name="check_system_health")
    async def check_system_health(req: MonitoringRequest) -> HealthCheckResult:
        return HealthCheckResult(healthy=healthy)

    return check_system_health


class CaseDriver(Generic[S]):
    """One case under test; `model` is its status model."""

    def __init__(self, env: WorkflowEnvironment, client: Client, handle: WorkflowHandle[Any, Any],
                 store: SqliteRecordStore, model: type[S]) -> None:
        self.model = model
        self.env = env
        self.client = client
        self.handle = handle
        self.store = store
        self.case_id = handle.id
        self._events = itertools.count(1)

    async def status(self) -> S:
        """The `status` query. A query that reaches the test server as the run it targets
        continues as new is never answered (the server keeps it for the closed run): each try
        is cut off after a few seconds and sent again, to the current run."""
        for attempt in itertools.count(1):
            try:
                raw = await self.handle.query("status", rpc_timeout=QUERY_TIMEOUT)
            except RPCError as err:
                if err.status not in _QUERY_CUT_OFF or attempt == QUERY_TRIES:
                    raise
                continue
            return self.model.model_validate(raw)
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, name: str, **payload: Any) -> S:
        """The event as an Update, through the starter's client as integrations send it;
        returns the whole status once the case has acted on it."""
        payload.setdefault("event_id", f"{name}-{next(self._events)}")
        answer = await send_event(self.client, self.case_id, name, payload)
        assert answer is not None and answer.case_id == self.case_id
        return await self.status()

    async def signal(self, name: str, **payload: Any) -> None:
        """The event as a Signal."""
        payload.setdefault("event_id", f"{name}-{next(self._events)}")
        await self.handle.signal(name, payload)

    async def book(self, appointment_id: str = "APT-1", *, in_hours: int = 72) -> S:
        """An appointment booked for a 4-hour window `in_hours` from now (case time)."""
        start = await self.env.get_current_time() + timedelta(hours=in_hours)
        return await self.send("appointment_scheduled", appointment_id=appointment_id,
                               window_start=start.isoformat(),
                               window_end=(start + timedelta(hours=4)).isoformat())

    async def settle(self, predicate: Callable[[S], bool] | None = None,
                     seconds: float = 30.0) -> S:
        """Wait (real time, no skipping) until `predicate` holds, or the case is quiet. A case
        that another case starts (the system's O&M case a hazard opens) may not exist yet when
        the test first asks: not found is waited on like any unmet condition."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        last = None
        while True:
            try:
                st = await self.status()
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND or loop.time() > end:
                    raise
                await asyncio.sleep(0.1)
                continue
            if predicate is not None and predicate(st):
                return st
            if predicate is None and last is not None and st == last:
                return st
            if loop.time() > end:
                if predicate is None:
                    return st
                raise AssertionError(f"condition not reached; stage={st.stage} "
                                     f"attempts={st.attempts} waiting_for={st.waiting_for}")
            last = st
            await asyncio.sleep(0.1)

    async def stage(self, *stages: str) -> S:
        """Wait until the case is in one of `stages` and has reached its next wait."""
        await self.settle(lambda s: s.stage in stages)
        return await self.settle(lambda s: s.stage in stages
                                 and (s.waiting_for is not None or s.outcome is not None))

    async def fire_next_timer(self) -> S:
        """Skip time to just past the case's next deadline and let the case act on it."""
        st = await self.settle()
        assert st.next_deadline is not None, f"no timer pending in stage {st.stage}"
        now = await self.env.get_current_time()
        await self.env.sleep(max(st.next_deadline - now, timedelta(0)) + timedelta(seconds=1))
        return await self.settle(lambda s: s != st)

    async def until(self, predicate: Callable[[S], bool], max_timers: int = 40) -> S:
        """Fire timers one by one until `predicate` holds."""
        st = await self.settle()
        for _ in range(max_timers):
            if predicate(st):
                return st
            st = await self.fire_next_timer()
        if predicate(st):
            return st
        raise AssertionError(f"not reached after {max_timers} timers: stage={st.stage} "
                             f"attempts={st.attempts}")

    async def result(self) -> S:
        """The run's result (the closed case)."""
        return self.model.model_validate(await self.handle.result())

    async def search_attributes(self) -> dict[str, Any]:
        """The execution's search attributes, by name."""
        client = self.client
        raw = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=self.case_id)))
        fields = raw.workflow_execution_info.search_attributes.indexed_fields
        out: dict[str, Any] = {}
        for name, payload in fields.items():
            value = json.loads(payload.data) if payload.data else None
            if isinstance(value, list):  # how the test server stores an unset value
                value = value[0] if value else None
            if value is None:
                continue
            if name in ("NextDeadline", "StageEnteredAt"):
                value = datetime.fromisoformat(value)
            out[name] = value
        return out

    async def run_status(self, run_id: str | None = None) -> str:
        """The execution status of a run (the latest by default): RUNNING, COMPLETED,
        CONTINUED_AS_NEW, FAILED... (raw describe: the test server's unset datetime search
        attributes do not decode)."""
        raw = await self.client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=self.client.namespace,
                execution=WorkflowExecution(workflow_id=self.case_id, run_id=run_id or "")))
        return WorkflowExecutionStatus(raw.workflow_execution_info.status).name

    async def histories(self) -> list[WorkflowHistory]:
        """Every run of the case, oldest first (continue-as-new makes more than one)."""
        histories = []
        run_id: str | None = (await self.status()).instance
        while run_id:
            handle = self.client.get_workflow_handle(self.case_id, run_id=run_id)
            history = await handle.fetch_history()
            histories.append(history)
            last = history.events[-1]
            attrs = last.workflow_execution_continued_as_new_event_attributes
            run_id = attrs.new_execution_run_id if last.HasField(
                "workflow_execution_continued_as_new_event_attributes") else None
        return histories

    def records(self, kind: str | None = None) -> list[StoredRecord]:
        """Side effects recorded for this case (of one kind, when given)."""
        return [r for r in self.store.records(self.case_id) if kind in (None, r.kind)]

    def notices(self, *templates: str) -> list[StoredRecord]:
        """The messages sent to the homeowner (text, e-mail or letter; the visit part's texts
        too), of these templates when given, oldest first."""
        return [r for r in self.records() if r.kind in ("text", "email", "letter")
                and (not templates or r.payload.get("template") in templates)]

    def keys(self, kind: str | None = None, *, all_instances: bool = False) -> list[str]:
        """The idempotency keys of the recorded side effects, without the case ID and instance
        (of the newest case instance only, unless `all_instances`)."""
        every = self.records()
        if not every:
            return []
        if self.case_id.startswith("inquiry-"):  # keyed by the inquiry alone (spec 2.3)
            return [r.key.split("/", 1)[1] for r in self.records(kind)]
        newest = every[-1].key.split("/")[1] if not all_instances else None
        return [r.key.split("/", 2)[2] for r in self.records(kind)
                if newest is None or r.key.split("/")[1] == newest]


OmDriver = CaseDriver[OmCase]


class CaseHarness:
    """A worker on the test's task queue (every process's workflows and the probe), and cases
    opened on it."""

    def __init__(self, env: WorkflowEnvironment, client: Client, task_queue: str,
                 store: SqliteRecordStore, activities: FieldServiceActivities) -> None:
        self.env = env
        self.client = client
        self.task_queue = task_queue
        self.store = store
        self.activities = activities

    def worker(self, *stand_ins: Callable[..., Any], **options: Any) -> Worker:
        """A worker with the real activities, some replaced by stand-ins of the same name
        (`options`: more `Worker` arguments; the workflow runner is the checked sandbox unless
        `workflow_runner` is given)."""
        names = {getattr(s, "__temporal_activity_definition").name for s in stand_ins}
        acts = [a for a in all_activities(self.activities)
                if getattr(a, "__temporal_activity_definition").name not in names]
        options.setdefault("workflow_runner", workflow_runner("checked"))
        return Worker(self.client, task_queue=self.task_queue,
                      workflows=[*WORKFLOWS, VisitProbeWorkflow, ReminderProbeWorkflow,
                                 StarterProbeWorkflow],
                      activities=[*acts, *stand_ins], **options)

    async def open(self, case: OmCaseInput) -> OmDriver:
        """Open an O&M case as the starter does (signal-with-start of `issue_reported`)."""
        return await self.open_process(OM, case, OmCase)

    async def open_claim(self, claim: DamageClaimInput) -> CaseDriver[DamageClaim]:
        """Open a damage claim as the starter does."""
        return await self.open_process(DAMAGE, claim, DamageClaim)

    async def open_project(self, project: RemovalReinstallInput) -> CaseDriver[RrProject]:
        """Open an R&R project as the starter does."""
        return await self.open_process(RR, project, RrProject)

    def driver(self, case_id: str, model: type[S]) -> CaseDriver[S]:
        """A driver for a case this test did not open (a child a case started)."""
        return CaseDriver(self.env, self.client, self.client.get_workflow_handle(case_id),
                          self.store, model)

    async def open_process(self, process: ProcessSpec, inp: BaseModel,
                           model: type[S]) -> CaseDriver[S]:
        """Open a case of any process through the starter's client."""
        opened = await open_case(self.client, process, inp, self.task_queue,
                                 now=await self.env.get_current_time())
        return CaseDriver(self.env, self.client, self.client.get_workflow_handle(opened.case_id),
                          self.store, model)

    async def start(self, workflow: str, inp: BaseModel, workflow_id: str,
                    model: type[S]) -> CaseDriver[S]:
        """Start a workflow that is not a process (a probe) by type name."""
        handle: WorkflowHandle[Any, Any] = await self.client.start_workflow(
            workflow, inp, id=workflow_id, task_queue=self.task_queue)
        return CaseDriver(self.env, self.client, handle, self.store, model)


def stages(status: CaseState) -> Sequence[str]:
    """The stages a case went through, in order."""
    return [entry.stage for entry in status.stage_history]



class Gated:
    """The real activities, where the ones named in `hold` wait for `release()` before doing
    their work: an activity "in flight" while a test sends events or ops commands. `outage`
    makes notifications fail (a gateway that is down) until it is cleared."""

    def __init__(self, real: FieldServiceActivities, *hold: str) -> None:
        self.real = real
        self.hold = set(hold)
        self.gate = asyncio.Event()
        self.entered: list[str] = []
        self.outage = False

    def release(self) -> None:
        """Let the held activities go on."""
        self.gate.set()

    async def reached(self, what: str, seconds: float = 30.0) -> None:
        """Wait (real time) until a held activity of kind `what` has started: bounded, so a
        case that never gets there fails its test instead of hanging the suite."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while what not in self.entered:
            if loop.time() > end:
                raise AssertionError(f"no {what} started within {seconds:.0f} s "
                                     f"(started: {self.entered})")
            await asyncio.sleep(0.05)

    async def _maybe_hold(self, what: str) -> None:
        if what in self.hold:
            self.entered.append(what)
            await self.gate.wait()

    def stand_ins(self) -> list[Callable[..., Any]]:
        """The stand-ins to pass to `CaseHarness.worker`."""
        real = self.real

        @activity.defn(name="notify_homeowner")
        async def notify_homeowner(req: Notification) -> EffectReceipt:
            await self._maybe_hold(req.channel)
            if self.outage:
                raise RuntimeError("SMS gateway unreachable (simulated outage)")
            return await real.notify_homeowner(req)

        @activity.defn(name="create_crm_record")
        async def create_crm_record(req: CrmRecordRequest) -> EffectReceipt:
            await self._maybe_hold(req.kind)
            return await real.create_crm_record(req)

        @activity.defn(name="request_remote_fix")
        async def request_remote_fix(req: MonitoringRequest) -> EffectReceipt:
            await self._maybe_hold("remote_fix_request")
            return await real.request_remote_fix(req)

        return [notify_homeowner, create_crm_record, request_remote_fix]
