"""The visit-scheduling piece: texts with a booking link, outbound calls, the appointment, its
reminder and the wait for the field tech's outcome (spec 3.2 stages 2-6).

Every process that schedules a visit uses this one piece (O&M now, the damage investigation
of spec 3.4 next): it owns its stages, its events (`visit_event_specs`) and its part of the
case state (`VisitState`), and works through the case base's waits and side-effect helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.base import describe_span
    from domain.case import CaseState
    from domain.events import Event
    from domain.rules.contact_hours import (
        next_business_contact_instant,
        next_contact_instant,
        opening_after_business_days,
    )
    from domain.visits import (
        Appointment,
        AppointmentScheduled,
        CallAttemptResult,
        TextOptOut,
        VisitPolicy,
        VisitState,
    )
    from workflows.case_base import CaseWorkflow, EventSpec

READY = "ready_for_scheduling"
TEXTS = "self_scheduling_texts"
CALLS = "outbound_calls"
SCHEDULED = "appointment_scheduled"
FINDINGS = "pending_appt_findings"
SCHEDULING_STAGES = frozenset({READY, TEXTS, CALLS})

Booking = Literal["booked", "unreachable", "reached_not_booked"]
VisitOf = Callable[[Any], VisitState]


def text_opt_out_spec(visit_of: VisitOf) -> EventSpec:
    """STOP from the homeowner, recorded at once in any open stage; processes that do not
    text right now take it too, so a later visit still respects it."""

    def opt_out(case: CaseState, _: Event) -> None:
        visit_of(case).text_opted_out = True

    return EventSpec(TextOptOut, apply=opt_out, flow=False)


def visit_event_specs(outcome_event: str, outcome_model: type[Event],
                      visit_of: VisitOf) -> dict[str, EventSpec]:
    """The events the scheduling piece takes, for a process's `EVENTS` table."""

    def outcome_fits(case: CaseState, event: Any) -> str | None:
        appt = visit_of(case).appointment
        if appt is None:
            return "there is no appointment on this case"
        if event.appointment_id != appt.appointment_id:
            return (f"appointment_id {event.appointment_id!r} is not the case's current "
                    f"appointment {appt.appointment_id!r}")
        return None

    def call_fits(case: CaseState, _: Event) -> str | None:
        if case.attempts.get("calls", 0) == 0:
            return "no call attempt has been made yet"
        return None

    return {
        "text_opt_out": text_opt_out_spec(visit_of),
        "call_attempt_result": EventSpec(CallAttemptResult, stages=frozenset({CALLS}),
                                         check=call_fits),
        "appointment_scheduled": EventSpec(AppointmentScheduled,
                                           stages=SCHEDULING_STAGES | {SCHEDULED}),
        outcome_event: EventSpec(outcome_model, stages=frozenset({SCHEDULED, FINDINGS}),
                                 check=outcome_fits),
    }


