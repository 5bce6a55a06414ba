"""The case base (spec sections 2, 2.1, 2.2): what every case workflow does the same way. Its
parts live in their own modules (admission, endings, visibility, effects, contact, outbox,
reminders, visits, links); this module holds the class every process extends: the two doors of
every event (a dynamic Update and a dynamic Signal, one admission check behind both), the
`status` query and the ops commands, the one way to wait (`wait_for`, with a deadline and
reminder series), the run loop that turns a flow's stage blocks into an ending, closing and
continuing as new, and hazard first.

Accepted "flow" events queue in `case.pending` until the flow asks for them by type; "record"
events are applied at once. An Update answers once the case acted on its event: the flow took
it and reached its next wait (or the event changed nothing the flow waits on)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypedDict, TypeVar, cast

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.effects import FieldServiceActivities
    from domain.case import (
        CaseState,
    )
    from domain.effects import CancelRequest, CloseRecordsRequest
    from domain.events import Escalate, Event
    from domain.homeowner import Homeowner
    from domain.policy import CasePolicy
    from domain.processes import OM, ProcessSpec
    from domain.reminders import Cadence
    from domain.rules.contact_hours import ContactHours
    from infra import metric_names
    from workflows.case.admission import (
        EventSpec,
    )
    from workflows.case.contact import Contact
    from workflows.case.doors import CaseDoors
    from workflows.case.effects import CASE_MANAGER, Effects
    from workflows.case.endings import CaseInterrupted, Close, ContinueAs, Ending
    from workflows.case.links import Links
    from workflows.case.outbox import Outbox
    from workflows.case.reminders import Series
    from workflows.case.visibility import Visibility
    from workflows.case.waits import CaseWaits

S = TypeVar("S", bound=CaseState)
E1 = TypeVar("E1", bound=Event)
E2 = TypeVar("E2", bound=Event)
E3 = TypeVar("E3", bound=Event)

CLOSED = "closed"
CANCELLED = "cancelled"
# Runs started before the base collected its upserts and closed CRM records replay with their
# old command sequence (v2); runs started before the outbox and the continue-as-new of every
# reminder wait replay without them (v3). Every new run records the v3 marker only.
BASE_V2 = "case-base-v2"
BASE_V3 = "case-base-v3"
# `WaitingOn` and `StageEnteredAt` (spec 2): runs recorded before kept neither (their upserts
# are commands, so a replay must not add them).
WAITING_ON = "waiting-on-search-attributes"
# The ops record of a Temporal cancel names who asked and why (runs recorded before: a fixed
# text).
CANCEL_DETAILS = "cancel-request-details"
# Runs of claims and inquiries recorded before spec 2.3 sent a hazard's safety notice and P1
# dispatch themselves; new runs hand the hazard to the system's O&M case.
HAZARD_TO_OM = "hazard-to-om-case"

Block = Callable[[], Awaitable[Ending | None]]


class CaseInput(Protocol):
    """What the base reads of a process's input: its policy, its homeowner and the case
    carried across continue-as-new (every process input has them)."""

    @property
    def policy(self) -> CasePolicy:
        """The case's policy."""
        ...

    @property
    def homeowner(self) -> Homeowner:
        """The homeowner the case is about."""
        ...

    @property
    def carried_case(self) -> CaseState | None:
        """The case of the previous run, after continue-as-new."""
        ...

    def model_copy(self, *, update: dict[str, Any] | None = None,
                   deep: bool = False) -> Any:
        """A copy with fields replaced (pydantic)."""
        ...


class CaseCommon(TypedDict):
    """The fields every new case gets from the base (the process adds its own)."""

    case_id: str
    process: str
    instance: str
    market: str
    time_zone: str | None
    time_zone_source: Any


