"""How a case waits (spec 2, 2.1, 2.2): `wait_for`, the one door of every flow, for an event of
given types (typed as them), until a deadline, with reminder series; and underneath it `wait`,
the only place a case blocks, which meanwhile does hazard first, sends queued homeowner
messages when their opening comes, keeps the deadline operators see, and lets Update callers
read the status once the flow has acted on their event. A mixin of `CaseWorkflow`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar, overload

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.case import WaitingOn
    from domain.events import Event
    from workflows.case.admission import EventSpec
    from workflows.case.endings import CaseInterrupted, ContinueAs, Ending
    from workflows.case.outbox import Outbox
    from workflows.case.reminders import Series, wait_with_series
    from workflows.case.visibility import Visibility

E1 = TypeVar("E1", bound=Event)
E2 = TypeVar("E2", bound=Event)
E3 = TypeVar("E3", bound=Event)


class CaseWaits:
    """The waits of a case workflow."""

    case: Any
    view: Visibility
    outbox: Outbox
    EVENTS: ClassVar[Mapping[str, EventSpec]]
    _interrupt: Ending | None
    _closing: bool
    _settled_seq: int
    _consumed: set[int]
    _wakes: Callable[[], bool] | None
    _v3: bool

    hazard_first: Callable[[], Awaitable[None]]
    history_too_long: Callable[[], bool]
    fresh_history: Callable[[], ContinueAs]

    async def business_calendar(self, since: date | None = None) -> list[date]:
        """The case's holiday list (`CaseWorkflow.business_calendar`)."""
        raise NotImplementedError

    @overload
    async def wait_for(self, m1: type[E1], /, *, waiting_for: str, waiting_on: WaitingOn,
                       summary: str | None = None,
                       deadline: None = None, reminders: Sequence[Series] = (),
                       stop: None = None) -> E1: ...

    @overload
    async def wait_for(self, m1: type[E1], m2: type[E2], /, *, waiting_for: str,
                       waiting_on: WaitingOn, summary: str | None = None, deadline: None = None,
                       reminders: Sequence[Series] = (), stop: None = None) -> E1 | E2: ...

    @overload
    async def wait_for(self, m1: type[E1], m2: type[E2], m3: type[E3], /,
                       *, waiting_for: str, waiting_on: WaitingOn,
                       summary: str | None = None, deadline: None = None,
                       reminders: Sequence[Series] = (), stop: None = None) -> E1 | E2 | E3: ...

    @overload
    async def wait_for(self, m1: type[E1], /, *, waiting_for: str, waiting_on: WaitingOn,
                       summary: str | None = None,
                       deadline: datetime | None = None, reminders: Sequence[Series] = (),
                       stop: Callable[[], bool] | None = None) -> E1 | None: ...

    @overload
    async def wait_for(self, m1: type[E1], m2: type[E2], /, *, waiting_for: str,
                       waiting_on: WaitingOn, summary: str | None = None,
                       deadline: datetime | None = None,
                       reminders: Sequence[Series] = (),
                       stop: Callable[[], bool] | None = None) -> E1 | E2 | None: ...

    @overload
    async def wait_for(self, m1: type[E1], m2: type[E2], m3: type[E3], /,
                       *, waiting_for: str, waiting_on: WaitingOn,
                       summary: str | None = None, deadline: datetime | None = None,
                       reminders: Sequence[Series] = (),
                       stop: Callable[[], bool] | None = None) -> E1 | E2 | E3 | None: ...

    async def wait_for(self, *models: type[Event], waiting_for: str, waiting_on: WaitingOn,
                       summary: str | None = None,
                       deadline: datetime | None = None, reminders: Sequence[Series] = (),
                       stop: Callable[[], bool] | None = None) -> Event | None:
        """The one way a flow waits: for an event of one of `models` (queued or arriving),
        typed as those models; until `deadline` (None on it, or when `stop` becomes true);
        reminding on each of `reminders` when it falls due. A wait with reminders can be long:
        when the history has grown long enough it ends the run for a fresh one that resumes
        at this stage (the series carry over)."""
        if not reminders:
            return await self.next_event(models, deadline=deadline, waiting_for=waiting_for,
                                         waiting_on=waiting_on,
                                         summary=summary or f"wait for {waiting_for}", stop=stop)
        got = await wait_with_series(
            self, models, series=reminders, waiting_for=waiting_for, waiting_on=waiting_on,
            deadline=deadline,
            until=lambda: self.history_too_long() or (stop is not None and stop()))
        if got is None and self.history_too_long() and (
                deadline is None or workflow.now() < deadline):
            raise CaseInterrupted(self.fresh_history())
        return got

    async def next_event(self, models: Sequence[type[Event]], *, deadline: datetime | None,
                         waiting_for: str, summary: str, waiting_on: WaitingOn | None = None,
                         stop: Callable[[], bool] | None = None) -> Event | None:
        """Wait for an event of one of `models` until `deadline` (the reminder piece's way in;
        flows use `wait_for`)."""
        names = {m.EVENT for m in models}
        self.view.set_wait(waiting_for, deadline, waiting_on)

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

    def _settle(self) -> None:
        """Mark every event accepted so far as acted on, unless still queued: the flow is
        about to block in a wait, so Update callers may read the status."""
        self._settled_seq = self.case.event_seq
        self._consumed.clear()

    def _hazard_due(self) -> bool:
        return self.case.hazardous and not self.case.hazard_handled and not self._closing

    def check_interrupt(self) -> None:
        """Raise `CaseInterrupted` when an ops command or a cancellation ended the flow."""
        if self._interrupt is not None and not self._closing:
            raise CaseInterrupted(self._interrupt)

    async def wait(self, condition: Callable[[], bool], *, deadline: datetime | None,
                   summary: str) -> bool:
        """Wait for `condition` until `deadline` (False then); raises `CaseInterrupted` when an
        ops command or a cancellation ends the flow. Meanwhile a case that turned hazardous
        gets its safety notice and P1 dispatch first, and queued homeowner messages go out
        when their contact-hours opening comes; then the wait goes on.

        A deadline that has passed when the case wakes wins over an event that arrived in the
        same workflow task: the decision then does not depend on whether the timer or the event
        was applied first (they can come in one activation on replay and in two live)."""
        while True:
            self.check_interrupt()
            if self._hazard_due():
                await self.hazard_first()
                continue
            if self.outbox.due():
                await self.outbox.flush()
                continue
            now = workflow.now()
            wake, wake_summary = deadline, summary
            message_at = self.outbox.next_at()
            if message_at is not None and (wake is None or message_at < wake):
                wake, wake_summary = message_at, self.outbox.wait_summary()
            self.view.show_deadline(wake)
            if not self._v3:
                self._settle()  # runs recorded before v3 answered Updates at any wait
            self.view.refresh()
            # Written before the deadline check, as every run since the base batched its
            # upserts did (the command sequence of running cases).
            self.view.flush()
            if deadline is not None and deadline <= now:
                return condition()
            # The flow blocks here: Update callers may now read what their event did.
            self._settle()

            def wakes() -> bool:
                return condition() or self._interrupt is not None or self._hazard_due()

            self._wakes = wakes
            try:
                await workflow.wait_condition(
                    wakes, timeout=(wake - now) if wake is not None else None,
                    timeout_summary=wake_summary)
            except TimeoutError:
                if wake == deadline:
                    return False
                continue  # a queued message's opening
            finally:
                self._wakes = None
            self.check_interrupt()
            if self._hazard_due():
                continue
            if deadline is not None and workflow.now() >= deadline:
                return False
            return True