class VisitScheduling:
    """Books a visit with the homeowner and waits for its outcome, for one case workflow."""

    def __init__(self, host: CaseWorkflow[Any], *, state: VisitState, policy: VisitPolicy,
                 time_zone: str, holidays: list[date], outcome_event: str,
                 case_manager: str = "case_manager") -> None:
        self.host = host
        self.state = state
        self.policy = policy
        self.time_zone = time_zone
        self.holidays = holidays
        self.outcome_event = outcome_event
        self.case_manager = case_manager

    # ---- booking --------------------------------------------------------------------------

    async def book_visit(self, *, skip_texts: bool = False) -> Booking:
        """Texts, then calls, until an appointment is booked or every attempt is spent."""
        v = self.state
        v.visit_no += 1
        v.appointment = None
        v.reached_by_phone = False
        v.booking_promised = False
        self.host.enter_stage(READY)
        if await self._take_appointment(workflow.now(), waiting_for="appointment booking",
                                        summary="take an already booked appointment"):
            return "booked"
        if not skip_texts and await self._texts():
            return "booked"
        return await self._calls()

    async def _take_appointment(self, until: datetime, *, waiting_for: str, summary: str,
                                also: frozenset[str] = frozenset()) -> bool:
        """Wait until `until` for a booked appointment (True), taking call results on the way
        (`also`); an opt-out during the texts ends the wait early."""
        opted_before = self.state.text_opted_out
        got = await self.host.next_event(
            {"appointment_scheduled", *also}, timeout=until - workflow.now(), deadline=until,
            waiting_for=waiting_for, summary=summary,
            stop=lambda: self.state.text_opted_out and not opted_before)
        if got is None:
            return False
        name, event = got
        if name == "appointment_scheduled":
            self._set_appointment(event)
            return True
        self._on_call_result(event)
        return False

    def _set_appointment(self, event: AppointmentScheduled) -> None:
        self.state.appointment = Appointment(appointment_id=event.appointment_id,
                                             window_start=event.window_start,
                                             window_end=event.window_end)

    def _on_call_result(self, event: CallAttemptResult) -> None:
        if event.reached:
            self.state.reached_by_phone = True
            self.host.case.bump("calls_reached")
        if event.reached and event.scheduled:
            self.state.booking_promised = True

    async def _texts(self) -> bool:
        p, v = self.policy, self.state
        if v.text_opted_out or p.text_attempts == 0:
            return False
        self.host.enter_stage(TEXTS)
        for n in range(1, p.text_attempts + 1):
            if v.text_opted_out:
                return False
            send_at = next_contact_instant(workflow.now(), self.time_zone, p.contact_hours)
            if send_at > workflow.now() and await self._take_appointment(
                    send_at, waiting_for=f"contact hours for text {n}",
                    summary=f"wait for contact hours before text attempt {n} of "
                            f"{p.text_attempts}"):
                return True
            if v.text_opted_out:
                return False
            await self.host.notify(
                self.host.key(f"visit{v.visit_no}", "text", n), "text", "self_scheduling_link",
                f"text attempt {n} of {p.text_attempts}", attempt=str(n))
            self.host.case.bump("texts")
            wait = p.text_interval if n < p.text_attempts else p.wait_after_last_text
            if await self._take_appointment(
                    workflow.now() + wait, waiting_for="self-scheduled appointment",
                    summary=f"wait {describe_span(wait)} for booking after text {n} of "
                            f"{p.text_attempts}"):
                return True
        return False

    async def _calls(self) -> Booking:
        p, v = self.policy, self.state
        if p.call_attempts > 0:
            self.host.enter_stage(CALLS)
        last_call: datetime | None = None
        for n in range(1, p.call_attempts + 1):
            call_at = next_business_contact_instant(workflow.now(), self.time_zone,
                                                    p.contact_hours, self.holidays)
            if last_call is not None:
                call_at = max(call_at, opening_after_business_days(
                    last_call, 1, self.time_zone, p.contact_hours, self.holidays))
            if call_at > workflow.now() and await self._take_appointment(
                    call_at, waiting_for=f"business-day contact hours for call {n}",
                    summary=f"wait for call attempt {n} of {p.call_attempts}",
                    also=frozenset({"call_attempt_result"})):
                return "booked"
            await self.host.notify(
                self.host.key(f"visit{v.visit_no}", "call", n), "call_task", "outbound_call",
                f"call attempt {n} of {p.call_attempts}", attempt=str(n))
            self.host.case.bump("calls")
            last_call = workflow.now()
            window_end = opening_after_business_days(last_call, 1, self.time_zone,
                                                     p.contact_hours, self.holidays)
            while not v.booking_promised and workflow.now() < window_end:
                if await self._take_appointment(
                        window_end, waiting_for=f"result of call attempt {n}",
                        summary=f"wait for result of call attempt {n} of {p.call_attempts}",
                        also=frozenset({"call_attempt_result"})):
                    return "booked"
            if v.booking_promised:
                break
        if v.booking_promised:
            await self._await_promised_booking()
            return "booked"
        return "reached_not_booked" if v.reached_by_phone else "unreachable"

    async def _await_promised_booking(self) -> None:
        """The homeowner booked on the phone; the appointment itself is still to arrive."""
        p = self.policy

        async def remind(k: int) -> None:
            await self.host.assign(
                self.host.key(f"visit{self.state.visit_no}", "booking-reminder", k),
                self.case_manager, "homeowner booked by phone; appointment not received",
                summary=f"booking reminder {k} to the case manager")

        _, event = await self.host.wait_with_reminders(
            {"appointment_scheduled"}, every=p.outcome_reminder_after,
            waiting_for="appointment details after phone booking", first_at=None, remind=remind)
        self._set_appointment(event)

    # ---- the appointment ---------------------------------------------------------------

    async def await_outcome(self) -> Any:
        """From booking to the field tech's outcome event: the reminder text before the window,
        then the wait for the outcome with reminders to the case manager."""
        p, v = self.policy, self.state
        self.host.enter_stage(SCHEDULED)
        names = {"appointment_scheduled", self.outcome_event}
        while True:
            appt = v.appointment
            assert appt is not None
            remind_at = next_contact_instant(appt.window_start - p.appointment_reminder_before,
                                             self.time_zone, p.contact_hours)
            due_reminder = (appt.appointment_id not in v.reminded_appointments
                            and not v.text_opted_out and remind_at < appt.window_start)
            target = remind_at if due_reminder else appt.window_start
            got = await self.host.next_event(
                names, timeout=target - workflow.now(), deadline=target,
                waiting_for="appointment reminder time" if due_reminder else "appointment window",
                summary="wait for the appointment reminder time" if due_reminder
                else "wait for the appointment window")
            if got is not None:
                name, event = got
                if name == self.outcome_event:
                    return event
                self._set_appointment(event)  # rescheduled
                self.host.case.bump("reschedules")
                continue
            if due_reminder:
                if not v.text_opted_out:
                    await self.host.notify(
                        self.host.key("appointment", appt.appointment_id, "reminder"), "text",
                        "appointment_reminder", "appointment reminder text")
                v.reminded_appointments.append(appt.appointment_id)
                continue
            break
        self.host.enter_stage(FINDINGS)
        appt = v.appointment
        assert appt is not None

        async def remind(k: int) -> None:
            await self.host.assign(
                self.host.key("appointment", appt.appointment_id, "outcome-reminder", k),
                self.case_manager, "no appointment outcome received",
                summary=f"outcome reminder {k} to the case manager")

        _, event = await self.host.wait_with_reminders(
            {self.outcome_event}, every=p.outcome_reminder_after,
            waiting_for="appointment outcome from the field tech",
            first_at=appt.window_end + p.outcome_reminder_after, remind=remind)
        return event

