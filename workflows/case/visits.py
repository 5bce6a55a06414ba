"""The visit part: texts with a booking link, outbound calls, the appointment, its reminder and
the wait for the field tech's outcome (spec 3.2 stages 2-6), reused by every process that
schedules a visit (the O&M case, the damage investigation).

It is a part, not a mixin: it gets the case workflow it serves, a map of stage names
(`VisitStages`: the damage claim shows `investigation`, not an O&M stage), and the outcome
event's model (O&M's `appointment_outcome`, the claim's `field_assessment`, which carries no
`appointment_id`). Its state (`VisitState`) lives in the case, with the counters of the visit
being booked and where the visit stands (`phase`), so a run continued as new during one of its
long waits resumes there. Attempting the texts and calls *is* the stage: their waits for
contact hours are the stage's own (spec 2.2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.base import describe_span
    from domain.case import CaseState, WaitingOn
    from domain.events import Event
    from domain.reminders import Cadence
    from domain.rules.contact_hours import next_call_instant, next_contact_instant
    from domain.visits import (
        Appointment,
        AppointmentScheduled,
        CallAttemptResult,
        TextOptOut,
        VisitPolicy,
        VisitState,
    )
    from workflows.case.admission import EventSpec
    from workflows.case.reminders import Series

if TYPE_CHECKING:
    from workflows.case.base import CaseWorkflow

OutcomeT = TypeVar("OutcomeT", bound=Event)
NotBooked = Literal["unreachable", "reached_not_booked", "no_usable_contact"]
Booking = Literal["booked"] | NotBooked
VisitOf = Callable[[Any], VisitState]


@dataclass(frozen=True)
class VisitStages:
    """The stage names a process shows while a visit is booked and held."""

    ready: str = "ready_for_scheduling"
    texts: str = "self_scheduling_texts"
    calls: str = "outbound_calls"
    scheduled: str = "appointment_scheduled"
    findings: str = "pending_appt_findings"

    @property
    def booking(self) -> frozenset[str]:
        """The stages in which an appointment may be booked."""
        return frozenset({self.ready, self.texts, self.calls})

    @property
    def all(self) -> frozenset[str]:
        """Every stage of a visit."""
        return self.booking | {self.scheduled, self.findings}


OM_STAGES = VisitStages()


def text_opt_out_spec(visit_of: VisitOf) -> EventSpec:
    """STOP from the homeowner, recorded at once in any open stage; processes that do not text
    right now take it too, so a later visit still respects it."""

    def opt_out(case: CaseState, _: Event) -> None:
        visit_of(case).text_opted_out = True

    return EventSpec(TextOptOut, apply=opt_out, flow=False)


def visit_event_specs(outcome_model: type[Event], visit_of: VisitOf,
                      stages: VisitStages = OM_STAGES) -> list[EventSpec]:
    """The events the visit part takes, for a process's `EVENTS` table."""

    def outcome_fits(case: CaseState, event: Any) -> str | None:
        appt = visit_of(case).appointment
        if appt is None:
            return "there is no appointment on this case"
        given = getattr(event, "appointment_id", None)
        if given is not None and given != appt.appointment_id:
            return (f"appointment_id {given!r} is not the case's current appointment "
                    f"{appt.appointment_id!r}")
        return None

    def call_fits(case: CaseState, _: Event) -> str | None:
        if visit_of(case).calls_placed == 0:
            return "no call attempt has been made yet for this visit"
        return None

    return [
        text_opt_out_spec(visit_of),
        EventSpec(CallAttemptResult, stages=frozenset({stages.calls}), check=call_fits),
        EventSpec(AppointmentScheduled, stages=stages.booking | {stages.scheduled}),
        EventSpec(outcome_model, stages=frozenset({stages.scheduled, stages.findings}),
                  check=outcome_fits),
    ]


