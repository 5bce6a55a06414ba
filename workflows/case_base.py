"""The case base: what every case workflow does the same way (spec sections 2 and 2.1).

- **Events** arrive through two doors, a dynamic Update (validated: a bad event is rejected,
  non-retryable, and leaves no trace) and a dynamic Signal of the same name (durable: a bad event
  is recorded in `rejected_events`). One admission check serves both and answers accepted,
  duplicate or rejected; a seen `event_id` is acknowledged before any other check. Accepted
  "flow" events queue in `case.pending` until the process's flow asks for them by type
  (`next_event(RemoteFixResult)`); "record" events are applied at once.
- **Lifecycle**: a process's flow is a straight script that returns how the case ends
  (`Close(outcome)` or `ContinueAs(workflow, ...)`); ops commands and Temporal's own cancel end it
  the same way through `CaseInterrupted`. Closing closes the CRM records the case opened.
- **One writer** of stage, deadline, search attributes and the UI's current details:
  `enter_stage`, `set_wait`, `mark`. Search-attribute changes are collected and written once
  per workflow task (each upsert is a history event).
- **Side effects** go through `effect`: the interrupt check first (once a cancel is accepted no
  side effect starts), then the activity, and the failure policy (spec 2.1): a non-retryable
  failure is recorded in `failures`, assigned to a person, and the case goes on. Homeowner texts
  and calls go through `message_homeowner`: contact hours, a send-by instant, no usable phone.
- **Hazard first** (spec 2.1): `hazard_first` sends the safety notice and the P1 dispatch; a
  case that becomes hazardous while it waits does both before anything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutType,
    WorkflowAlreadyStartedError,
)
from temporalio.exceptions import TimeoutError as ActivityTimeout
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from activities.effects import FieldServiceActivities, resolve_holidays
    from domain import metric_names
    from domain.base import as_utc_iso
    from domain.case import (
        MAX_ACCEPTED_EVENTS,
        MAX_FAILURES,
        MAX_OPS,
        MAX_REJECTED_EVENTS,
        MAX_SEEN_EVENT_IDS,
        AcceptedEvent,
        CaseState,
        CaseSummary,
        Failure,
        OpsRecord,
        PendingEvent,
        RejectedEvent,
        StageEntry,
        keep_last,
    )
    from domain.effects import (
        SEND_WINDOW_CLOSED,
        AssigneeType,
        Assignment,
        Channel,
        CloseRecordsRequest,
        CrmRecordRequest,
        EffectReceipt,
        HolidayRequest,
        Notification,
        PartyContact,
        PartyEmail,
        Priority,
        RecordKind,
    )
    from domain.events import OPS_COMMANDS, AddNote, CancelCase, Escalate, Event, OpsCommand
    from domain.homeowner import Homeowner
    from domain.policy import CasePolicy
    from domain.processes import ProcessSpec
    from domain.reminders import Cadence
    from domain.rules.contact_hours import ContactHours, next_contact_instant, send_by
    from domain.wire import describe_fields
    from workflows import search_attributes as sa
    from workflows.reminders import Series, wait_with_series

S = TypeVar("S", bound=CaseState)
E = TypeVar("E", bound=Event)
A = TypeVar("A", bound=BaseModel)
R = TypeVar("R")

CLOSED = "closed"
CANCELLED = "cancelled"
# Runs started before the base was reworked (one upsert per change, no CRM close) replay with
# their old command sequence; every new run records this marker and takes the new one.
BASE_V2 = "case-base-v2"
CASE_MANAGER = "case_manager"
# CRM record kinds a case closes with itself (spec 2.1).
CLOSED_WITH_CASE = frozenset({"fs_case", "work_order", "dispatch", "claim", "support_case"})
# Side effects are a store write and, when configured, one HTTP delivery (10 s timeout): a
# worker killed mid-activity delays the case by this much, not by minutes.
EFFECT_TIMEOUT = timedelta(seconds=30)
# They retry for as long as it takes (idempotency makes that safe); the interval caps how long
# an outage of the CRM or SMS gateway delays a case once it is back.
EFFECT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2),
                           maximum_interval=timedelta(minutes=10))
# Longest event or stage name quoted back in a rejection (a 950-character name sent 1,200 times
# must not fill the case state).
_NAME_IN_REASON = 80

StageCheck = Callable[[Any, Any], str | None]
Apply = Callable[[Any, Any], None]
Sent = Literal["sent", "skipped", "failed"]


@dataclass(frozen=True)
class EventSpec:
    """How a case takes one event: its payload model (which knows the event's name), the stages
    it fits (None: any open stage), an extra check, and whether it is applied at once (`apply`)
    or queued for the flow (`flow`)."""

    model: type[Event]
    stages: frozenset[str] | None = None
    check: StageCheck | None = None
    apply: Apply | None = None
    flow: bool = True

    @property
    def name(self) -> str:
        """The event's wire name."""
        return self.model.EVENT


def events_table(*specs: EventSpec) -> dict[str, EventSpec]:
    """A process's `EVENTS`, keyed by each event's own name."""
    return {spec.name: spec for spec in specs}


# ---- how a case ends ------------------------------------------------------------------------


@dataclass(frozen=True)
class Close:
    """The case closes with this outcome."""

    outcome: str


@dataclass(frozen=True)
class ContinueAs:
    """This run ends (with `outcome` in its status) and the case continues, under the same
    workflow ID, as `workflow` (the same type for a fresh history, another for a new track).
    Pending events are carried over unless `drain_pending`, which records them as not applied."""

    workflow: str
    reason: str
    outcome: str | None
    drain_pending: bool = True
    escalate: bool = True
    # A fresh history for the same case: the run ends where it stands (stage, pending events,
    # reminder series) and the next run resumes there; nothing is closed or escalated.
    fresh_history: bool = False


Ending = Close | ContinueAs


class CaseInterrupted(Exception):
    """Raised out of a wait or a side effect when an ops command or a cancellation ends the
    case's flow early."""

    def __init__(self, ending: Ending) -> None:
        super().__init__(repr(ending))
        self.ending = ending


class _SendWindowClosed(Exception):
    """A homeowner message was not delivered before its send-by instant."""


# ---- admission --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """The event fits: apply or queue it."""

    event: Event


@dataclass(frozen=True)
class Duplicate:
    """The `event_id` was seen before: acknowledge it and change nothing."""

    event_id: str


@dataclass(frozen=True)
class Rejected:
    """The event does not fit; `reason` says why (for the sender). `invalid`: the payload or
    the name itself is wrong (not the case's state)."""

    reason: str
    event_id: str | None = None
    invalid: bool = False
    closed: bool = False


Admission = Accepted | Duplicate | Rejected


def describe_validation_error(name: str, exc: ValidationError) -> str:
    """One line naming each bad field, for integrators reading a rejection (never the values:
    they may be personal data)."""
    return f"{name}: {describe_fields(exc)}"


def _short(name: str) -> str:
    return name if len(name) <= _NAME_IN_REASON else name[:_NAME_IN_REASON] + "..."


def _raw_object(args: Sequence[RawValue]) -> dict[str, Any] | None:
    """The single JSON-object argument of an event, or None."""
    if len(args) != 1:
        return None
    try:
        raw = workflow.payload_converter().from_payload(args[0].payload, dict)
    except Exception:  # noqa: BLE001 - not a JSON object: the caller says so
        return None
    return raw if isinstance(raw, dict) else None


def _event_id_of(raw: dict[str, Any] | None) -> str | None:
    value = raw.get("event_id") if raw else None
    return value[:200] if isinstance(value, str) and value else None


INVALID_EVENT = "InvalidEvent"
EVENT_REJECTED = "EventRejected"
CASE_CLOSED = "CaseClosed"


def rejection(reason: str, *, invalid: bool = False, closed: bool = False) -> ApplicationError:
    """A permanent rejection (spec 2.1): an integration must not retry it. `InvalidEvent`: the
    payload or name is wrong; `CaseClosed`: the case has an outcome; `EventRejected`: it does
    not fit the case's stage or state."""
    kind = INVALID_EVENT if invalid else CASE_CLOSED if closed else EVENT_REJECTED
    return ApplicationError(reason, type=kind, non_retryable=True)


class CaseInput(Protocol):
    """What the base reads of a process's input: its policy and the case carried across
    continue-as-new (every process input has both)."""

    @property
    def policy(self) -> CasePolicy:
        """The case's policy."""
        ...

    @property
    def carried_case(self) -> CaseState | None:
        """The case of the previous run, after continue-as-new."""
        ...

    def model_copy(self, *, update: dict[str, Any] | None = None,
                   deep: bool = False) -> Any:
        """A copy with fields replaced (pydantic)."""
        ...


class CaseWorkflow(Generic[S]):
    """Base class of every case workflow; a process sets `PROCESS` and `EVENTS`, builds its
    case with `init_case`, implements a flow that returns an `Ending` (and `homeowner` when it
    is not the input's), and calls `run_case(flow)` from its run method."""

    PROCESS: ClassVar[str]
    EVENTS: ClassVar[Mapping[str, EventSpec]]
    # Who an ops `escalate` goes to when it does not take the case off its path.
    ESCALATE_TO: ClassVar[str] = CASE_MANAGER

    inp: Any
    case: S
    hours: ContactHours
    max_history_events: int | None
    _interrupt: Ending | None
    _settled_seq: int
    _finished: bool
    _closing: bool
    _sa_pending: dict[str, SearchAttributeUpdate[Any]]
    _v2: bool

    def _init_base(self, case: S, hours: ContactHours,
                   max_history_events: int | None = None) -> None:
        self.case = case
        self.hours = hours
        self.max_history_events = max_history_events
        self._interrupt = None
        self._settled_seq = case.event_seq
        self._finished = False
        self._closing = False
        self._sa_pending = {}
        self._v2 = True
        self._consumed: set[int] = set()
        self._new_case = False  # a case opened by this run (not one carried over)

    def init_case(self, inp: CaseInput, new_case: Callable[[], S]) -> None:
        """Set up a run from its input: the case carried across continue-as-new (one more run,
        open again, under this workflow's process), or a new one from `new_case`; the policy's
        holiday calendar when it names one; contact hours and the history limit."""
        self.inp = inp
        carried = cast(S | None, inp.carried_case)
        if carried is not None:
            case = carried.model_copy(deep=True)
            case.runs += 1
            case.outcome = None
            case.process = self.PROCESS
        else:
            case = new_case()
        policy = inp.policy
        if policy.holidays is not None and case.holidays is None:
            case.holidays = list(policy.holidays)
        self._init_base(case, policy.contact_hours, policy.continue_as_new_after_events)
        self._new_case = carried is None

    # ---- what a process provides -------------------------------------------------------

    def homeowner(self) -> Homeowner:
        """The homeowner of this case (for notifications, party e-mails and CRM records only):
        the input's `homeowner`, unless a process says otherwise."""
        return cast(Homeowner, self.inp.homeowner)

    def detail_lines(self) -> list[str]:
        """Process-specific lines for the UI's current details (no personal data)."""
        return []

    def closure_comments(self) -> str | None:
        """The comments the case's CRM records are closed with (a follow-up's are required)."""
        return None

    async def on_escalate(self, cmd: Escalate) -> Ending | None:
        """What the ops `escalate` command does: an `Ending` takes the case off its path (the
        simplified track continues as the manual one); None means it was handled in place.
        The default sets `Escalated` and gives the case to `ESCALATE_TO`, urgently."""
        n = self.case.bump("ops_escalations")
        self.mark(escalated=True)
        await self.assign(self.key("ops", "escalation", n), self.ESCALATE_TO,
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

    # ---- status --------------------------------------------------------------------------

    @workflow.query
    def status(self) -> S:
        """The whole case: stage, outcome, history, counters, deadline, rejected events."""
        return self.case

    def summary(self, event: str = "", event_id: str = "",
                duplicate: bool = False) -> CaseSummary:
        """The compact answer of an Update."""
        c = self.case
        return CaseSummary(case_id=c.case_id, process=c.process, stage=c.stage,
                           outcome=c.outcome, waiting_for=c.waiting_for,
                           next_deadline=c.next_deadline, attempts=dict(c.attempts),
                           escalated=c.escalated, hazardous=c.hazardous, event=event,
                           event_id=event_id, duplicate=duplicate)

    # ---- events: one admission check, two doors ----------------------------------------

    def _admit(self, name: str, args: Sequence[RawValue]) -> Admission:
        raw = _raw_object(args)
        event_id = _event_id_of(raw)
        # A retry is acknowledged before anything else: after continue-as-new into a track that
        # does not take this event, or after the case moved on, it is still the same event.
        if event_id is not None and event_id in self.case.seen_event_ids:
            return Duplicate(event_id)
        spec = self.EVENTS.get(name)
        if spec is None:
            known = ", ".join(sorted(self.EVENTS))
            return Rejected(f"unknown event {_short(name)!r} for {self.PROCESS}; known events: "
                            f"{known}", event_id, invalid=True)
        if raw is None:
            return Rejected(f"{name}: expected one JSON object as the argument", event_id,
                            invalid=True)
        try:
            event = spec.model.model_validate(raw)
        except ValidationError as exc:
            return Rejected(describe_validation_error(name, exc), event_id, invalid=True)
        if self.case.outcome is not None:
            return Rejected(f"{name}: the case is closed (outcome {self.case.outcome})", event_id,
                            closed=True)
        if spec.stages is not None and self.case.stage not in spec.stages:
            allowed = ", ".join(sorted(spec.stages))
            return Rejected(f"{name} does not fit stage {self.case.stage!r} "
                            f"(accepted in: {allowed})", event_id)
        if spec.check is not None:
            reason = spec.check(self.case, event)
            if reason:
                return Rejected(f"{name}: {reason}", event_id)
        return Accepted(event)

    def count(self, metric: str, **labels: str) -> None:
        """Add one to a project counter (domain.metric_names); the SDK's workflow meter drops
        it during replay, so a case counts once however often it is replayed."""
        workflow.metric_meter().create_counter(metric, metric_names.DESCRIPTIONS[metric]).add(
            1, {"process": self.PROCESS, **labels})

    def _count_rejection(self, admission: Rejected, via: str) -> None:
        self.count(metric_names.EVENTS_REJECTED, via=via, reason=metric_names.rejection_reason(
            invalid=admission.invalid, closed=admission.closed))

    def _remember(self, event_id: str) -> None:
        self.case.seen_event_ids.append(event_id)
        keep_last(self.case.seen_event_ids, MAX_SEEN_EVENT_IDS)

    def _accept(self, event: Event) -> int:
        spec = self.EVENTS[event.EVENT]
        self.case.event_seq += 1
        seq = self.case.event_seq
        self._remember(event.event_id)
        self.case.events.append(AcceptedEvent(name=event.EVENT, event_id=event.event_id,
                                              stage=self.case.stage, received_at=workflow.now()))
        self.case.events_total += 1
        keep_last(self.case.events, MAX_ACCEPTED_EVENTS)
        if spec.apply is not None:
            spec.apply(self.case, event)
            self.refresh_details()
        if spec.flow:
            self.case.pending.append(PendingEvent(seq=seq, name=event.EVENT,
                                                  payload=event.model_dump(mode="json")))
        return seq

    def _reject(self, name: str, reason: str, event_id: str | None) -> None:
        self.case.rejected_events.append(RejectedEvent(
            name=_short(name), event_id=event_id, reason=reason, received_at=workflow.now()))
        self.case.rejected_total += 1
        keep_last(self.case.rejected_events, MAX_REJECTED_EVENTS)

    def _acted_on(self, seq: int) -> bool:
        """Whether the flow has acted on an accepted event: taken it and reached its next wait
        (or dropped it, or finished), so an Update's answer shows what the event did."""
        return self._finished or (
            self._settled_seq >= seq and seq not in self._consumed
            and all(p.seq != seq for p in self.case.pending))

    @workflow.update(dynamic=True)
    async def event_update(self, name: str, args: Sequence[RawValue]) -> CaseSummary:
        """Every process event as an Update: answers once the case acted on it."""
        admission = self._admit(name, args)
        if isinstance(admission, Rejected):  # the state moved between validator and handler
            raise rejection(admission.reason, invalid=admission.invalid,
                            closed=admission.closed)
        if isinstance(admission, Duplicate):
            return self.summary(name, admission.event_id, duplicate=True)
        seq = self._accept(admission.event)
        self.flush_search_attributes()
        if self.EVENTS[name].flow:
            await workflow.wait_condition(lambda: self._acted_on(seq))
        return self.summary(name, admission.event.event_id)

    @event_update.validator
    def validate_event_update(self, name: str, args: Sequence[RawValue]) -> None:
        """Reject a malformed, out-of-stage or late event before it reaches history."""
        admission = self._admit(name, args)
        if isinstance(admission, Rejected):
            self._count_rejection(admission, "update")
            raise rejection(admission.reason, invalid=admission.invalid,
                            closed=admission.closed)

    @workflow.signal(dynamic=True)
    def event_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Every process event as a Signal: durable; a bad one is recorded, never fatal."""
        admission = self._admit(name, args)
        if isinstance(admission, Rejected):
            self._count_rejection(admission, "signal")
            self._reject(name, admission.reason, admission.event_id)
            workflow.logger.warning("event rejected", extra={"case_id": self.case.case_id,
                                                            "event": _short(name)})
            self.refresh_details()
        elif isinstance(admission, Accepted):
            self._accept(admission.event)
            self.flush_search_attributes()

    async def next_event(
        self, *models: type[Event], deadline: datetime | None, waiting_for: str, summary: str,
        stop: Callable[[], bool] | None = None,
    ) -> Event | None:
        """Wait for an event of one of `models` (queued or arriving) until `deadline` (None: no
        end); None on the deadline, or when `stop` becomes true first."""
        names = {m.EVENT for m in models}
        self.set_wait(waiting_for, deadline)

        def found() -> bool:
            return any(p.name in names for p in self.case.pending)

        ok = await self.wait(lambda: found() or (stop is not None and stop()),
                             deadline=deadline, summary=summary)
        if not ok or not found():
            return None
        item = next(p for p in self.case.pending if p.name in names)
        self.case.pending.remove(item)
        self._consumed.add(item.seq)  # acted on once the flow reaches its next wait
        return self.EVENTS[item.name].model.model_validate(item.payload)

    async def next_of(self, model: type[E], *, deadline: datetime | None, waiting_for: str,
                      summary: str) -> E | None:
        """`next_event` for one event type, typed as that type."""
        got = await self.next_event(model, deadline=deadline, waiting_for=waiting_for,
                                    summary=summary)
        return cast(E, got) if got is not None else None

    # ---- waiting --------------------------------------------------------------------------

    def _settle(self) -> None:
        """Mark every event accepted so far as acted on, unless still queued: the flow has
        reached its next wait, so Update callers may read the status."""
        self._settled_seq = self.case.event_seq
        self._consumed.clear()

    def _hazard_due(self) -> bool:
        return self.case.hazardous and not self.case.hazard_handled and not self._closing

    def _check_interrupt(self) -> None:
        if self._interrupt is not None and not self._closing:
            raise CaseInterrupted(self._interrupt)

    async def wait(self, condition: Callable[[], bool], *, deadline: datetime | None,
                   summary: str) -> bool:
        """Wait for `condition` until `deadline` (False then); raises `CaseInterrupted` when an
        ops command or a cancellation ends the flow; a case that turned hazardous gets its
        safety notice and P1 dispatch first, then goes on waiting.

        A deadline that has passed when the case wakes wins over an event that arrived in the
        same workflow task: the decision then does not depend on whether the timer or the event
        was applied first (they can come in one activation on replay and in two live)."""
        while True:
            self._check_interrupt()
            if self._hazard_due():
                await self.hazard_first()
                continue
            self._settle()
            self.refresh_details()
            self.flush_search_attributes()
            if deadline is not None and deadline <= workflow.now():
                return condition()
            timeout = deadline - workflow.now() if deadline is not None else None
            try:
                await workflow.wait_condition(
                    lambda: condition() or self._interrupt is not None or self._hazard_due(),
                    timeout=timeout, timeout_summary=summary)
            except TimeoutError:
                return False
            self._check_interrupt()
            if self._hazard_due():
                continue
            if deadline is not None and workflow.now() >= deadline:
                return False
            return True

    # ---- stage, deadline, search attributes, details -----------------------------------

    def _set_sa(self, *updates: SearchAttributeUpdate[Any]) -> None:
        for update in updates:
            self._sa_pending[update.key.name] = update
        if not self._v2:
            self.flush_search_attributes()

    def flush_search_attributes(self) -> None:
        """Write the search-attribute changes collected since the last write, in one upsert
        (one history event per workflow task instead of one per change)."""
        if self._sa_pending:
            workflow.upsert_search_attributes(list(self._sa_pending.values()))
            self._sa_pending = {}

    def enter_stage(self, stage: str) -> None:
        """Move the case to `stage`: history, search attributes, details; events queued for the
        old stage that do not fit the new one are recorded as not applied."""
        if self.case.stage == stage:
            return
        old = self.case.stage
        self.case.stage = stage
        self.case.stage_history.append(StageEntry(stage=stage, entered_at=workflow.now()))
        self.case.next_deadline = None
        self.case.waiting_for = None
        for item in list(self.case.pending):
            spec = self.EVENTS[item.name]
            if spec.stages is not None and stage not in spec.stages:
                self.case.pending.remove(item)
                self._reject(item.name, f"arrived in stage {old!r}; not applied before the case "
                                        f"moved to {stage!r}", item.payload.get("event_id"))
        self._set_sa(sa.CASE_STAGE.value_set(stage), sa.NEXT_DEADLINE.value_unset())
        workflow.logger.info("stage entered", extra={"case_id": self.case.case_id,
                                                    "stage": stage})
        self.refresh_details()

    def set_wait(self, waiting_for: str, deadline: datetime | None) -> None:
        """Record what the case waits for and until when (status, search attribute)."""
        self.case.waiting_for = waiting_for
        if deadline != self.case.next_deadline:
            self.case.next_deadline = deadline
            self._set_sa(sa.NEXT_DEADLINE.value_set(deadline) if deadline
                         else sa.NEXT_DEADLINE.value_unset())
        self.refresh_details()

    def start_run(self) -> None:
        """First steps of every run: every search attribute, the details, a log line."""
        c = self.case
        self._v2 = workflow.patched(BASE_V2)
        self._set_sa(
            sa.CASE_ID.value_set(c.case_id), sa.PROCESS_TYPE.value_set(self.PROCESS),
            sa.CASE_STAGE.value_set(c.stage), sa.MARKET.value_set(c.market or "-"),
            sa.ESCALATED.value_set(c.escalated), sa.HAZARDOUS.value_set(c.hazardous),
            # A run continued from an escalated one starts open again.
            sa.CASE_OUTCOME.value_unset(), sa.NEXT_DEADLINE.value_unset(),
        )
        self.refresh_details()
        workflow.logger.info("case run started", extra={"case_id": c.case_id,
                                                       "process_type": self.PROCESS})
        if self._new_case:
            self.count(metric_names.CASES_OPENED)

    def mark(self, *, escalated: bool | None = None, hazardous: bool | None = None) -> None:
        """Set the Escalated / Hazardous flags in the status and the search attributes."""
        if escalated is not None:
            self.case.escalated = escalated
            self._set_sa(sa.ESCALATED.value_set(escalated))
        if hazardous is not None:
            self.case.hazardous = hazardous
            self._set_sa(sa.HAZARDOUS.value_set(hazardous))
        self.refresh_details()

    def refresh_details(self) -> None:
        """The Temporal UI's current details: stage, counters, deadline, what the case waits
        for. No personal data."""
        c = self.case
        counters = ", ".join(f"{k} {v}" for k, v in sorted(c.attempts.items())) or "none"
        lines = [
            f"**Stage:** {c.stage}" + (f" — **outcome:** {c.outcome}" if c.outcome else ""),
            f"**Waiting for:** {c.waiting_for or '-'}",
            f"**Next deadline:** {as_utc_iso(c.next_deadline)}",
            f"**Counters:** {counters}",
            f"**Flags:** escalated={c.escalated}, hazardous={c.hazardous}",
            f"**Rejected events:** {c.rejected_total}",
        ]
        if c.failures:
            lines.append(f"**Failed side effects:** {len(c.failures)} "
                         f"(last: {c.failures[-1].effect}: {c.failures[-1].reason})")
        workflow.set_current_details("\n\n".join([*lines, *self.detail_lines()]))

    # ---- lifecycle ------------------------------------------------------------------------

    async def run_case(self, flow: Callable[[], Awaitable[Ending]]) -> S:
        """Run the process's flow to its ending; an ops command, or a cancellation requested
        in Temporal (Web UI, `temporal workflow cancel`), ends it early the same way."""
        try:
            ending = await flow()
        except CaseInterrupted as exc:
            ending = exc.ending
        except asyncio.CancelledError:
            # Temporal's own cancel is a cancel (spec 2.1): the case closes as `cancelled`,
            # with the search attributes of a closed case, instead of a zombie left open.
            self._record_ops("cancel_case", "cancellation requested in Temporal", None)
            ending = Close(CANCELLED)
        self._interrupt = None
        if isinstance(ending, ContinueAs):
            await self._continue(ending)
            raise AssertionError("continue-as-new returned")  # pragma: no cover
        await self.close(ending.outcome)
        await self.finish()
        return self.case

    async def run_stages(self, steps: Mapping[str, Callable[[], Awaitable[Ending | None]]],
                         ) -> Ending:
        """A flow written as one step per stage: run the step of the case's current stage
        until one returns an ending (a step moves the case on with `enter_stage`). A run
        continued for a fresh history resumes at its stage; a new case starts at `created`."""
        while True:
            stage = self.case.stage
            step = steps.get(stage)
            if step is None:  # pragma: no cover - a stage this code does not know
                raise AssertionError(f"{self.PROCESS} in unknown stage {stage!r}")
            ending = await step()
            if ending is not None:
                return ending

    async def close(self, outcome: str) -> None:
        """Close the case with `outcome`: stage, search attributes, and the CRM records the
        case opened, closed with it."""
        self._closing = True
        self.case.outcome = outcome
        self.enter_stage(CLOSED)
        self._set_sa(sa.CASE_OUTCOME.value_set(outcome))
        self.flush_search_attributes()
        workflow.logger.info("case closed", extra={"case_id": self.case.case_id,
                                                  "outcome": outcome})
        self.count(metric_names.CASES_CLOSED, outcome=outcome)
        if self.case.crm_records and self._v2:
            await self.effect(
                FieldServiceActivities.close_crm_records,
                CloseRecordsRequest(key=self.key("close-records"), case_id=self.case.case_id,
                                    record_ids=list(self.case.crm_records), outcome=outcome,
                                    comments=self.closure_comments()),
                what="close the case's CRM records", summary=f"close the CRM records ({outcome})")
        self.refresh_details()

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
            self.flush_search_attributes()
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
            self.mark(escalated=True)
        self._closing = True
        c.outcome = ending.outcome
        self.enter_stage(CLOSED)
        if ending.outcome is not None:
            self._set_sa(sa.CASE_OUTCOME.value_set(ending.outcome))
        self.flush_search_attributes()
        self.refresh_details()
        await self.finish()
        workflow.continue_as_new(args=[self.carry_input()], workflow=ending.workflow)

    # ---- ops commands --------------------------------------------------------------------

    def _ops_command(self, name: str, raw: RawValue) -> OpsCommand | Duplicate:
        """The ops command's payload as its model, or `Duplicate` for a retry; a bad one is
        rejected naming the field (the handlers take the raw payload, so a list or a non-JSON
        body is not "Failed decoding arguments")."""
        obj = _raw_object([raw])
        if obj is None:
            raise rejection(f"{name}: expected one JSON object as the argument", invalid=True)
        event_id = _event_id_of(obj)
        if event_id is not None and event_id in self.case.seen_event_ids:
            return Duplicate(event_id)
        try:
            cmd = OPS_COMMANDS[name].model_validate(obj)
        except ValidationError as exc:
            raise rejection(describe_validation_error(name, exc), invalid=True) from None
        if self.case.outcome is not None and name != AddNote.EVENT:
            raise rejection(f"{name}: the case is closed (outcome {self.case.outcome})",
                            closed=True)
        return cmd

    def _record_ops(self, command: str, text: str, cmd: OpsCommand | None) -> bool:
        """Record an ops command; False when its `event_id` was seen (a retry)."""
        if cmd is not None and cmd.event_id:
            if cmd.event_id in self.case.seen_event_ids:
                return False
            self._remember(cmd.event_id)
        self.case.ops.append(OpsRecord(command=command, text=text,
                                       actor=cmd.actor if cmd else None, at=workflow.now()))
        self.case.ops_total += 1
        keep_last(self.case.ops, MAX_OPS)
        return True

    @workflow.update
    async def cancel_case(self, raw: RawValue) -> CaseSummary:
        """Ops `{reason}`: close the case as `cancelled`, whatever it is waiting for."""
        cmd = self._ops_command(CancelCase.EVENT, raw)
        if isinstance(cmd, Duplicate):
            return self.summary(CancelCase.EVENT, cmd.event_id, duplicate=True)
        assert isinstance(cmd, CancelCase)
        if self._record_ops(CancelCase.EVENT, cmd.reason, cmd) and self.case.outcome is None:
            self._interrupt = Close(CANCELLED)
            await workflow.wait_condition(lambda: self._finished)
        return self.summary(CancelCase.EVENT, cmd.event_id)

    @cancel_case.validator
    def _validate_cancel(self, raw: RawValue) -> None:
        self._ops_command(CancelCase.EVENT, raw)

    @workflow.update
    async def escalate(self, raw: RawValue) -> CaseSummary:
        """Ops `{reason}`: escalate the case (to a person, or from the simplified to the
        manual track)."""
        cmd = self._ops_command(Escalate.EVENT, raw)
        if isinstance(cmd, Duplicate):
            return self.summary(Escalate.EVENT, cmd.event_id, duplicate=True)
        assert isinstance(cmd, Escalate)
        if self._record_ops(Escalate.EVENT, cmd.reason, cmd):
            ending = await self.on_escalate(cmd)
            self.flush_search_attributes()
            if ending is not None and self._interrupt is None:
                self._interrupt = ending
                await workflow.wait_condition(lambda: self._finished)
        return self.summary(Escalate.EVENT, cmd.event_id)

    @escalate.validator
    def _validate_escalate(self, raw: RawValue) -> None:
        self._ops_command(Escalate.EVENT, raw)

    @workflow.update
    def add_note(self, raw: RawValue) -> CaseSummary:
        """Ops `{text}`: attach a note to the case (closed cases take notes until the run
        ends)."""
        cmd = self._ops_command(AddNote.EVENT, raw)
        if isinstance(cmd, Duplicate):
            return self.summary(AddNote.EVENT, cmd.event_id, duplicate=True)
        assert isinstance(cmd, AddNote)
        self._record_ops(AddNote.EVENT, cmd.text, cmd)
        self.refresh_details()
        return self.summary(AddNote.EVENT, cmd.event_id)

    @add_note.validator
    def _validate_add_note(self, raw: RawValue) -> None:
        self._ops_command(AddNote.EVENT, raw)

    # ---- side effects ----------------------------------------------------------------------

    def key(self, *parts: object) -> str:
        """An idempotency key naming a business action of this case instance: stable across
        retries, replays and continue-as-new, distinct for a later case of the same system."""
        return "/".join([self.case.case_id, self.case.instance, *(str(p) for p in parts)])

    async def effect(
        self, activity: Callable[[FieldServiceActivities, A], Awaitable[R]], arg: A, *,
        what: str, summary: str, send_by_at: datetime | None = None,
    ) -> R | None:
        """Run a side-effect activity. Returns None when it failed for good: the failure is
        recorded in the status and assigned to the case manager, and the case goes on (spec
        2.1: no business data fails a case)."""
        self._check_interrupt()
        self.flush_search_attributes()
        try:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=EFFECT_TIMEOUT, retry_policy=EFFECT_RETRY,
                schedule_to_close_timeout=(send_by_at - workflow.now()) if send_by_at else None,
                summary=summary)
        except ActivityError as err:
            cause = err.cause
            if send_by_at is not None and (
                    err.retry_state == RetryState.TIMEOUT
                    or (isinstance(cause, ApplicationError) and cause.type == SEND_WINDOW_CLOSED)
                    or (isinstance(cause, ActivityTimeout)
                        and cause.type == TimeoutType.SCHEDULE_TO_CLOSE)):
                raise _SendWindowClosed() from None
            # Non-retryable (business data the receiving system refuses for good), or spent
            # retries: recorded and given to a person; the case itself never fails on it.
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            await self.record_failure(what, getattr(arg, "key", ""), reason,
                                      assign=activity is not FieldServiceActivities.assign)
            return None

    async def record_failure(self, what: str, key: str, reason: str, *,
                             assign: bool = True) -> None:
        """Record a side effect that failed for good and give it to the case manager."""
        failure = Failure(effect=what, key=key, reason=reason[:500], at=workflow.now(),
                          assigned_to=CASE_MANAGER if assign else None)
        self.case.failures.append(failure)
        keep_last(self.case.failures, MAX_FAILURES)
        workflow.logger.warning("side effect failed for good",
                                extra={"case_id": self.case.case_id, "key": key})
        self.refresh_details()
        # The key comes from a stored counter: the list itself is capped and would repeat.
        n = self.case.bump("failed_side_effects")
        if assign:
            await self.assign(self.key("failure", n), CASE_MANAGER,
                              f"{what} failed: {failure.reason}", summary=f"assign: {what} failed",
                              priority="high")

    async def message_homeowner(
        self, channel: Channel, template: str, key: str, summary: str, *,
        contact_hours: bool = True, unless: Callable[[], bool] | None = None, **params: str,
    ) -> Sent:
        """Send the homeowner a message (or queue a dialer call) once per key.

        Texts and calls go out inside contact hours with a send-by instant (the end of the
        opening); one not delivered by then waits for the next opening and is tried again under
        the same key (spec 2.1). `contact_hours=False` is for safety notices. A text or call
        with no phone on file is not attempted: the failure policy records it. `unless`: stop
        waiting and skip the message when it becomes true (say, the homeowner booked)."""
        return await self._send_to_homeowner(channel, template, key, summary, params,
                                             contact_hours=contact_hours, unless=unless)

    async def _send_to_homeowner(
        self, channel: Channel, template: str, key: str, summary: str, params: dict[str, str],
        *, contact_hours: bool = True, unless: Callable[[], bool] | None = None,
        private: Mapping[str, str] | None = None,
    ) -> Sent:
        # The template's params arrive as one dict here (the public methods take them as
        # keywords beside their own options, which a typed signature cannot mix with `private`).
        phone_needed = channel in ("text", "call_task")
        if phone_needed and not self.homeowner().phone:
            await self.record_failure(f"{channel} {template}", key,
                                      "no usable phone: the homeowner has no phone on file")
            return "failed"
        not_before = workflow.now()
        while True:
            send_by_at = None
            if phone_needed and contact_hours:
                opening = next_contact_instant(max(workflow.now(), not_before),
                                               self.case.time_zone, self.hours)
                if opening > workflow.now():
                    self.set_wait(f"contact hours for {summary}", opening)
                    if await self.wait(unless or (lambda: False), deadline=opening,
                                       summary=f"wait for contact hours: {summary}"):
                        return "skipped"
                send_by_at = send_by(workflow.now(), self.case.time_zone, self.hours)
            if unless is not None and unless():
                return "skipped"
            req = Notification(key=key, case_id=self.case.case_id, channel=channel,
                               template=template, recipient=self.homeowner(), params=params,
                               private=dict(private or {}), send_by=send_by_at)
            try:
                receipt = await self.effect(FieldServiceActivities.notify_homeowner, req,
                                            what=f"{channel} {template}", summary=summary,
                                            send_by_at=send_by_at)
            except _SendWindowClosed:
                # Not delivered in this opening: the next one, never later tonight.
                self.case.bump("sends_deferred")
                not_before = send_by_at or workflow.now()
                continue
            return "sent" if receipt is not None else "failed"

    async def tell_homeowner(self, template: str, key: str, summary: str, *,
                             private: Mapping[str, str] | None = None, **params: str) -> Sent:
        """Tell the homeowner of a decision or a milestone: by e-mail when one is on file
        (e-mail is not held to contact hours), else by text inside contact hours. `private`:
        text filled into the message but never stored (closure comments)."""
        channel: Channel = "email" if self.homeowner().email else "text"
        return await self._send_to_homeowner(channel, template, key, summary, params,
                                             private=private)

    async def assign(self, key: str, assignee: str, reason: str, *, summary: str,
                     person: bool = False, priority: Priority = "normal") -> bool:
        """Assign the case or a task on it once per key; False when that failed for good."""
        assignee_type: AssigneeType = "person" if person else "team"
        req = Assignment(key=key, case_id=self.case.case_id, assignee=assignee,
                         assignee_type=assignee_type, reason=reason, priority=priority)
        return await self.effect(FieldServiceActivities.assign, req, what=f"assign {assignee}",
                                 summary=summary) is not None

    async def crm_record(self, key: str, kind: RecordKind, summary: str,
                         close_with_case: bool | None = None, /,
                         **fields: str) -> EffectReceipt | None:
        """Create a CRM record once per key. FS cases, work orders, dispatches and claims are
        closed with the case (`close_with_case` overrides: an R&R project closes its own
        project record; a project a case starts for others outlives it)."""
        return await self._crm(CrmRecordRequest(key=key, case_id=self.case.case_id, kind=kind,
                                                fields=fields), summary, close_with_case)

    async def crm_record_about_homeowner(self, key: str, kind: RecordKind, summary: str, *,
                                         fields: Mapping[str, str],
                                         private: Mapping[str, str] | None = None,
                                         template: str | None = None,
                                         ) -> EffectReceipt | None:
        """`crm_record` for a record that holds the homeowner's details (a support case with
        name and address) and private text (a description), and may carry a named template's
        text (a referral comment): all go to the CRM, not to the record store."""
        return await self._crm(CrmRecordRequest(
            key=key, case_id=self.case.case_id, kind=kind, fields=dict(fields),
            contact=self.homeowner(), private=dict(private or {}), template=template),
            summary, None)

    async def _crm(self, req: CrmRecordRequest, summary: str,
                   close_with_case: bool | None) -> EffectReceipt | None:
        kind = req.kind
        receipt = await self.effect(FieldServiceActivities.create_crm_record, req,
                                    what=f"create {kind}", summary=summary)
        closes = close_with_case if close_with_case is not None else kind in CLOSED_WITH_CASE
        if (receipt is not None and closes
                and receipt.record_id not in self.case.crm_records):
            self.case.crm_records.append(receipt.record_id)
        return receipt

    async def hazard_first(self) -> None:
        """Spec 2.1 "hazard first": a safety notice to the homeowner at once (not held for
        contact hours; by text, else e-mail) and the priority (P1) dispatch, before anything
        else; the Hazardous flag. Done once per case, whichever run gets there first."""
        c = self.case
        c.hazard_handled = True
        self.mark(hazardous=True)
        ho = self.homeowner()
        channel: Channel = "text" if ho.phone else "email"
        if channel == "email" and not ho.email:
            await self.record_failure("safety notice", self.key("safety-notice"),
                                      "no phone or e-mail on file for the safety notice")
        else:
            await self.message_homeowner(channel, "safety_notice", self.key("safety-notice"),
                                         "safety notice to the homeowner", contact_hours=False)
        await self.crm_record(self.key("priority-dispatch"), "dispatch",
                              "create the priority (P1) dispatch", priority="P1",
                              reason="hazardous situation", **self.dispatch_fields())

    async def business_calendar(self) -> list[date]:
        """The case's holiday list: from the policy, or resolved once by an activity when
        business days are first needed (a case that never counts business days never asks),
        then kept in the case so a replay after a library upgrade sees the same calendar."""
        if self.case.holidays is None:
            self._check_interrupt()
            year = workflow.now().year
            cal = await workflow.execute_activity(
                resolve_holidays, HolidayRequest(years=list(range(year, year + 3))),
                start_to_close_timeout=EFFECT_TIMEOUT, retry_policy=EFFECT_RETRY,
                summary="resolve the US federal holiday calendar")
            self.case.holidays = cal.holidays
        return self.case.holidays

    async def start_case(self, process: ProcessSpec, inp: BaseModel, *,
                         outlive: bool = True) -> str:
        """Start another process's case by its workflow ID (a claim's R&R project, an inquiry's
        O&M case), as a child that outlives this case when `outlive` (spec: the project runs on
        after the claim closes). A case already open under that ID is joined with the
        process's join event instead of duplicated. Returns the case's workflow ID."""
        case_id, _ = await self.open_or_join(process, inp, outlive=outlive)
        return case_id

    async def open_or_join(self, process: ProcessSpec, inp: BaseModel, *,
                           outlive: bool = True) -> tuple[str, bool]:
        """`start_case`, also saying whether an open case was joined (True) rather than
        started."""
        case_id = process.workflow_id(inp)
        self._check_interrupt()
        self.flush_search_attributes()
        joined = False
        try:
            await workflow.start_child_workflow(
                process.start_type(inp), inp, id=case_id, static_summary=process.summary(inp),
                parent_close_policy=(ParentClosePolicy.ABANDON if outlive
                                     else ParentClosePolicy.TERMINATE))
        except WorkflowAlreadyStartedError:
            joined = True
            if process.join_event is not None:
                name, payload = process.join_event(inp)
                await workflow.get_external_workflow_handle(case_id).signal(name, payload)
        workflow.logger.info("case joined" if joined else "case started",
                             extra={"case_id": self.case.case_id, "process_type": process.name})
        return case_id, joined

    def reminder_series(self, series: str, every: timedelta | Cadence, what: str,
                        key_prefix: str, assignee: str = CASE_MANAGER) -> Series:
        """A durable series that reminds `assignee` it is still waited for (`what`), keyed
        `{key_prefix}/{series}-reminder/{n}` from the series' stored count."""
        async def remind(n: int) -> None:
            await self.assign(self.key(key_prefix, f"{series}-reminder", n), assignee,
                              f"still waiting for {what}", summary=f"{what} reminder {n}")

        cadence = every if isinstance(every, Cadence) else Cadence(every=every)
        return Series(series, cadence, remind)

    async def wait_reminding(self, model: type[Event], *more: type[Event], what: str,
                             series: str, every: timedelta | Cadence, key_prefix: str,
                             assignee: str = CASE_MANAGER) -> Event | None:
        """Wait for a person or a party (`what`), reminding `assignee` on a cadence of `every`
        (a duration, or a business-day `Cadence`) on the durable reminder piece; None when the
        history has grown long enough to continue as new (the series carries over, and the
        next run waits on)."""
        return await wait_with_series(
            self, model, *more, waiting_for=what, until=self.history_too_long,
            series=[self.reminder_series(series, every, what, key_prefix, assignee)])

    async def email_party(self, template: str, key: str, summary: str, to: PartyContact, *,
                          cc_homeowner: bool, private: Mapping[str, str] | None = None,
                          **params: str) -> bool:
        """E-mail a third party (installer, Omnidian, GTR) once per key with a named template
        about this case's homeowner; False when it failed for good (recorded, assigned)."""
        req = PartyEmail(key=key, case_id=self.case.case_id, template=template, to=to,
                         about=self.homeowner(), cc_homeowner=cc_homeowner, params=params,
                         private=dict(private or {}))
        return await self.effect(FieldServiceActivities.email_party, req,
                                 what=f"e-mail {to.role} {template}",
                                 summary=summary) is not None

    def dispatch_fields(self) -> dict[str, str]:
        """Fields a process adds to its dispatches (the system ID, say)."""
        return {}