class CaseWorkflow(CaseDoors, CaseWaits, Generic[S]):
    """Base class of every case workflow. A process sets `PROCESS`, `SPEC` and `EVENTS`, builds
    its case with `init_case`, and runs its flow (`run_stages` of stage blocks) with
    `run_case`; it may override `detail_lines`, `closure_comments`, `on_escalate`,
    `dispatch_fields` and `homeowner`."""

    PROCESS: ClassVar[str]
    SPEC: ClassVar[ProcessSpec]
    EVENTS: ClassVar[Mapping[str, EventSpec]]
    # Who an ops `escalate` goes to when it does not take the case off its path.
    ESCALATE_TO: ClassVar[str] = CASE_MANAGER
    # The O&M case owns a system's hazards (spec 2.3); every other process hands them over.
    OWNS_HAZARDS: ClassVar[bool] = False
    # Idempotency keys name the case instance (one workflow ID serves a system's cases for
    # years); a process whose ID names one business event only (an inquiry) keys by the ID.
    KEYS_NAME_THE_RUN: ClassVar[bool] = True

    inp: Any
    case: S
    hours: ContactHours

    def init_case(self, inp: CaseInput, new_case: Callable[[CaseCommon], S]) -> None:
        """Set up a run from its input: the case carried across continue-as-new (one more run,
        open again, under this workflow's process), or a new one from `new_case` given the
        common fields (ID, instance, market, the homeowner's zone); the policy's holiday
        calendar when it names one; contact hours and the history limit."""
        self.inp = inp
        carried = cast(S | None, inp.carried_case)
        if carried is not None:
            case = carried.model_copy(deep=True)
            case.runs += 1
            case.outcome = None
            case.process = self.PROCESS
        else:
            info = workflow.info()
            where = self.SPEC.time_zone(inp)
            case = new_case(CaseCommon(
                case_id=info.workflow_id, process=self.PROCESS,
                instance=info.first_execution_run_id, market=self.SPEC.market(inp),
                time_zone=where.zone, time_zone_source=where.source))
        policy = inp.policy
        if policy.holidays is not None and case.holidays is None:
            case.holidays = list(policy.holidays)
        self.case = case
        self.hours = policy.contact_hours
        self.max_history_events = policy.continue_as_new_after_events
        self._new_case = carried is None
        self._interrupt: Ending | None = None
        self._settled_seq = case.event_seq
        self._consumed: set[int] = set()
        self._wakes: Callable[[], bool] | None = None
        self._finished = False
        self._closing = False
        self._v2 = self._v3 = True
        self.view = Visibility(case, self.PROCESS, self.detail_lines)
        self.effects = Effects(self)
        self.contact = Contact(self)
        self.outbox = Outbox(self)
        self.links = Links(self)

    # ---- what a process may provide ------------------------------------------------------

    def homeowner(self) -> Homeowner:
        """The homeowner of this case (for notifications, party e-mails and CRM records only)."""
        return cast(Homeowner, self.inp.homeowner)

    def detail_lines(self) -> list[str]:
        """Process-specific lines for the UI's current details (no personal data)."""
        return []

    def closure_comments(self) -> str | None:
        """The comments the case's CRM records are closed with (a follow-up's are required)."""
        return None

    def dispatch_fields(self) -> dict[str, str]:
        """Fields a process adds to its dispatches (the system ID, say)."""
        return {}

    async def on_closed(self, outcome: str) -> None:
        """What a process does once closed, before its last messages go (an R&R project tells
        the cases waiting for it)."""

    async def on_escalate(self, cmd: Escalate) -> Ending | None:
        """What the ops `escalate` command does: an `Ending` takes the case off its path (the
        simplified track continues as the manual one); None means it was handled in place.
        The default sets `Escalated` and gives the case to `ESCALATE_TO`, urgently."""
        n = self.case.bump("ops_escalations")
        self.view.mark(escalated=True)
        await self.effects.assign(self.key("ops", "escalation", n), self.ESCALATE_TO,
                                  f"escalated by operator: {cmd.reason}",
                                  summary=f"assign the escalation to {self.ESCALATE_TO}",
                                  priority="high")
        return None

    def carry_input(self) -> BaseModel:
        """The input of the next run when the case continues as new: this run's input with the
        case carried whole, and the holiday calendar it resolved (so the next run never asks
        again)."""
        policy = self.inp.policy
        if self.case.holidays is not None:
            policy = policy.model_copy(update={"holidays": self.case.holidays})
        return cast(BaseModel,
                    self.inp.model_copy(update={"policy": policy, "carried_case": self.case}))

    # ---- shorthands the flows read with ---------------------------------------------------

    def key(self, *parts: object) -> str:
        """An idempotency key of this case instance (`Effects.key`)."""
        return self.effects.key(*parts)

    def enter_stage(self, stage: str) -> None:
        """Move the case to `stage`; events queued for the old stage that do not fit the new
        one are recorded as not applied."""
        old = self.view.enter_stage(stage)
        if old is None:
            return
        history = self.case.stage_history
        if len(history) >= 2:  # how long the stage it left lasted (not kept across runs)
            workflow.metric_meter().create_histogram_timedelta(
                metric_names.STAGE_DURATION, metric_names.DESCRIPTIONS[metric_names.STAGE_DURATION],
            ).record(history[-1].entered_at - history[-2].entered_at,
                     {"process": self.PROCESS, "stage": old})
        for item in list(self.case.pending):
            spec = self.EVENTS[item.name]
            if spec.stages is not None and stage not in spec.stages:
                self.case.pending.remove(item)
                self._reject(item.name, f"arrived in stage {old!r}; not applied before the case "
                                        f"moved to {stage!r}", item.payload.get("event_id"))
        self.view.refresh()

    def reminder(self, series: str, every: timedelta | Cadence, what: str, key_prefix: str,
                 assignee: str = CASE_MANAGER) -> Series:
        """A durable series that reminds `assignee` it is still waited for (`what`), keyed
        `{key_prefix}/{series}-reminder/{n}` from the series' stored count (for `wait_for`)."""
        async def remind(n: int) -> None:
            await self.effects.assign(self.key(key_prefix, f"{series}-reminder", n), assignee,
                                      f"still waiting for {what}", summary=f"{what} reminder {n}")

        cadence = every if isinstance(every, Cadence) else Cadence(every=every)
        return Series(series, cadence, remind)

    async def business_calendar(self, since: date | None = None) -> list[Any]:
        """The case's holiday list (`Effects.business_calendar`)."""
        return await self.effects.business_calendar(since)

    # ---- status --------------------------------------------------------------------------

    @workflow.query
    def status(self) -> S:
        """The whole case: stage, outcome, history, counters, deadline, rejected events."""
        return self.case

    # ---- lifecycle ------------------------------------------------------------------------

    def start_run(self) -> None:
        """First steps of every run: every search attribute, the details, a log line."""
        self._v3 = workflow.patched(BASE_V3)
        self._v2 = self._v3 or workflow.patched(BASE_V2)
        self.view.batched = self._v2
        self.outbox.queues = self._v3
        self.view.tracks_waiting_on = workflow.patched(WAITING_ON)
        self.view.open_run()
        workflow.logger.info("case run started", extra={"case_id": self.case.case_id,
                                                       "process_type": self.PROCESS})
        if self._new_case:
            self.count(metric_names.CASES_OPENED)

    async def run_case(self, flow: Callable[[], Awaitable[Ending]]) -> S:
        """Run the process's flow to its ending; an ops command, a cancellation requested in
        Temporal (Web UI, `temporal workflow cancel`) or a history grown too long ends it early
        the same way. A closed case stays running until its queued messages are sent or
        dropped."""
        try:
            ending = await flow()
        except CaseInterrupted as exc:
            ending = exc.ending
        except asyncio.CancelledError:
            # Temporal's own cancel is a cancel (spec 2.1): the case closes as `cancelled`,
            # with the search attributes of a closed case, instead of a zombie left open; the
            # ops record names who asked, and why (the request's identity and reason).
            await self._record_temporal_cancel()
            ending = Close(CANCELLED)
        self._interrupt = None
        if isinstance(ending, ContinueAs):
            await self._continue(ending)
            raise AssertionError("continue-as-new returned")  # pragma: no cover
        await self.close(ending.outcome)
        await self.on_closed(ending.outcome)
        await self._send_the_rest()
        await self.finish()
        return self.case

    async def _record_temporal_cancel(self) -> None:
        text, actor = "cancellation requested in Temporal", None
        if workflow.patched(CANCEL_DETAILS):
            details = await self.effects.run(
                FieldServiceActivities.cancel_request_details,
                CancelRequest(key=self.key("cancel-request"), case_id=self.case.case_id,
                              run_id=workflow.info().run_id),
                what="read who cancelled the case", summary="read the cancel request")
            if details is not None:
                actor = details.identity
                if details.reason:
                    text = f"cancellation requested in Temporal: {details.reason}"
        self._record_ops("cancel_case", text, None)
        if actor is not None:
            self.case.ops[-1].actor = actor

    async def run_stages(self, blocks: Mapping[str, Block]) -> Ending:
        """The flow of every process: one block per stage (several stages may share one), run
        for the case's current stage until one returns an ending (a block moves the case on
        with `enter_stage`). A run continued as new resumes at its stage; a new case starts at
        `created`."""
        while True:
            block = blocks.get(self.case.stage)
            if block is None:  # pragma: no cover - a stage this code does not know
                raise AssertionError(f"{self.PROCESS} in unknown stage {self.case.stage!r}")
            ending = await block()
            if ending is not None:
                return ending

    async def close(self, outcome: str) -> None:
        """Close the case with `outcome`: stage, search attributes, and the CRM records the
        case opened, closed with it. A cancelled case drops its queued messages."""
        self._closing = True
        self.case.outcome = outcome
        if outcome == CANCELLED:
            self.outbox.drop_all("the case was cancelled")
        self.enter_stage(CLOSED)
        self.view.closed(outcome)
        self.view.flush()
        workflow.logger.info("case closed", extra={"case_id": self.case.case_id,
                                                  "outcome": outcome})
        self.count(metric_names.CASES_CLOSED, outcome=outcome)
        if self.case.crm_records and self._v2:
            await self.effects.run(
                FieldServiceActivities.close_crm_records,
                CloseRecordsRequest(key=self.key("close-records"), case_id=self.case.case_id,
                                    record_ids=list(self.case.crm_records), outcome=outcome,
                                    comments=self.closure_comments()),
                what="close the case's CRM records", summary=f"close the CRM records ({outcome})")
        self.view.refresh()

    async def _send_the_rest(self) -> None:
        """A closed case's queued messages (a decision told at night goes in the morning); a
        cancellation requested meanwhile drops them."""
        if not self.case.outbox:
            return
        # Closed: it waits on nobody (`none`), only for the messages' contact hours.
        self.view.set_wait("queued messages to the homeowner", None)
        try:
            await self.wait(lambda: not self.case.outbox, deadline=None,
                            summary="wait to send the queued messages")
        except asyncio.CancelledError:
            self.outbox.drop_all("the case was cancelled")
        self.view.set_wait("nothing", None, "none")

    async def finish(self) -> None:
        """Release waiting Update callers and let every handler finish before the run ends."""
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    def history_too_long(self) -> bool:
        """Whether this run should hand over to a fresh one (the server suggests it, or the
        process's own limit on history events is reached)."""
        info = workflow.info()
        return info.is_continue_as_new_suggested() or (
            self.max_history_events is not None
            and info.get_current_history_length() >= self.max_history_events)

    def fresh_history(self) -> ContinueAs:
        """The ending that continues this case as the same workflow with a fresh history."""
        return ContinueAs(workflow.info().workflow_type, reason="fresh history",
                          outcome=None, drain_pending=False, escalate=False,
                          fresh_history=True)

    async def _continue(self, ending: ContinueAs) -> None:
        """End this run and continue the case as `ending.workflow` (raises to do so)."""
        c = self.case
        if ending.fresh_history:
            self.view.flush()
            await self.finish()
            workflow.logger.info("continuing with a fresh history",
                                 extra={"case_id": c.case_id})
            workflow.continue_as_new(args=[self.carry_input()], workflow=ending.workflow)
        if ending.drain_pending:
            for item in c.pending:
                self._reject(item.name, f"not applied: the case continued as {ending.workflow}",
                             item.payload.get("event_id"))
            c.pending.clear()
        if ending.escalate:
            c.escalation_reason = ending.reason
            self.view.mark(escalated=True)
        self._closing = True
        c.outcome = ending.outcome
        self.enter_stage(CLOSED)
        self.view.closed(ending.outcome)
        self.view.flush()
        self.view.refresh()
        await self.finish()
        workflow.continue_as_new(args=[self.carry_input()], workflow=ending.workflow)

    # ---- hazard first ----------------------------------------------------------------------

    def hazard_report(self) -> BaseModel | None:
        """The report that hands this case's hazard to the system's O&M case (spec 2.3); None
        for a process that never hears of one."""
        return None

    async def hazard_first(self) -> None:
        """Spec 2.1 "hazard first", spec 2.3 "one owner for a hazard": the O&M case sends the
        safety notice and the P1 dispatch itself; any other case hands the hazard to the
        system's O&M case (opening or joining it) and goes on with its own job. Runs recorded
        before the hand-over did both themselves and still do."""
        report = None if self.OWNS_HAZARDS else self.hazard_report()
        if report is not None and workflow.patched(HAZARD_TO_OM):
            await self.hand_over_hazard(report)
        else:
            await self.own_hazard()

    async def hand_over_hazard(self, report: BaseModel) -> None:
        """Open or join `om-{system_id}` with the hazard; this case shows that case's ID and
        never sends a safety notice or a dispatch of its own."""
        c = self.case
        c.hazard_handled = True
        self.view.mark(hazardous=True)
        c.hazard_case_id, _ = await self.links.open_or_join(OM, report)
        if c.hazard_case_id is None:
            # The hazard could not be handed over (a failure recorded for a person): safety
            # does not wait for that, the case sends the notice and the dispatch itself.
            await self.own_hazard()
            return
        workflow.logger.info("hazard handed to the O&M case",
                             extra={"case_id": c.case_id, "owner": c.hazard_case_id})
        self.view.refresh()

    async def own_hazard(self) -> None:
        """The owner's part: a safety notice to the homeowner at once (not held for contact
        hours; by text, else e-mail) and the priority (P1) dispatch, before anything else; the
        Hazardous flag. Done once per case, whichever run gets there first."""
        c = self.case
        c.hazard_handled = True
        self.view.mark(hazardous=True)
        ho = self.homeowner()
        if not ho.phone and not ho.email:
            await self.effects.record_failure("safety notice", self.key("safety-notice"),
                                              "no phone or e-mail on file for the safety notice")
        else:
            await self.contact.send("text" if ho.phone else "email", "safety_notice",
                                    self.key("safety-notice"), "safety notice to the homeowner",
                                    contact_hours=False)
        await self.effects.crm_record(self.key("priority-dispatch"), "dispatch",
                                      "create the priority (P1) dispatch", priority="P1",
                                      reason="hazardous situation", **self.dispatch_fields())
