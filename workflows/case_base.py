"""The case base: what every case workflow does the same way (spec section 2).

- Events arrive through two doors, a dynamic Update (validated: a bad event is rejected and
  leaves no trace) and a dynamic Signal of the same name (durable: a bad event is recorded in
  `rejected_events`). One admission check serves both: known name, well-formed payload,
  `event_id` not seen before, fits the current stage.
- Accepted "flow" events queue in `case.pending` until the process's main coroutine consumes
  them with `next_event`; "record" events are applied at once. The Update returns the status
  after the main coroutine has acted on the event.
- `enter_stage` and `set_wait` are the only writers of the stage, the deadline, the search
  attributes and the UI's current details.
- Ops commands (`cancel_case`, `escalate`, `add_note`) are Updates with validators.
- Every wait goes through `wait`, so a cancel interrupts any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from domain.base import as_utc_iso
    from domain.case import (
        AcceptedEvent,
        CaseState,
        OpsRecord,
        PendingEvent,
        RejectedEvent,
        StageEntry,
    )
    from domain.effects import Assignment, Channel, CrmRecordRequest, EffectReceipt, Notification
    from domain.events import AddNote, CancelCase, Escalate, Event
    from domain.homeowner import Homeowner
    from workflows import search_attributes as sa

S = TypeVar("S", bound=CaseState)
E = TypeVar("E", bound=Event)

CLOSED = "closed"
ACTIVITY_TIMEOUT = timedelta(minutes=2)
# Side effects retry for as long as it takes (idempotency makes that safe); the interval caps
# how long an outage of the CRM or SMS gateway delays a case once it is back.
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2),
                             maximum_interval=timedelta(minutes=10))

StageCheck = Callable[[Any, Any], str | None]
Apply = Callable[[Any, Any], None]


@dataclass(frozen=True)
class EventSpec:
    """How a case takes one event: its payload model, the stages it fits (None: any open
    stage), an extra check, and whether it is applied at once (`apply`) or queued for the main
    coroutine (`flow`)."""

    model: type[Event]
    stages: frozenset[str] | None = None
    check: StageCheck | None = None
    apply: Apply | None = None
    flow: bool = True


class CaseInterrupted(Exception):
    """Raised out of a wait when an ops command takes the case off its normal path."""


def describe_validation_error(name: str, exc: ValidationError) -> str:
    """One line naming each bad field, for integrators reading a rejection."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    return f"{name}: " + "; ".join(parts)


def _raw_event_id(args: Sequence[RawValue]) -> str | None:
    """The `event_id` of a payload that failed validation, when it has a usable one, so the
    sender can match the rejection to what it sent."""
    try:
        raw = workflow.payload_converter().from_payload(args[0].payload, dict)
    except Exception:  # noqa: BLE001 - not even a JSON object
        return None
    value = raw.get("event_id") if isinstance(raw, dict) else None
    return value[:200] if isinstance(value, str) and value else None


