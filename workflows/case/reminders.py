"""The durable reminder piece (spec 2.1): wait for an event, reminding someone on a cadence,
with each series' count and next due instant kept in the case state. A case waits with
reminders through one door, `CaseWorkflow.wait_for(..., reminders=[...])`; this module is what
that door runs.

Because the state is the case's, a second round of the same wait (a settlement declined, then
liability again) keeps counting and its reminders get new keys; a run continued as new resumes
the series at its stored due instant; a paused series (R&R's `step_blocked`) resumes with the
time that was left. Idempotency keys come from the stored count, never from a loop variable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.case import CaseState, WaitingOn
    from domain.events import Event
    from domain.reminders import Cadence, ReminderSeries, next_due

Remind = Callable[[int], Awaitable[Any]]


class ReminderHost(Protocol):
    """What the piece needs from a case workflow."""

    @property
    def case(self) -> CaseState:
        """The case state, where the series live."""
        ...

    async def next_event(self, models: Sequence[type[Event]], *, deadline: datetime | None,
                         waiting_for: str, summary: str, waiting_on: WaitingOn | None = None,
                         stop: Callable[[], bool] | None = None) -> Event | None:
        """Wait for an event of one of `models` until `deadline`."""
        ...

    async def business_calendar(self, since: date | None = None) -> list[date]:
        """The case's holiday list (for business-day cadences)."""
        ...


@dataclass(frozen=True)
class Series:
    """One reminder series of a wait: its name in the case state, its cadence, what to do each
    time it falls due (`remind(n)`, `n` the stored count), the first due instant (else one
    cadence step from the first wait), and at most `limit` reminders (None: no limit)."""

    name: str
    cadence: Cadence
    remind: Remind
    first_due: datetime | None = None
    limit: int | None = None


def _due(state: ReminderSeries) -> datetime:
    assert state.next_due is not None
    return state.next_due


async def wait_with_series(
    host: ReminderHost, models: Sequence[type[Event]], *, series: Sequence[Series],
    waiting_for: str, waiting_on: WaitingOn | None = None, deadline: datetime | None = None,
    until: Callable[[], bool] | None = None,
) -> Event | None:
    """Wait for an event of one of `models`, calling each series' `remind(n)` when it falls
    due, until `deadline`. Returns the event (the series then stop; their counts stay for the
    next round), or None when `until` became true or the deadline passed (the series stay
    running: a later wait, in this run or the next, picks them up at their stored due
    instants)."""
    states = [(s, host.case.reminder(s.name)) for s in series]
    zone = host.case.time_zone
    holidays = (await host.business_calendar()
                if any(s.cadence.business_days for s in series) else [])
    for s, state in states:
        if not state.running:
            state.next_due = s.first_due or next_due(workflow.now(), s.cadence, zone, holidays)

    def active(s: Series, state: ReminderSeries) -> bool:
        return (not state.paused and state.next_due is not None
                and (s.limit is None or state.count < s.limit))

    while True:
        if until is not None and until():
            return None
        running = [(s, st) for s, st in states if active(s, st)]
        soonest = min(running, key=lambda pair: _due(pair[1]), default=None)
        wake = soonest[1].next_due if soonest else None
        if deadline is not None and (wake is None or deadline < wake):
            wake = deadline
        paused_then = [st.paused for _, st in states]
        if soonest is not None:
            s, st = soonest
            summary = (f"wait for {waiting_for} ({s.name.replace('-', ' ')} "
                       f"{st.count + 1}, {s.cadence.describe()})"
                       if len(states) > 1 else
                       f"wait for {waiting_for} (reminder {st.count + 1}, "
                       f"{s.cadence.describe()})")
            waits_for = waiting_for
        elif any(paused_then):
            summary, waits_for = (f"wait for {waiting_for}; reminders paused",
                                  f"{waiting_for} (reminders paused)")
        else:
            summary, waits_for = f"wait for {waiting_for}", waiting_for

        def changed(then: list[bool] = paused_then) -> bool:
            return ([st.paused for _, st in states] != then
                    or (until is not None and until()))

        got = await host.next_event(models, deadline=wake, waiting_for=waits_for,
                                    waiting_on=waiting_on, summary=summary, stop=changed)
        if got is not None:
            for _, state in states:
                state.next_due = None
                state.paused = False
                state.left_when_paused = None
            return got
        for s, state in states:
            if not active(s, state) or workflow.now() < _due(state):
                continue  # paused, resumed or not due yet
            state.count += 1
            state.next_due = next_due(_due(state), s.cadence, zone, holidays)
            await s.remind(state.count)
        if deadline is not None and workflow.now() >= deadline:
            return None


def pause(series: ReminderSeries) -> None:
    """Pause a running series, keeping the time left until its next reminder."""
    if series.next_due is not None and not series.paused:
        series.left_when_paused = max(series.next_due - workflow.now(), timedelta(0))
        series.next_due = None
        series.paused = True


def resume(series: ReminderSeries) -> None:
    """Resume a paused series where it was: its next reminder after the time that was left."""
    if series.paused:
        series.paused = False
        series.next_due = workflow.now() + (series.left_when_paused or timedelta(0))
        series.left_when_paused = None