class VisitScheduling(Generic[OutcomeT]):
    """Books a visit with the homeowner and waits for its outcome, for one case."""

    def __init__(self, host: CaseWorkflow[Any], *, state: VisitState, policy: VisitPolicy,
                 outcome: type[OutcomeT], stages: VisitStages = OM_STAGES,
                 case_manager: str = "case_manager") -> None:
        self.host = host
        self.state = state
        self.policy = policy
        self.outcome = outcome
        self.stages = stages
        self.case_manager = case_manager

    @property
    def _zone(self) -> str | None:
        case: CaseState = self.host.case
        return case.time_zone

    async def visit(self, *, skip_texts: bool = False) -> OutcomeT | NotBooked:
        """One visit, from booking to the field tech's outcome, or why it was not booked; a
        visit in progress (a run continued as new during its long waits) resumes where it
        stood."""
        v = self.state
        if v.phase is None:
            booking = await self.book_visit(skip_texts=skip_texts)
            if booking != "booked":
                v.phase = None
                return booking
        elif v.phase == "booking":
            booking = await self._texts_then_calls(skip_texts)
            if booking != "booked":
                v.phase = None
                return booking
        elif v.phase == "promised":
            await self._await_promised_booking()
        outcome = await self.await_outcome()
        v.phase = None
        return outcome

    # ---- booking --------------------------------------------------------------------------

    async def book_visit(self, *, skip_texts: bool = False) -> Booking:
        """Texts, then calls, until an appointment is booked or every attempt is spent."""
        v = self.state
        v.visit_no += 1
        v.appointment = None
        v.reached_by_phone = False
        v.booking_promised = False
        v.texts_sent = 0
        v.calls_placed = 0
        v.last_call_at = None
        v.reminders_sent = 0
        v.phase = "booking"
        self.host.enter_stage(self.stages.ready)
        if await self._take_appointment(workflow.now(), waiting_for="appointment booking",
                                        summary="take an already booked appointment"):
            return "booked"
        return await self._texts_then_calls(skip_texts)

    async def _texts_then_calls(self, skip_texts: bool) -> Booking:
        if not skip_texts:
            texted = await self._texts()
            if texted != "not_booked":
                return texted
        return await self._calls()

    def _stop_texting(self) -> bool:
        return self.state.text_opted_out or self.host.case.hazardous

    def _opted_out(self) -> bool:
        return self.state.text_opted_out

    def _appointment_pending(self) -> bool:
        return any(p.name == AppointmentScheduled.EVENT for p in self.host.case.pending)

    async def _take_appointment(self, until: datetime, *, waiting_for: str, summary: str,
                                calls: bool = False, texting: bool = False,
                                waiting_on: WaitingOn = "homeowner") -> bool:
        """Wait until `until` for a booked appointment (True), taking call results on the way
        (`calls`); while texting, a STOP or a hazard ends the wait early."""
        stop = self._stop_texting if texting else None
        got: AppointmentScheduled | CallAttemptResult | None
        if calls:
            got = await self.host.wait_for(AppointmentScheduled, CallAttemptResult,
                                           deadline=until, waiting_for=waiting_for,
                                           waiting_on=waiting_on, summary=summary, stop=stop)
        else:
            got = await self.host.wait_for(AppointmentScheduled, deadline=until,
                                           waiting_for=waiting_for, waiting_on=waiting_on,
                                           summary=summary, stop=stop)
        if isinstance(got, AppointmentScheduled):
            self._set_appointment(got)
            return True
        if isinstance(got, CallAttemptResult):
            self._on_call_result(got)
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

    async def _texts(self) -> Literal["booked", "not_booked", "no_usable_contact"]:
        p, v = self.policy, self.state
        if self._stop_texting() or p.text_attempts == 0:
            return "not_booked"
        self.host.enter_stage(self.stages.texts)
        while v.texts_sent < p.text_attempts:
            n = v.texts_sent + 1
            send_at = next_contact_instant(workflow.now(), self._zone, p.contact_hours)
            if send_at > workflow.now() and await self._take_appointment(
                    send_at, waiting_for=f"contact hours for text {n}", texting=True,
                    waiting_on="schedule",
                    summary=f"wait for contact hours before text attempt {n} of "
                            f"{p.text_attempts}"):
                return "booked"
            if self._stop_texting():
                return "not_booked"
            sent = await self.host.contact.send(
                "text", "self_scheduling_link", self.host.key(f"visit{v.visit_no}", "text", n),
                f"text attempt {n} of {p.text_attempts}", unless=self._appointment_pending,
                attempt=str(n))
            if sent == "failed":
                return "no_usable_contact"
            if sent == "sent":
                v.texts_sent = n
                self.host.case.bump("texts")
            # A STOP that arrived with the text's completion ends texting now, not in 48 h.
            if self._stop_texting():
                return "not_booked"
            wait = p.text_interval if n < p.text_attempts else p.wait_after_last_text
            if await self._take_appointment(
                    workflow.now() + wait, waiting_for="self-scheduled appointment",
                    texting=True,
                    summary=f"wait {describe_span(wait)} for booking after text {n} of "
                            f"{p.text_attempts}"):
                return "booked"
        return "not_booked"

    async def _next_call_at(self) -> datetime:
        p, v = self.policy, self.state
        hazardous = self.host.case.hazardous
        holidays = [] if hazardous else await self.host.business_calendar()
        return next_call_instant(
            workflow.now(), v.last_call_at, self._zone, p.contact_hours, holidays,
            hazardous=hazardous, spacing_business_days=p.call_spacing_business_days,
            hazard_spacing_days=p.hazard_call_spacing_days)

    async def _calls(self) -> Booking:
        p, v = self.policy, self.state
        if p.call_attempts > 0:
            self.host.enter_stage(self.stages.calls)
        while v.calls_placed < p.call_attempts and not v.booking_promised:
            n = v.calls_placed + 1
            call_at = await self._next_call_at()
            if call_at > workflow.now() and await self._take_appointment(
                    call_at, waiting_for=f"contact hours for call {n}", calls=True,
                    waiting_on="schedule",
                    summary=f"wait for call attempt {n} of {p.call_attempts}"):
                return "booked"
            if v.booking_promised:
                break
            # Counted before the dialer task is queued: the dialer's result may arrive in the
            # same workflow task as the task's completion, and must find its call.
            v.calls_placed = n
            v.last_call_at = workflow.now()
            self.host.case.bump("calls")
            sent = await self.host.contact.send(
                "call_task", "outbound_call", self.host.key(f"visit{v.visit_no}", "call", n),
                f"call attempt {n} of {p.call_attempts}", attempt=str(n))
            if sent == "failed":
                return "no_usable_contact"
            window_end = await self._next_call_at()
            while not v.booking_promised and workflow.now() < window_end:
                if await self._take_appointment(
                        window_end, waiting_for=f"result of call attempt {n}", calls=True,
                        summary=f"wait for result of call attempt {n} of {p.call_attempts}"):
                    return "booked"
        if v.booking_promised:
            await self._await_promised_booking()
            return "booked"
        return "reached_not_booked" if v.reached_by_phone else "unreachable"

    async def _await_promised_booking(self) -> None:
        """The homeowner booked on the phone; the appointment itself is still to arrive."""
        v = self.state
        v.phase = "promised"
        visit = v.visit_no

        async def remind(n: int) -> None:
            await self.host.effects.assign(
                self.host.key(f"visit{visit}", "booking-reminder", n), self.case_manager,
                "homeowner booked by phone; appointment not received",
                summary=f"booking reminder {n} to the case manager")

        got = await self.host.wait_for(
            AppointmentScheduled, waiting_for="appointment details after phone booking",
            waiting_on="case_manager",
            reminders=[Series(f"visit{visit}-booking",
                              Cadence(every=self.policy.outcome_reminder_after), remind)])
        self._set_appointment(got)

    # ---- the appointment ---------------------------------------------------------------

    async def await_outcome(self) -> OutcomeT:
        """From booking to the field tech's outcome event: the reminder text before the window
        (inside contact hours, never after the window has begun), then the wait for the outcome
        with reminders to the case manager."""
        p, v = self.policy, self.state
        if v.phase != "findings":
            early = await self._appointment()
            if early is not None:
                return early
        self.host.enter_stage(self.stages.findings)
        v.phase = "findings"
        appt = v.appointment
        assert appt is not None
        visit = v.visit_no

        async def remind(n: int) -> None:
            await self.host.effects.assign(
                self.host.key(f"visit{visit}", "outcome-reminder", n), self.case_manager,
                "no appointment outcome received", summary=f"outcome reminder {n} to the case "
                                                           "manager")

        return await self.host.wait_for(
            self.outcome, waiting_for="appointment outcome from the field tech",
            waiting_on="field_tech",
            reminders=[Series(f"visit{visit}-outcome", Cadence(every=p.outcome_reminder_after),
                              remind, first_due=appt.window_end + p.outcome_reminder_after)])

    async def _appointment(self) -> OutcomeT | None:
        """Until the appointment window: its reminder text, reschedules; an outcome that
        arrives before the window is returned."""
        p, v = self.policy, self.state
        self.host.enter_stage(self.stages.scheduled)
        v.phase = "scheduled"
        while True:
            appt = v.appointment
            assert appt is not None
            window = f"{appt.appointment_id}@{appt.window_start.isoformat()}"
            remind_at = next_contact_instant(
                max(workflow.now(), appt.window_start - p.appointment_reminder_before),
                self._zone, p.contact_hours)
            due_reminder = (window not in v.reminded_appointments and not v.text_opted_out
                            and remind_at < appt.window_start)
            target = remind_at if due_reminder else appt.window_start
            got = await self.host.wait_for(
                AppointmentScheduled, self.outcome, deadline=target,
                waiting_for="appointment reminder time" if due_reminder else "appointment window",
                waiting_on="schedule",
                summary="wait for the appointment reminder time" if due_reminder
                else "wait for the appointment window")
            if isinstance(got, AppointmentScheduled):
                self._set_appointment(got)  # rescheduled
                self.host.case.bump("reschedules")
                continue
            if got is not None:
                return got
            if due_reminder:
                v.reminders_sent += 1
                v.reminded_appointments.append(window)
                # Sent because its due instant (before the window, inside contact hours) was
                # reached; not compared with the clock at wake-up, which a worker that ran the
                # case forward while answering a query may see differently from a replay.
                await self.host.contact.send(
                    "text", "appointment_reminder",
                    self.host.key(f"visit{v.visit_no}", "appointment-reminder", v.reminders_sent),
                    "appointment reminder text", unless=self._opted_out)
                continue
            return None
