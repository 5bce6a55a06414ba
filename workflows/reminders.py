"""The durable reminder piece (spec 2.1): wait for an event, reminding someone on a cadence,
with the series' count and next due instant kept in the case state.

Because the state is the case's, a second round of the same wait (a settlement declined, then
liability again) keeps counting and its reminders get new keys; a run continued as new resumes
the series at its stored due instant; a paused series (R&R's `step_blocked`) resumes with the
time that was left. Idempotency keys come from the stored count, never from a loop variable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol, overload

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.case import CaseState
    from domain.events import Event
    from domain.reminders import Cadence, ReminderSeries, next_due

Remind = Callable[[int], Awaitable[Any]]


class ReminderHost(Protocol):
    """What the piece needs from a case workflow."""

    @property
    def case(self) -> CaseState:
        """The case state, where the series live."""
        ...

    async def next_event(self, *models: type[Event], deadline: datetime | None,
                         waiting_for: str, summary: str,
                         stop: Callable[[], bool] | None = None) -> Event | None:
        """Wait for an event of one of `models` until `deadline`."""
        ...

    async def business_calendar(self) -> list[date]:
        """The case's holiday list (for business-day cadences)."""
        ...


@overload
async def wait_with_reminders(
    host: ReminderHost, *models: type[Event], series: str, cadence: Cadence, waiting_for: str,
    remind: Remind, first_due: datetime | None = None, until: None = None,
) -> Event: ...


@overload
async def wait_with_reminders(
    host: ReminderHost, *models: type[Event], series: str, cadence: Cadence, waiting_for: str,
    remind: Remind, first_due: datetime | None = None, until: Callable[[], bool],
) -> Event | None: ...


async def wait_with_reminders(
    host: ReminderHost, *models: type[Event], series: str, cadence: Cadence, waiting_for: str,
    remind: Remind, first_due: datetime | None = None, until: Callable[[], bool] | None = None,
) -> Event | None:
    """Wait, with no end, for an event of one of `models`; call `remind(n)` each time the series
    falls due (`first_due`, else one cadence step from now), `n` being the series' stored count.
    Returns the event; the series then stops (its count stays, for the next round). Returns
    None when `until` becomes true first (the case is about to continue as new): the series
    stays running, and the next run's wait picks it up at its stored due instant."""
    state = host.case.reminder(series)
    holidays = await host.business_calendar() if cadence.business_days else []
    zone = host.case.time_zone or "UTC"
    if not state.running:
        state.next_due = first_due or next_due(workflow.now(), cadence, zone, holidays)
    while True:
        if until is not None and until():
            return None
        if state.paused:
            got = await host.next_event(
                *models, deadline=None, waiting_for=f"{waiting_for} (reminders paused)",
                summary=f"wait for {waiting_for}; reminders paused",
                stop=lambda: not state.paused or (until is not None and until()))
        else:
            assert state.next_due is not None
            got = await host.next_event(
                *models, deadline=state.next_due, waiting_for=waiting_for,
                summary=f"wait for {waiting_for} (reminder {state.count + 1}, "
                        f"{cadence.describe()})",
                stop=lambda: state.paused or (until is not None and until()))
        if got is not None:
            state.next_due = None
            state.paused = False
            state.left_when_paused = None
            return got
        if state.paused or state.next_due is None or workflow.now() < state.next_due:
            continue  # paused, resumed or stopped while waiting
        state.count += 1
        due = state.next_due
        state.next_due = next_due(due, cadence, zone, holidays)
        await remind(state.count)


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