class CaseWorkflow(Generic[S]):
    """Base class of every case workflow; a process sets `PROCESS`, `EVENTS` and implements
    `flow`."""

    PROCESS: ClassVar[str]
    EVENTS: ClassVar[Mapping[str, EventSpec]]

    case: S
    _interrupt: tuple[str, str] | None
    _settled_seq: int
    _finished: bool

    def _init_base(self, case: S) -> None:
        self.case = case
        self._interrupt = None
        self._settled_seq = case.event_seq
        self._finished = False

    # ---- what a process provides -------------------------------------------------------

    def homeowner(self) -> Homeowner:
        """The homeowner of this case (for notifications only)."""
        raise NotImplementedError

    def detail_lines(self) -> list[str]:
        """Process-specific lines for the UI's current details (no personal data)."""
        return []

    async def on_escalate(self, cmd: Escalate) -> None:
        """What the ops `escalate` command does in this process."""
        raise NotImplementedError

    # ---- status --------------------------------------------------------------------------

    @workflow.query
    def status(self) -> S:
        """The whole case: stage, outcome, history, counters, deadline, rejected events."""
        return self.case

    # ---- events: one admission check, two doors ----------------------------------------

    def _admit(self, name: str, args: Sequence[RawValue]) -> tuple[Event | None, str | None]:
        """(event, None) to accept; (event, None) with a seen id is a duplicate; (None|event,
        reason) to reject."""
        spec = self.EVENTS.get(name)
        if spec is None:
            known = ", ".join(sorted(self.EVENTS))
            return None, f"unknown event {name!r} for {self.PROCESS}; known events: {known}"
        if len(args) != 1:
            return None, f"{name}: expected one JSON object as the argument, got {len(args)}"
        try:
            raw = workflow.payload_converter().from_payload(args[0].payload, dict)
            event = spec.model.model_validate(raw)
        except ValidationError as exc:
            return None, describe_validation_error(name, exc)
        except Exception as exc:  # noqa: BLE001 - undecodable payloads are the sender's error
            return None, f"{name}: payload is not a JSON object ({type(exc).__name__})"
        if event.event_id in self.case.seen_event_ids:
            return event, None
        if self.case.outcome is not None:
            return event, f"{name}: the case is closed (outcome {self.case.outcome})"
        if spec.stages is not None and self.case.stage not in spec.stages:
            allowed = ", ".join(sorted(spec.stages))
            return event, (f"{name} does not fit stage {self.case.stage!r} "
                           f"(accepted in: {allowed})")
        if spec.check is not None:
            reason = spec.check(self.case, event)
            if reason:
                return event, f"{name}: {reason}"
        return event, None

    def _accept(self, name: str, event: Event) -> int:
        spec = self.EVENTS[name]
        self.case.event_seq += 1
        seq = self.case.event_seq
        self.case.seen_event_ids.append(event.event_id)
        self.case.events.append(AcceptedEvent(name=name, event_id=event.event_id,
                                              stage=self.case.stage, received_at=workflow.now()))
        if spec.apply is not None:
            spec.apply(self.case, event)
            self.refresh_details()
        if spec.flow:
            self.case.pending.append(PendingEvent(seq=seq, name=name,
                                                  payload=event.model_dump(mode="json")))
        return seq

    def _acted_on(self, seq: int) -> bool:
        return self._finished or (
            self._settled_seq >= seq and all(p.seq != seq for p in self.case.pending))

    @workflow.update(dynamic=True)
    async def event_update(self, name: str, args: Sequence[RawValue]) -> S:
        """Every process event as an Update: returns the status once the case acted on it."""
        event, reason = self._admit(name, args)
        if reason or event is None:  # the state moved between validator and handler
            raise ApplicationError(reason or f"{name}: rejected", type="EventRejected",
                                   non_retryable=True)
        if event.event_id in self.case.seen_event_ids:
            return self.case
        seq = self._accept(name, event)
        if self.EVENTS[name].flow:
            await workflow.wait_condition(lambda: self._acted_on(seq))
        return self.case

    @event_update.validator
    def validate_event_update(self, name: str, args: Sequence[RawValue]) -> None:
        """Reject a malformed or out-of-stage event before it reaches history."""
        _, reason = self._admit(name, args)
        if reason:
            raise ValueError(reason)

    @workflow.signal(dynamic=True)
    def event_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Every process event as a Signal: durable; a bad one is recorded, never fatal."""
        event, reason = self._admit(name, args)
        if reason:
            self.case.rejected_events.append(RejectedEvent(
                name=name, event_id=event.event_id if event else _raw_event_id(args),
                reason=reason,
                received_at=workflow.now()))
            workflow.logger.warning("event rejected", extra={"case_id": self.case.case_id,
                                                            "event": name})
            self.refresh_details()
            return
        assert event is not None
        if event.event_id not in self.case.seen_event_ids:
            self._accept(name, event)

    async def next_event(
        self, names: set[str], *, timeout: timedelta | None, waiting_for: str,
        summary: str, deadline: datetime | None = None, stop: Callable[[], bool] | None = None,
    ) -> tuple[str, Any] | None:
        """Wait for one of `names` (queued or arriving), up to `timeout`; None on timeout or
        when `stop` becomes true first."""
        if deadline is None and timeout is not None:
            deadline = workflow.now() + timeout
        self.set_wait(waiting_for, deadline)

        def found() -> bool:
            return any(p.name in names for p in self.case.pending)

        ok = await self.wait(lambda: found() or (stop is not None and stop()), timeout=timeout,
                             summary=summary)
        if not ok or not found():
            return None
        item = next(p for p in self.case.pending if p.name in names)
        self.case.pending.remove(item)
        return item.name, self.EVENTS[item.name].model.model_validate(item.payload)

    # ---- waiting --------------------------------------------------------------------------

    def _settle(self) -> None:
        """Mark every event accepted so far as acted on, unless still queued: the main coroutine
        has reached its next wait (or moved stage), so Update callers may read the status."""
        self._settled_seq = self.case.event_seq

    async def wait(self, condition: Callable[[], bool], *, timeout: timedelta | None,
                   summary: str) -> bool:
        """Wait for `condition` or the timeout (False); raises `CaseInterrupted` on ops."""
        self._settle()
        self.refresh_details()
        if timeout is not None and timeout <= timedelta(0):
            return condition()
        try:
            await workflow.wait_condition(
                lambda: condition() or self._interrupt is not None,
                timeout=timeout, timeout_summary=summary)
        except TimeoutError:
            return False
        if self._interrupt is not None:
            raise CaseInterrupted(self._interrupt[1])
        return True

    # ---- stage, deadline, search attributes, details -----------------------------------

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
                self.case.rejected_events.append(RejectedEvent(
                    name=item.name, event_id=item.payload.get("event_id"),
                    reason=f"arrived in stage {old!r}; not applied before the case moved to "
                           f"{stage!r}", received_at=workflow.now()))
        workflow.upsert_search_attributes([sa.CASE_STAGE.value_set(stage),
                                           sa.NEXT_DEADLINE.value_unset()])
        workflow.logger.info("stage entered", extra={"case_id": self.case.case_id,
                                                    "stage": stage})
        self.refresh_details()

    def set_wait(self, waiting_for: str, deadline: datetime | None) -> None:
        """Record what the case waits for and until when (status, search attribute)."""
        self.case.waiting_for = waiting_for
        if deadline != self.case.next_deadline:
            self.case.next_deadline = deadline
            workflow.upsert_search_attributes([
                sa.NEXT_DEADLINE.value_set(deadline) if deadline else sa.NEXT_DEADLINE.value_unset()
            ])
        self.refresh_details()

    def initial_search_attributes(self) -> None:
        """Set every search attribute at the start of a run."""
        c = self.case
        workflow.upsert_search_attributes([
            sa.CASE_ID.value_set(c.case_id), sa.PROCESS_TYPE.value_set(self.PROCESS),
            sa.CASE_STAGE.value_set(c.stage), sa.MARKET.value_set(c.market or "-"),
            sa.ESCALATED.value_set(c.escalated), sa.HAZARDOUS.value_set(c.hazardous),
            # A run continued from an escalated one starts open again.
            sa.CASE_OUTCOME.value_unset(), sa.NEXT_DEADLINE.value_unset(),
        ])

    def mark(self, *, escalated: bool) -> None:
        """Set the Escalated flag in the status and the search attributes."""
        self.case.escalated = escalated
        workflow.upsert_search_attributes([sa.ESCALATED.value_set(escalated)])
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
            f"**Rejected events:** {len(c.rejected_events)}",
            *self.detail_lines(),
        ]
        workflow.set_current_details("\n\n".join(lines))

    async def close(self, outcome: str) -> None:
        """Close the case with `outcome` (the run then ends)."""
        self.case.outcome = outcome
        self.enter_stage(CLOSED)
        workflow.upsert_search_attributes([sa.CASE_OUTCOME.value_set(outcome)])
        workflow.logger.info("case closed", extra={"case_id": self.case.case_id,
                                                  "outcome": outcome})
        self.refresh_details()

    async def finish(self) -> None:
        """Release waiting Update callers and let every handler finish before the run ends."""
        self._finished = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def run_case(self, flow: Callable[[], Any]) -> S:
        """Run the process's flow; an ops cancel anywhere closes the case as `cancelled`."""
        try:
            await flow()
        except CaseInterrupted:
            assert self._interrupt is not None
            kind, _ = self._interrupt
            self._interrupt = None
            if kind == "cancel":
                await self.close("cancelled")
            else:
                await self.on_interrupt(kind)
        await self.finish()
        return self.case

    async def on_interrupt(self, kind: str) -> None:
        """A process hook for interrupts other than cancel (the simplified track's escalate)."""
        raise NotImplementedError(kind)

    # ---- ops commands --------------------------------------------------------------------

    _OPS: ClassVar[dict[str, type[Event]]] = {"cancel_case": CancelCase, "escalate": Escalate,
                                               "add_note": AddNote}

    def _ops_command(self, name: str, raw: dict[str, Any]) -> Any:
        """The ops command's payload as its model. The handlers take plain JSON objects and
        validate here, so a bad payload is rejected naming the field (a typed parameter would
        fail in the SDK's decoding with only "Failed decoding arguments")."""
        try:
            cmd = self._OPS[name].model_validate(raw)
        except ValidationError as exc:
            raise ValueError(describe_validation_error(name, exc)) from None
        seen = bool(cmd.event_id) and cmd.event_id in self.case.seen_event_ids
        if self.case.outcome is not None and not seen and name != "add_note":
            raise ValueError(f"{name}: the case is closed (outcome {self.case.outcome})")
        return cmd

    def _record_ops(self, command: str, text: str, cmd: Event) -> bool:
        """Record an ops command; False when its `event_id` was seen (a retry)."""
        if cmd.event_id:
            if cmd.event_id in self.case.seen_event_ids:
                return False
            self.case.seen_event_ids.append(cmd.event_id)
        self.case.ops.append(OpsRecord(command=command, text=text, actor=cmd.actor,
                                       at=workflow.now()))
        return True

    @workflow.update
    async def cancel_case(self, raw: dict[str, Any]) -> S:
        """Ops `{reason}`: close the case as `cancelled`, whatever it is waiting for."""
        cmd: CancelCase = self._ops_command("cancel_case", raw)
        if self._record_ops("cancel_case", cmd.reason, cmd) and self.case.outcome is None:
            self._interrupt = ("cancel", cmd.reason)
            await workflow.wait_condition(lambda: self._finished)
        return self.case

    @cancel_case.validator
    def _validate_cancel(self, raw: dict[str, Any]) -> None:
        self._ops_command("cancel_case", raw)

    @workflow.update
    async def escalate(self, raw: dict[str, Any]) -> S:
        """Ops `{reason}`: escalate the case (to a person, or from the simplified to the
        manual track)."""
        cmd: Escalate = self._ops_command("escalate", raw)
        if self._record_ops("escalate", cmd.reason, cmd):
            await self.on_escalate(cmd)
        return self.case

    @escalate.validator
    def _validate_escalate(self, raw: dict[str, Any]) -> None:
        self._ops_command("escalate", raw)

    @workflow.update
    def add_note(self, raw: dict[str, Any]) -> S:
        """Ops `{text}`: attach a note to the case."""
        cmd: AddNote = self._ops_command("add_note", raw)
        self._record_ops("add_note", cmd.text, cmd)
        self.refresh_details()
        return self.case

    @add_note.validator
    def _validate_add_note(self, raw: dict[str, Any]) -> None:
        """Notes are accepted in any stage of an open run."""
        self._ops_command("add_note", raw)

    # ---- side effects ----------------------------------------------------------------------

    def key(self, *parts: object) -> str:
        """An idempotency key naming a business action of this case instance: stable across
        retries, replays and continue-as-new, distinct for a later case of the same system."""
        return "/".join([self.case.case_id, self.case.instance, *(str(p) for p in parts)])

    async def _execute(self, activity: str, arg: BaseModel, result: type[Any],
                       summary: str) -> Any:
        return await workflow.execute_activity(
            activity, arg, result_type=result, start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY, summary=summary)

    async def notify(self, key: str, channel: Channel, template: str, summary: str,
                     **params: str) -> EffectReceipt:
        """Send the homeowner a message (or queue a dialer call) once per key."""
        req = Notification(key=key, case_id=self.case.case_id, channel=channel,
                           template=template, recipient=self.homeowner(), params=params)
        receipt: EffectReceipt = await self._execute("notify_homeowner", req, EffectReceipt,
                                                      summary)
        return receipt

    async def assign(self, key: str, assignee: str, reason: str, *, summary: str,
                     person: bool = False, priority: str = "normal") -> EffectReceipt:
        """Assign the case or a task on it once per key."""
        req = Assignment(key=key, case_id=self.case.case_id, assignee=assignee,
                         assignee_type="person" if person else "team", reason=reason,
                         priority=priority)  # type: ignore[arg-type,unused-ignore]
        receipt: EffectReceipt = await self._execute("assign", req, EffectReceipt, summary)
        return receipt

    async def crm_record(self, key: str, kind: str, summary: str,
                         **fields: str) -> EffectReceipt:
        """Create a CRM record once per key."""
        req = CrmRecordRequest(key=key, case_id=self.case.case_id, kind=kind,  # type: ignore[arg-type,unused-ignore]
                               fields=fields)
        receipt: EffectReceipt = await self._execute("create_crm_record", req, EffectReceipt,
                                                      summary)
        return receipt

    async def wait_with_reminders(
        self, names: set[str], *, every: timedelta, waiting_for: str, first_at: datetime | None,
        remind: Callable[[int], Any],
    ) -> tuple[str, Any]:
        """Wait for one of `names` with no end, calling `remind(k)` at `first_at` and then
        every `every` (the "wait, remind on a cadence" mechanics)."""
        k = 0
        due = first_at or workflow.now() + every
        while True:
            got = await self.next_event(names, timeout=due - workflow.now(), deadline=due,
                                        waiting_for=waiting_for,
                                        summary=f"wait for {waiting_for} (reminder {k + 1})")
            if got is not None:
                return got
            k += 1
            await remind(k)
            due = due + every


