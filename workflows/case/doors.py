"""The two doors of every case event (spec 2): a dynamic Update (validated: a bad event is
rejected, non-retryable, and leaves no trace; it answers once the case acted on the event) and a
dynamic Signal of the same name (durable: a bad event is recorded in `rejected_events`), with
one admission check behind both; and the ops commands (`cancel_case`, `escalate`, `add_note`),
Updates with validators, each recorded in the status. A mixin of `CaseWorkflow`: Temporal finds
the handlers on the workflow class."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from domain.case import (
        MAX_ACCEPTED_EVENTS,
        MAX_OPS,
        MAX_REJECTED_EVENTS,
        MAX_SEEN_EVENT_IDS,
        AcceptedEvent,
        CaseState,
        CaseSummary,
        OpsRecord,
        PendingEvent,
        RejectedEvent,
        keep_last,
    )
    from domain.events import AddNote, CancelCase, Escalate, Event, OpsCommand
    from infra import metric_names
    from workflows.case.admission import (
        Accepted,
        Duplicate,
        EventSpec,
        Rejected,
        admit,
        admit_ops,
        rejection,
        short,
    )
    from workflows.case.endings import Close, Ending
    from workflows.case.visibility import Visibility

CANCELLED = "cancelled"


class CaseDoors:
    """The event and ops handlers of a case workflow, and the bookkeeping of what it accepted."""

    PROCESS: ClassVar[str]
    EVENTS: ClassVar[Mapping[str, EventSpec]]
    case: Any
    view: Visibility
    _interrupt: Ending | None
    _settled_seq: int
    _consumed: set[int]
    _wakes: Callable[[], bool] | None
    _finished: bool
    _v3: bool

    async def on_escalate(self, cmd: Escalate) -> Ending | None:
        """What the ops `escalate` command does (`CaseWorkflow.on_escalate`)."""
        raise NotImplementedError

    def summary(self, event: str = "", event_id: str = "",
                duplicate: bool = False) -> CaseSummary:
        """The compact answer of an Update."""
        c: CaseState = self.case
        return CaseSummary(case_id=c.case_id, process=c.process, stage=c.stage,
                           outcome=c.outcome, waiting_for=c.waiting_for,
                           next_deadline=c.next_deadline, attempts=dict(c.attempts),
                           escalated=c.escalated, hazardous=c.hazardous, event=event,
                           event_id=event_id, duplicate=duplicate)

    def count(self, metric: str, **labels: str) -> None:
        """Add one to a project counter (infra.metric_names); the SDK's workflow meter drops
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
        seq: int = self.case.event_seq
        self._remember(event.event_id)
        self.case.events.append(AcceptedEvent(name=event.EVENT, event_id=event.event_id,
                                              stage=self.case.stage, received_at=workflow.now(),
                                              actor=event.actor))
        self.case.events_total += 1
        keep_last(self.case.events, MAX_ACCEPTED_EVENTS)
        if spec.apply is not None:
            spec.apply(self.case, event)
            self.view.refresh()
        if spec.flow:
            self.case.pending.append(PendingEvent(seq=seq, name=event.EVENT,
                                                  payload=event.model_dump(mode="json")))
        return seq

    def _reject(self, name: str, reason: str, event_id: str | None) -> None:
        self.case.rejected_events.append(RejectedEvent(
            name=short(name), event_id=event_id, reason=reason, received_at=workflow.now()))
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
        admission = admit(self.case, self.EVENTS, self.PROCESS, name, args)
        if isinstance(admission, Rejected):  # the state moved between validator and handler
            raise rejection(admission.reason, invalid=admission.invalid,
                            closed=admission.closed)
        if isinstance(admission, Duplicate):
            return self.summary(name, admission.event_id, duplicate=True)
        seq = self._accept(admission.event)
        self.view.flush()
        wakes_the_flow = self._v3 and self._wakes is not None and self._wakes()
        if self.EVENTS[name].flow or wakes_the_flow:
            # A record event that wakes the flow (it pauses the reminders the flow waits
            # with) is answered, like a flow event, once the flow has moved on (runs
            # recorded before that answered such an event at once).
            await workflow.wait_condition(lambda: self._acted_on(seq))
        return self.summary(name, admission.event.event_id)

    @event_update.validator
    def validate_event_update(self, name: str, args: Sequence[RawValue]) -> None:
        """Reject a malformed, out-of-stage or late event before it reaches history."""
        admission = admit(self.case, self.EVENTS, self.PROCESS, name, args)
        if isinstance(admission, Rejected):
            self._count_rejection(admission, "update")
            raise rejection(admission.reason, invalid=admission.invalid,
                            closed=admission.closed)

    @workflow.signal(dynamic=True)
    def event_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Every process event as a Signal: durable; a bad one is recorded, never fatal."""
        admission = admit(self.case, self.EVENTS, self.PROCESS, name, args)
        if isinstance(admission, Rejected):
            self._count_rejection(admission, "signal")
            self._reject(name, admission.reason, admission.event_id)
            workflow.logger.warning("event rejected", extra={"case_id": self.case.case_id,
                                                            "event": short(name)})
            self.view.refresh()
        elif isinstance(admission, Accepted):
            self._accept(admission.event)
            self.view.flush()

    # ---- ops commands --------------------------------------------------------------------

    def _record_ops(self, command: str, text: str, cmd: OpsCommand | None) -> bool:
        """Record an ops command; False when its `event_id` was seen (a retry)."""
        if cmd is not None and cmd.event_id:
            if cmd.event_id in self.case.seen_event_ids:
                return False
            self._remember(cmd.event_id)
        self.case.ops.append(OpsRecord(command=command, text=text,
                                       actor=cmd.actor if cmd else None,
                                       actor_note=cmd.actor_note if cmd else None,
                                       at=workflow.now()))
        self.case.ops_total += 1
        keep_last(self.case.ops, MAX_OPS)
        return True

    @workflow.update
    async def cancel_case(self, raw: RawValue) -> CaseSummary:
        """Ops `{reason}`: close the case as `cancelled`, whatever it is waiting for."""
        cmd = admit_ops(self.case, CancelCase.EVENT, raw)
        if isinstance(cmd, Duplicate):
            return self.summary(CancelCase.EVENT, cmd.event_id, duplicate=True)
        assert isinstance(cmd, CancelCase)
        if self._record_ops(CancelCase.EVENT, cmd.reason, cmd) and self.case.outcome is None:
            self._interrupt = Close(CANCELLED)
            await workflow.wait_condition(lambda: self._finished)
        return self.summary(CancelCase.EVENT, cmd.event_id)

    @cancel_case.validator
    def _validate_cancel(self, raw: RawValue) -> None:
        admit_ops(self.case, CancelCase.EVENT, raw)

    @workflow.update
    async def escalate(self, raw: RawValue) -> CaseSummary:
        """Ops `{reason}`: escalate the case (to a person, or from the simplified to the
        manual track)."""
        cmd = admit_ops(self.case, Escalate.EVENT, raw)
        if isinstance(cmd, Duplicate):
            return self.summary(Escalate.EVENT, cmd.event_id, duplicate=True)
        assert isinstance(cmd, Escalate)
        if self._record_ops(Escalate.EVENT, cmd.reason, cmd):
            ending = await self.on_escalate(cmd)
            self.view.flush()
            if ending is not None and self._interrupt is None:
                self._interrupt = ending
                await workflow.wait_condition(lambda: self._finished)
        return self.summary(Escalate.EVENT, cmd.event_id)

    @escalate.validator
    def _validate_escalate(self, raw: RawValue) -> None:
        admit_ops(self.case, Escalate.EVENT, raw)

    @workflow.update
    def add_note(self, raw: RawValue) -> CaseSummary:
        """Ops `{text}`: attach a note to the case (closed cases take notes until the run
        ends)."""
        cmd = admit_ops(self.case, AddNote.EVENT, raw)
        if isinstance(cmd, Duplicate):
            return self.summary(AddNote.EVENT, cmd.event_id, duplicate=True)
        assert isinstance(cmd, AddNote)
        self._record_ops(AddNote.EVENT, cmd.text, cmd)
        self.view.refresh()
        return self.summary(AddNote.EVENT, cmd.event_id)

    @add_note.validator
    def _validate_add_note(self, raw: RawValue) -> None:
        admit_ops(self.case, AddNote.EVENT, raw)

